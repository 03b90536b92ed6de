/**
 * Builders for every STIX object this product emits. Each one checks its input, fills in what
 * STIX 2.1 and OpenCTI require, and computes the object's id with ids.ts from the very values it
 * emits, so an object and its id can never disagree. Bad input raises StixInputError.
 */
import type { ObservableStixType } from './core';
import { StixInputError } from './errors';
import {
  autonomousSystemId,
  generateId,
  indicatorId,
  isStixId,
  locationId,
  namedObjectId,
  normaliseName,
  noteId,
  organizationId,
  relationshipId,
  sightingId,
  softwareId,
  x509CertificateId,
} from './ids';
import { TLP_MARKINGS, type MarkingDefinition, type TlpLevel } from './markings';
import {
  RELATIONSHIP_TYPES,
  type AutonomousSystem,
  type DomainName,
  type ExternalReference,
  type Hostname,
  type Identity,
  type Indicator,
  type Ipv4Addr,
  type Ipv6Addr,
  type Location,
  type Note,
  type Relationship,
  type RelationshipType,
  type ScoCommonProperties,
  type SdoCommonProperties,
  type Sighting,
  type Software,
  type Url,
  type ValueObservable,
  type ValueObservableOf,
  type Vulnerability,
  type X509Certificate,
} from './objects';
import { checkedObservableValue } from './observables';
import { stixTime, toStixTime, type TimeInput } from './time';

// ---- option bags ------------------------------------------------------------------------------

/** What any SCO may carry besides its own properties. */
export interface ScoOptions {
  markingRefs?: string[];
  createdByRef?: string;
  /** OpenCTI score, an integer 0-100. */
  score?: number;
  description?: string;
  labels?: string[];
  externalReferences?: ExternalReference[];
}

/** What any SDO or SRO carries besides its own properties. */
export interface SdoOptions {
  markingRefs?: string[];
  createdByRef?: string;
  created: Date;
  /** Defaults to `created`; never earlier than it. */
  modified?: Date;
  labels?: string[];
  externalReferences?: ExternalReference[];
  description?: string;
  /** STIX confidence, an integer 0-100. */
  confidence?: number;
}

// ---- shared checks ----------------------------------------------------------------------------

/** Drops undefined properties and empty lists: STIX forbids empty lists, JSON would keep them. */
function compact<T extends object>(object: T): T {
  // A plain loop without entry arrays: every object of every bundle passes here, some twice.
  const kept: Record<string, unknown> = {};
  for (const key in object) {
    const value = (object as Record<string, unknown>)[key];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) kept[key] = value;
  }
  return kept as T;
}

/**
 * The items without repeats, first occurrence kept. Lists here mostly hold a handful of markings
 * or labels, for which a scan is cheaper than building a Set (every object of a bundle has some).
 */
function unique<T>(items: readonly T[]): T[] {
  if (items.length > 16) return [...new Set(items)];
  const kept: T[] = [];
  for (const item of items) if (!kept.includes(item)) kept.push(item);
  return kept;
}

function nonEmptyText(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new StixInputError(field, 'must be a string', value);
  return value.trim() === '' ? undefined : value;
}

function requiredText(field: string, value: string): string {
  const text = nonEmptyText(field, value);
  if (text === undefined) throw new StixInputError(field, 'must be a non-empty string', value);
  return text;
}

