/**
 * The smallest shared STIX vocabulary: what every module may rely on without depending on the
 * builders. Builders and the full object types live beside this file.
 */

/** Any STIX 2.1 object as received or produced: an id, a type and further properties. */
export interface StixObject {
  id: string;
  type: string;
  spec_version?: string;
  [property: string]: unknown;
}

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

/** STIX types of the observables this product enriches. */
export const OBSERVABLE_STIX_TYPES = ['ipv4-addr', 'ipv6-addr', 'domain-name', 'hostname', 'url'] as const;
export type ObservableStixType = (typeof OBSERVABLE_STIX_TYPES)[number];

/** OpenCTI entity type of each observable STIX type (scope and main observable type use these). */
export const ENTITY_TYPE_OF: Readonly<Record<ObservableStixType, string>> = {
  'ipv4-addr': 'IPv4-Addr',
  'ipv6-addr': 'IPv6-Addr',
  'domain-name': 'Domain-Name',
  hostname: 'Hostname',
  url: 'Url',
};
