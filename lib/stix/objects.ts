/**
 * The STIX 2.1 objects this product emits, with the OpenCTI custom properties it relies on
 * (docs/opencti.md §12). Builders in builders.ts are the only intended way to make them, so the
 * ids and the required properties always agree.
 */
import type { ObservableStixType, StixObject } from './core';
import type { LocationType } from './ids';

export interface ExternalReference {
  source_name: string;
  url?: string;
  external_id?: string;
  description?: string;
}

/** Properties every SCO may carry; OpenCTI reads SCO score, labels and author from them. */
export interface ScoCommonProperties {
  object_marking_refs?: string[];
  created_by_ref?: string;
  x_opencti_created_by_ref?: string;
  x_opencti_score?: number;
  x_opencti_description?: string;
  labels?: string[];
  x_opencti_labels?: string[];
  external_references?: ExternalReference[];
}

export interface ScoCommon extends StixObject, ScoCommonProperties {
  spec_version: '2.1';
}

export interface ValueObservableOf<T extends ObservableStixType> extends ScoCommon {
  type: T;
  value: string;
}
export type Ipv4Addr = ValueObservableOf<'ipv4-addr'>;
export type Ipv6Addr = ValueObservableOf<'ipv6-addr'>;
export type DomainName = ValueObservableOf<'domain-name'>;
/** OpenCTI custom SCO (STIX type `hostname`), id from `{value}` like the standard ones. */
export type Hostname = ValueObservableOf<'hostname'>;
export type Url = ValueObservableOf<'url'>;
export type ValueObservable = Ipv4Addr | Ipv6Addr | DomainName | Hostname | Url;

export interface AutonomousSystem extends ScoCommon {
  type: 'autonomous-system';
  number: number;
  name?: string;
  rir?: string;
}

export interface X509Certificate extends ScoCommon {
  type: 'x509-certificate';
  hashes?: Record<string, string>;
  serial_number?: string;
  subject?: string;
  issuer?: string;
  validity_not_before?: string;
  validity_not_after?: string;
}

export interface Software extends ScoCommon {
  type: 'software';
  name: string;
  cpe?: string;
  swid?: string;
  vendor?: string;
  version?: string;
}

/** Properties every SDO and SRO carries. */
export interface SdoCommonProperties {
  created: string;
  modified: string;
  created_by_ref?: string;
  object_marking_refs?: string[];
  labels?: string[];
  external_references?: ExternalReference[];
  confidence?: number;
  description?: string;
}

export interface SdoCommon extends StixObject, SdoCommonProperties {
  spec_version: '2.1';
}

export interface Identity extends SdoCommon {
  type: 'identity';
  name: string;
  identity_class: 'organization' | 'individual' | 'class' | 'system' | 'group' | 'unknown';
  x_opencti_organization_type?: string;
}

export interface Location extends SdoCommon {
  type: 'location';
  name: string;
  x_opencti_location_type: LocationType;
  x_opencti_aliases?: string[];
  country?: string;
  region?: string;
  latitude?: number;
  longitude?: number;
}

export interface Vulnerability extends SdoCommon {
  type: 'vulnerability';
  name: string;
  x_opencti_cvss_base_score?: number;
  x_opencti_cvss_vector_string?: string;
}

export interface Indicator extends SdoCommon {
  type: 'indicator';
  name: string;
  pattern: string;
  pattern_type: 'stix';
  pattern_version: '2.1';
  valid_from: string;
  valid_until: string;
  indicator_types?: string[];
  x_opencti_score?: number;
  x_opencti_main_observable_type: string;
  x_opencti_detection?: boolean;
}

export interface Note extends SdoCommon {
  type: 'note';
  content: string;
  abstract?: string;
  object_refs: string[];
}

/** The relationship types this product creates (all valid OpenCTI core relationships). */
export const RELATIONSHIP_TYPES = [
  'belongs-to',
  'located-at',
  'resolves-to',
  'related-to',
  'has',
  'based-on',
  'communicates-with',
] as const;
export type RelationshipType = (typeof RELATIONSHIP_TYPES)[number];

export interface Relationship extends SdoCommon {
  type: 'relationship';
  relationship_type: RelationshipType;
  source_ref: string;
  target_ref: string;
  start_time?: string;
  stop_time?: string;
}

export interface Sighting extends SdoCommon {
  type: 'sighting';
  sighting_of_ref: string;
  where_sighted_refs: [string];
  first_seen?: string;
  last_seen?: string;
  count?: number;
}