function integerInRange(
  field: string,
  value: number | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new StixInputError(field, `must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

function numberInRange(
  field: string,
  value: number | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new StixInputError(field, `must be a number from ${min} to ${max}`, value);
  }
  return value;
}

function refOfType(field: string, ref: string, prefix: string): string {
  if (!isStixId(ref) || !ref.startsWith(`${prefix}--`)) {
    throw new StixInputError(field, `must be a ${prefix} id (${prefix}--<uuid>)`, ref);
  }
  return ref;
}

function anyRef(field: string, ref: string): string {
  if (!isStixId(ref)) throw new StixInputError(field, 'must be a STIX id (<type>--<uuid>)', ref);
  return ref;
}

function markingRefs(refs: string[] | undefined): string[] | undefined {
  return refs && unique(refs.map((ref) => refOfType('object_marking_refs item', ref, 'marking-definition')));
}

function authorRef(ref: string | undefined): string | undefined {
  return ref === undefined ? undefined : refOfType('created_by_ref', ref, 'identity');
}

/** Labels as OpenCTI stores them: lower-cased, trimmed, without blanks or repeats. */
function normaliseLabels(labels: string[] | undefined): string[] | undefined {
  if (labels === undefined) return undefined;
  return unique(labels.map((label) => normaliseName(requiredText('label', label))));
}

function externalReference(ref: ExternalReference): ExternalReference {
  const clean = compact({
    source_name: requiredText('external reference source_name', ref.source_name),
    url: nonEmptyText('external reference url', ref.url),
    external_id: nonEmptyText('external reference external_id', ref.external_id),
    description: nonEmptyText('external reference description', ref.description),
  });
  if (clean.url !== undefined && !URL.canParse(clean.url)) {
    throw new StixInputError('external reference url', 'must be an absolute URL', clean.url);
  }
  if (clean.url === undefined && clean.external_id === undefined && clean.description === undefined) {
    throw new StixInputError('external reference', 'needs a url, an external_id or a description', ref);
  }
  return clean;
}

/** Checked references; a repeat (same source_name, url and external_id) is dropped. */
function externalReferences(refs: ExternalReference[] | undefined): ExternalReference[] | undefined {
  if (refs === undefined) return undefined;
  // Nearly every object has one reference: only several need keys to find repeats.
  if (refs.length <= 1) return refs.map(externalReference);
  const seen = new Set<string>();
  const result: ExternalReference[] = [];
  for (const ref of refs) {
    const clean = externalReference(ref);
    const key = JSON.stringify([clean.source_name, clean.url, clean.external_id]);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(clean);
    }
  }
  return result;
}

function scoProperties(options: ScoOptions = {}): ScoCommonProperties {
  const labels = normaliseLabels(options.labels);
  const author = authorRef(options.createdByRef);
  return compact({
    object_marking_refs: markingRefs(options.markingRefs),
    created_by_ref: author,
    // pycti reads either name; both are written so every OpenCTI version finds the author.
    x_opencti_created_by_ref: author,
    x_opencti_score: integerInRange('x_opencti_score', options.score, 0, 100),
    x_opencti_description: nonEmptyText('x_opencti_description', options.description),
    labels,
    x_opencti_labels: labels,
    external_references: externalReferences(options.externalReferences),
  });
}

function sdoProperties(options: SdoOptions): SdoCommonProperties {
  if (!options || !(options.created instanceof Date)) {
    throw new StixInputError('created', 'is required and must be a Date', options?.created);
  }
  const created = stixTime(options.created);
  const modified = stixTime(options.modified ?? options.created);
  if (modified < created)
    throw new StixInputError('modified', `must not be earlier than created (${created})`, modified);
  return compact({
    created,
    modified,
    created_by_ref: authorRef(options.createdByRef),
    object_marking_refs: markingRefs(options.markingRefs),
    labels: normaliseLabels(options.labels),
    external_references: externalReferences(options.externalReferences),
    confidence: integerInRange('confidence', options.confidence, 0, 100),
    description: nonEmptyText('description', options.description),
  });
}

// ---- observables (SCOs) -----------------------------------------------------------------------

function valueObservable<T extends ObservableStixType>(type: T, value: string, options?: ScoOptions) {
  const stored = checkedObservableValue(type, value);
  const object = {
    type,
    spec_version: '2.1',
    id: generateId(type, { value: stored }),
    value: stored,
    ...scoProperties(options),
  };
  return object as ValueObservableOf<T>;
}

export function ipv4Addr(value: string, options?: ScoOptions): Ipv4Addr {
  return valueObservable('ipv4-addr', value, options);
}

export function ipv6Addr(value: string, options?: ScoOptions): Ipv6Addr {
  return valueObservable('ipv6-addr', value, options);
}

/** The value is lower-cased, as OpenCTI stores domain names. */
export function domainName(value: string, options?: ScoOptions): DomainName {
  return valueObservable('domain-name', value, options);
}

/**
 * The value is kept as given: OpenCTI 6.9.17 stores and hashes host names unchanged, so an
 * existing Hostname keeps its id. Lower-case new host names yourself (they were lower-cased by
 * 6.7.2-6.7.7, so lower-case ones match on every version).
 */
export function hostname(value: string, options?: ScoOptions): Hostname {
  return valueObservable('hostname', value, options);
}

export function url(value: string, options?: ScoOptions): Url {
  return valueObservable('url', value, options);
}

/** The value observable of the given type. */
export function observable(type: ObservableStixType, value: string, options?: ScoOptions): ValueObservable {
  return valueObservable(type, value, options);
}

export function autonomousSystem(
  input: { number: number; name?: string; rir?: string },
  options?: ScoOptions,
): AutonomousSystem {
  return {
    type: 'autonomous-system',
    spec_version: '2.1',
    id: autonomousSystemId(input.number),
    ...compact({
      number: input.number,
      name: nonEmptyText('autonomous-system name', input.name),
      rir: nonEmptyText('autonomous-system rir', input.rir),
    }),
    ...scoProperties(options),
  };
}

/** STIX hash names by their spelling without case or separators (sha256 → SHA-256). */
const STIX_HASH_NAMES: ReadonlyMap<string, string> = new Map(
  ['MD5', 'SHA-1', 'SHA-256', 'SHA-512', 'SHA3-256', 'SHA3-512', 'SSDEEP', 'TLSH'].map((name) => [
    name.replace(/[-_]/g, ''),
    name,
  ]),
);

function stixHashes(hashes: Record<string, string> | undefined): Record<string, string> | undefined {
  if (hashes === undefined) return undefined;
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(hashes)) {
    const text = nonEmptyText(`hash ${key}`, value);
    if (text === undefined) continue;
    result[STIX_HASH_NAMES.get(key.toUpperCase().replace(/[-_]/g, '')) ?? key] = text;
  }
  return Object.keys(result).length === 0 ? undefined : result;
}

export interface X509CertificateInput {
  hashes?: Record<string, string>;
  serial_number?: string;
  subject?: string;
  issuer?: string;
  validity_not_before?: TimeInput;
  validity_not_after?: TimeInput;
}

/** Hash names are written the STIX way (sha256 → SHA-256) before the id is computed from them. */
export function x509Certificate(input: X509CertificateInput, options?: ScoOptions): X509Certificate {
  const properties = compact({
    hashes: stixHashes(input.hashes),
    serial_number: nonEmptyText('x509 serial_number', input.serial_number),
    subject: nonEmptyText('x509 subject', input.subject),
    issuer: nonEmptyText('x509 issuer', input.issuer),
    validity_not_before:
      input.validity_not_before === undefined
        ? undefined
        : toStixTime(input.validity_not_before, 'x509 validity_not_before'),
    validity_not_after:
      input.validity_not_after === undefined
        ? undefined
        : toStixTime(input.validity_not_after, 'x509 validity_not_after'),
  });
  return {
    type: 'x509-certificate',
    spec_version: '2.1',
    id: x509CertificateId(properties),
    ...properties,
    ...scoProperties(options),
  };
}

/** A CPE 2.3 formatted string has 13 colon-separated components (escaped colons excepted). */
function isCpe23(cpe: string): boolean {
  return /^cpe:2\.3:[aho*-]:/.test(cpe) && cpe.split(/(?<!\\):/).length === 13;
}

export function software(
  input: { name: string; cpe?: string; swid?: string; vendor?: string; version?: string },
  options?: ScoOptions,
): Software {
  const cpe = nonEmptyText('software cpe', input.cpe);
  if (cpe !== undefined && !isCpe23(cpe)) {
    throw new StixInputError(
      'software cpe',
      'must be a CPE 2.3 formatted string (cpe:2.3:part:vendor:…); omit it otherwise',
      cpe,
    );
  }
  const properties = compact({
    name: requiredText('software name', input.name),
    cpe,
    swid: nonEmptyText('software swid', input.swid),
    vendor: nonEmptyText('software vendor', input.vendor),
    version: nonEmptyText('software version', input.version),
  });
  return {
    type: 'software',
    spec_version: '2.1',
    id: softwareId(properties),
    ...properties,
    ...scoProperties(options),
  };
}

// ---- domain objects (SDOs) ----------------------------------------------------------------------

export function organization(name: string, options: SdoOptions & { organizationType?: string }): Identity {
  const clean = requiredText('organization name', name).trim();
  return {
    type: 'identity',
    spec_version: '2.1',
    id: organizationId(clean),
    name: clean,
    identity_class: 'organization',
    ...compact({ x_opencti_organization_type: nonEmptyText('organizationType', options.organizationType) }),
    ...sdoProperties(options),
  };
}

function locationBase(name: string, type: Location['x_opencti_location_type']) {
  const clean = requiredText(`${type} name`, name).trim();
  return {
    type: 'location',
    spec_version: '2.1',
    id: locationId(clean, type),
    name: clean,
    x_opencti_location_type: type,
  };
}

/**
 * A Country. Use the geography dataset's name (e.g. "United States of America") so the id
 * matches OpenCTI's own country. STIX needs `country` (or region / coordinates): it holds the ISO
 * 3166-1 alpha-2 code, given as `iso2` or found among the aliases, else the name.
 */
export function country(
  input: { name: string; aliases?: string[]; iso2?: string },
  options: SdoOptions,
): Location {
  const aliases =
    input.aliases && unique(input.aliases.map((alias) => requiredText('country alias', alias).trim()));
  const iso2 =
    input.iso2 === undefined
      ? aliases?.find((alias) => /^[A-Z]{2}$/.test(alias))
      : input.iso2.trim().toUpperCase();
  if (iso2 !== undefined && !/^[A-Z]{2}$/.test(iso2)) {
    throw new StixInputError('country iso2', 'must be a two-letter ISO 3166-1 code', input.iso2);
  }
  const base = locationBase(input.name, 'Country');
  return {
    ...base,
    ...compact({ x_opencti_aliases: aliases, country: iso2 ?? base.name }),
    ...sdoProperties(options),
  } as Location;
}

/**
 * A City. STIX requires a City to carry coordinates or a country: give latitude and longitude
 * together, or `country` (ISO 3166-1 alpha-2); with neither, StixInputError is thrown.
 */
export function city(
  input: { name: string; latitude?: number; longitude?: number; country?: string },
  options: SdoOptions,
): Location {
  const latitude = numberInRange('city latitude', input.latitude, -90, 90);
  const longitude = numberInRange('city longitude', input.longitude, -180, 180);
  if ((latitude === undefined) !== (longitude === undefined)) {
    throw new StixInputError('city coordinates', 'need both latitude and longitude, or neither', input);
  }
  const countryCode = input.country?.trim().toUpperCase();
  if (countryCode !== undefined && !/^[A-Z]{2}$/.test(countryCode)) {
    throw new StixInputError('city country', 'must be a two-letter ISO 3166-1 code', input.country);
  }
  if (latitude === undefined && countryCode === undefined) {
    throw new StixInputError('city', 'needs latitude and longitude, or a country code', input.name);
  }
  return {
    ...locationBase(input.name, 'City'),
    ...compact({ latitude, longitude, country: countryCode }),
    ...sdoProperties(options),
  } as Location;
}

/** A Region; `region` holds the name in the STIX region vocabulary's form ("Eastern Asia" → "eastern-asia"). */
export function region(name: string, options: SdoOptions): Location {
  const base = locationBase(name, 'Region');
  return {
    ...base,
    region:
      base.name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || base.name,
    ...sdoProperties(options),
  } as Location;
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/i;

/** A CVE name is upper-cased and gets its `cve` reference with the NVD page. */
export function vulnerability(
  input: { name: string; cvssScore?: number; cvssVector?: string; description?: string },
  options: SdoOptions,
): Vulnerability {
  const raw = requiredText('vulnerability name', input.name).trim();
  const isCve = CVE_ID.test(raw);
  const name = isCve ? raw.toUpperCase() : raw;
  const references: ExternalReference[] = [
    ...(isCve
      ? [{ source_name: 'cve', external_id: name, url: `https://nvd.nist.gov/vuln/detail/${name}` }]
      : []),
    ...(options.externalReferences ?? []),
  ];
  return {
    type: 'vulnerability',
    spec_version: '2.1',
    id: namedObjectId('vulnerability', name),
    name,
    ...compact({
      x_opencti_cvss_base_score: numberInRange('cvssScore', input.cvssScore, 0, 10),
      x_opencti_cvss_vector_string: nonEmptyText('cvssVector', input.cvssVector),
    }),
    ...sdoProperties({
      ...options,
      description: input.description ?? options.description,
      externalReferences: references,
    }),
  };
}

export interface IndicatorInput {
  pattern: string;
  name: string;
  validFrom: Date;
  validUntil: Date;
  /** OpenCTI score, an integer 0-100. */
  score?: number;
  /** OpenCTI entity type of the observable the pattern matches, e.g. 'IPv4-Addr'. */
  mainObservableType: string;
  detection?: boolean;
  /** STIX indicator-type-ov values, e.g. ['malicious-activity']. */
  indicatorTypes?: string[];
}

export function indicator(input: IndicatorInput, options: SdoOptions): Indicator {
  const pattern = requiredText('indicator pattern', input.pattern);
  const validFrom = stixTime(input.validFrom);
  const validUntil = stixTime(input.validUntil);
  if (validUntil <= validFrom) {
    throw new StixInputError(
      'indicator validUntil',
      `must be later than validFrom (${validFrom})`,
      validUntil,
    );
  }
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: indicatorId(pattern),
    name: requiredText('indicator name', input.name),
    pattern,
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: validFrom,
    valid_until: validUntil,
    ...compact({
      indicator_types:
        input.indicatorTypes && unique(input.indicatorTypes.map((t) => requiredText('indicator type', t))),
      x_opencti_score: integerInRange('indicator score', input.score, 0, 100),
      x_opencti_main_observable_type: requiredText('mainObservableType', input.mainObservableType),
      x_opencti_detection: input.detection,
    }),
    ...sdoProperties(options),
  };
}

/** A Note about `objectRefs`; OpenCTI refuses content shorter than two characters. */
export function note(
  input: { content: string; abstract?: string; objectRefs: string[] },
  options: SdoOptions,
): Note {
  const content = requiredText('note content', input.content);
  if (content.length < 2) throw new StixInputError('note content', 'must be at least 2 characters', content);
  const objectRefs = unique((input.objectRefs ?? []).map((ref) => anyRef('note object_refs item', ref)));
  if (objectRefs.length === 0) throw new StixInputError('note objectRefs', 'must name at least one object');
  const properties = sdoProperties(options);
  return {
    type: 'note',
    spec_version: '2.1',
    id: noteId(content, properties.created),
    content,
    ...compact({ abstract: nonEmptyText('note abstract', input.abstract) }),
    object_refs: objectRefs,
    ...properties,
  };
}

// ---- relationships (SROs) -------------------------------------------------------------------------

export interface RelationshipOptions extends SdoOptions {
  startTime?: Date;
  /** Must be later than startTime. */
  stopTime?: Date;
}

/** A relationship; pass the standard ids of both ends, or the id will not be OpenCTI's. */
export function relationship(
  type: RelationshipType,
  sourceRef: string,
  targetRef: string,
  options: RelationshipOptions,
): Relationship {
  if (!(RELATIONSHIP_TYPES as readonly string[]).includes(type)) {
    throw new StixInputError('relationship_type', `must be one of ${RELATIONSHIP_TYPES.join(', ')}`, type);
  }
  const source = anyRef('relationship source_ref', sourceRef);
  const target = anyRef('relationship target_ref', targetRef);
  const startTime = options.startTime === undefined ? undefined : stixTime(options.startTime);
  const stopTime = options.stopTime === undefined ? undefined : stixTime(options.stopTime);
  if (startTime !== undefined && stopTime !== undefined && stopTime <= startTime) {
    throw new StixInputError(
      'relationship stopTime',
      `must be later than startTime (${startTime})`,
      stopTime,
    );
  }
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: relationshipId(type, source, target, startTime, stopTime),
    relationship_type: type,
    source_ref: source,
    target_ref: target,
    ...compact({ start_time: startTime, stop_time: stopTime }),
    ...sdoProperties(options),
  };
}

export interface SightingOptions extends SdoOptions {
  firstSeen?: Date;
  lastSeen?: Date;
  count?: number;
}

/** A sighting of an object at one place (an identity or a location). */
export function sighting(sightingOfRef: string, whereSightedRef: string, options: SightingOptions): Sighting {
  const of = anyRef('sighting sighting_of_ref', sightingOfRef);
  const where = anyRef('sighting where_sighted_refs item', whereSightedRef);
  if (!/^(identity|location)--/.test(where)) {
    throw new StixInputError('sighting where_sighted_refs item', 'must be an identity or location id', where);
  }
  const firstSeen = options.firstSeen === undefined ? undefined : stixTime(options.firstSeen);
  const lastSeen = options.lastSeen === undefined ? undefined : stixTime(options.lastSeen);
  if (firstSeen !== undefined && lastSeen !== undefined && lastSeen < firstSeen) {
    throw new StixInputError(
      'sighting lastSeen',
      `must not be earlier than firstSeen (${firstSeen})`,
      lastSeen,
    );
  }
  return {
    type: 'sighting',
    spec_version: '2.1',
    id: sightingId(of, where, firstSeen, lastSeen),
    sighting_of_ref: of,
    where_sighted_refs: [where],
    ...compact({
      first_seen: firstSeen,
      last_seen: lastSeen,
      count: integerInRange('sighting count', options.count, 0, 999999999),
    }),
    ...sdoProperties(options),
  };
}

// ---- markings -----------------------------------------------------------------------------------

/** The marking-definition object of a TLP level, to put in a bundle beside objects that use it. */
export function markingDefinition(level: TlpLevel): MarkingDefinition {
  return TLP_MARKINGS[level];
}
