/**
 * Deterministic STIX ids computed exactly as OpenCTI 6.9.17 computes `standard_id`
 * (docs/opencti.md §11): take the type's contributing properties, normalise them, drop the empty
 * ones, serialise with RFC 8785 and hash with UUID v5 in the OASIS namespace.
 *
 * Matching OpenCTI matters: an object whose id OpenCTI would compute differently still merges on
 * import, but references to it resolve only through the id OpenCTI stored, so every id here must
 * be the platform's own.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { ObservableStixType } from './core';
import { StixInputError } from './errors';
import { checkedObservableValue } from './observables';
import { toStixTime, type TimeInput } from './time';

/** Namespace of every STIX object id (meta, domain, observable, relationship). */
export const OASIS_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** Namespace OpenCTI uses for its internal (non-STIX) objects. */
export const OPENCTI_NAMESPACE = 'b639ff3b-00eb-42ed-aa36-a8dd6f8fb4cf';

// The type part is matched lazily: a greedy `[a-z0-9-]+` would first swallow the whole uuid and
// backtrack through it, which made this test three times slower (every ref of every object is
// checked). Both forms accept exactly the same strings.
const STIX_ID =
  /^[a-z][a-z0-9-]+?[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Ids already seen to be well-formed. The same few ids (the observable, the author, the markings)
 * are checked again for every object that refers to them; a set lookup is far cheaper than the
 * pattern. The answer depends on the string alone, so remembering it changes nothing; the set is
 * emptied when it reaches its bound, so a long-lived process does not grow it without end.
 */
const wellFormedIds = new Set<string>();
const MAX_REMEMBERED_IDS = 2048;

/** Whether a string has the shape of a STIX identifier (`type--uuid`). */
export function isStixId(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (wellFormedIds.has(value)) return true;
  if (!STIX_ID.test(value)) return false;
  if (wellFormedIds.size >= MAX_REMEMBERED_IDS) wellFormedIds.clear();
  wellFormedIds.add(value);
  return true;
}

const namespaceBytes = new Map<string, Buffer>();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The bytes hashed for an id: namespace then name, written into one reused buffer. */
let scratch = Buffer.allocUnsafe(1024);
/** Names longer than this are hashed from a buffer of their own, so that one never stays allocated. */
const MAX_SCRATCH = 64 * 1024;

/** The RFC 9562 variant digit (10xx) for each hex digit the hash gives at that place. */
const VARIANT_DIGIT: Readonly<Record<string, string>> = Object.fromEntries(
  [...'0123456789abcdef'].map((digit) => [digit, ((parseInt(digit, 16) & 0x3) | 0x8).toString(16)]),
);

/**
 * UUID v5 (RFC 9562 §5.5) of `name` in `namespace`, the value the `uuid` package's v5 gives.
 * Every object of every bundle gets an id, so this is one one-shot `crypto.hash` over a reused
 * buffer, with the version and variant written into the hex text: the package's generic v5 (and
 * a streaming `createHash`) allocated several objects per id and made most of its cost (bench/,
 * section 1). `name` is canonical JSON, which holds no lone surrogate, so its UTF-8 encoding is
 * the one the package hashes.
 */
function uuidV5(name: string, namespace: string): string {
  let ns = namespaceBytes.get(namespace);
  if (!ns) {
    if (!UUID.test(namespace)) throw new TypeError(`Invalid UUID namespace: ${namespace}`);
    ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
    namespaceBytes.set(namespace, ns);
  }
  // A UTF-16 code unit never takes more than three UTF-8 bytes.
  const most = 16 + name.length * 3;
  if (most > scratch.length && most <= MAX_SCRATCH) scratch = Buffer.allocUnsafe(most);
  let bytes: Buffer;
  if (most <= scratch.length) {
    ns.copy(scratch, 0);
    bytes = scratch.subarray(0, 16 + scratch.write(name, 16, 'utf8'));
  } else {
    bytes = Buffer.concat([ns, Buffer.from(name, 'utf8')]);
  }
  const hex = hash('sha1', bytes, 'hex');
  // Digit 12 holds the version (5), digit 16 the variant bits.
  return (
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-` +
    `${VARIANT_DIGIT[hex[16]!]!}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  );
}

/** `undefined`, `null`, `''`, `[]` and `{}` do not contribute to an id (OpenCTI drops them). */
function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.length === 0;
  return !(value instanceof Date) && Object.keys(value).length === 0;
}

/** Whether the keys are in the order RFC 8785 writes them (UTF-16 code units, as `sort()` compares). */
function isSorted(keys: string[]): boolean {
  for (let index = 1; index < keys.length; index += 1) if (keys[index - 1]! > keys[index]!) return false;
  return true;
}

/** Property names in canonical form; ids use a dozen names, each written for every object. */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = canonicalJson(key);
    // Callers may hash arbitrary names: only the first few (ours) are kept.
    if (quotedKeys.size < 64) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * The id of a STIX object from its already-normalised contributing properties. Empty values are
 * dropped; when nothing is left there is no id to compute and StixInputError is thrown.
 */
export function generateId(
  stixType: string,
  contributing: Record<string, unknown>,
  namespace: string = OASIS_NAMESPACE,
): string {
  // The canonical JSON of the non-empty properties, written in one pass (as canonicalJson would).
  // The id functions below list their keys in order, which spares a sort (it copies the list).
  const keys = Object.keys(contributing);
  if (!isSorted(keys)) keys.sort();
  let text = '{';
  for (const key of keys) {
    const value = contributing[key];
    if (isEmptyValue(value)) continue;
    const name = quotedKey(key);
    text += `${text.length === 1 ? '' : ','}${name}:${canonicalJson(value)}`;
  }
  if (text.length === 1) {
    throw new StixInputError(`${stixType} id`, 'needs at least one non-empty contributing property');
  }
  return `${stixType}--${uuidV5(`${text}}`, namespace)}`;
}

/** OpenCTI's name normalisation for SDOs, labels and identity classes: lower-case, then trim. */
export function normaliseName(name: string): string {
  return name.toLowerCase().trim();
}

// ---- observables ------------------------------------------------------------------------------

/** Id of a value observable (`{value}`); domain names are lower-cased first, as OpenCTI stores them. */
export function observableId(type: ObservableStixType, value: string): string {
  return generateId(type, { value: checkedObservableValue(type, value) });
}

export function autonomousSystemId(number: number): string {
  if (!Number.isSafeInteger(number) || number < 0 || number > 4294967295) {
    throw new StixInputError(
      'autonomous-system number',
      'must be an integer between 0 and 4294967295',
      number,
    );
  }
  return generateId('autonomous-system', { number });
}

export interface SoftwareIdInput {
  name?: string;
  cpe?: string;
  swid?: string;
  vendor?: string;
  version?: string;
}

/** Software hashes its five identifying properties raw, keeping those present. */
export function softwareId(p: SoftwareIdInput): string {
  // Written in key order, which spares generateId a sort (the order does not change the id).
  return generateId('software', {
    cpe: p.cpe,
    name: p.name,
    swid: p.swid,
    vendor: p.vendor,
    version: p.version,
  });
}

/** Priority of the one hash that identifies a hashed observable (OpenCTI hashes resolver). */
export const HASH_PRIORITY = [
  'MD5',
  'SHA-1',
  'SHA-256',
  'SHA-512',
  'SHA3-256',
  'SHA3-512',
  'SSDEEP',
] as const;

/** The single `{KEY: value}` OpenCTI hashes: keys upper-cased, first present by HASH_PRIORITY. */
export function identifyingHash(
  hashes: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!hashes) return undefined;
  const upper = new Map(Object.entries(hashes).map(([key, value]) => [key.toUpperCase(), value]));
  for (const key of HASH_PRIORITY) {
    const value = upper.get(key);
    if (value) return { [key]: value };
  }
  return undefined;
}

export interface X509IdInput {
  hashes?: Record<string, string>;
  serial_number?: string;
  subject?: string;
}

/** X.509 certificates use the first of: one hash, else serial_number, else subject. */
export function x509CertificateId(p: X509IdInput): string {
  const ways: Array<Record<string, unknown>> = [
    { hashes: identifyingHash(p.hashes) },
    { serial_number: p.serial_number },
    { subject: p.subject },
  ];
  const way = ways.find((candidate) => Object.values(candidate).some((value) => !isEmptyValue(value)));
  if (!way) {
    throw new StixInputError('x509-certificate id', 'needs a known hash, a serial_number or a subject');
  }
  return generateId('x509-certificate', way);
}

// ---- domain objects ---------------------------------------------------------------------------

function requiredName(field: string, name: string): string {
  const normalised = typeof name === 'string' ? normaliseName(name) : '';
  if (normalised === '') throw new StixInputError(field, 'must be a non-empty name', name);
  return normalised;
}

/** Id of an SDO identified by its name alone (Malware, Infrastructure, Tool, Campaign, …). */
export function namedObjectId(stixType: string, name: string): string {
  return generateId(stixType, { name: requiredName(`${stixType} name`, name) });
}

export function vulnerabilityId(name: string): string {
  return namedObjectId('vulnerability', name);
}

export type LocationType = 'Country' | 'City' | 'Region';

/** Locations hash the normalised name and the location type, the type kept as written. */
export function locationId(name: string, type: LocationType): string {
  return generateId('location', { name: requiredName('location name', name), x_opencti_location_type: type });
}

/** Identities hash name and identity_class, both lower-cased and trimmed. */
export function identityId(name: string, identityClass: string): string {
  return generateId('identity', {
    name: requiredName('identity name', name),
    identity_class: normaliseName(identityClass),
  });
}

export function organizationId(name: string): string {
  return identityId(name, 'organization');
}

/** Threat-Actor-Group ids also carry OpenCTI's entity type, so they differ from Individuals'. */
export function threatActorGroupId(name: string): string {
  return generateId('threat-actor', {
    name: requiredName('threat-actor name', name),
    opencti_type: 'Threat-Actor-Group',
  });
}

/** Indicators hash the pattern raw: not trimmed, not re-formatted. */
export function indicatorId(pattern: string): string {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new StixInputError('indicator pattern', 'must be a non-empty string', pattern);
  }
  return generateId('indicator', { pattern });
}

/** Notes hash content (not trimmed) and, when given, the creation time. */
export function noteId(content: string, created?: TimeInput): string {
  if (typeof content !== 'string' || content === '') {
    throw new StixInputError('note content', 'must be a non-empty string', content);
  }
  return generateId('note', {
    content,
    created: created === undefined ? undefined : toStixTime(created, 'note created'),
  });
}

// ---- relationships ----------------------------------------------------------------------------

function requiredRef(field: string, ref: string): string {
  if (typeof ref !== 'string' || ref === '') throw new StixInputError(field, 'must be a non-empty id', ref);
  return ref;
}

/**
 * Relationship ids hash the type, the standard ids of both ends and the optional start/stop times.
 * The refs are used as given: pass the platform standard_ids, or the id will not match.
 */
export function relationshipId(
  type: string,
  sourceRef: string,
  targetRef: string,
  startTime?: TimeInput,
  stopTime?: TimeInput,
): string {
  if (typeof type !== 'string' || type === '') {
    throw new StixInputError('relationship_type', 'must be a non-empty string', type);
  }
  const source = requiredRef('relationship source_ref', sourceRef);
  const target = requiredRef('relationship target_ref', targetRef);
  const start = startTime === undefined ? undefined : toStixTime(startTime, 'relationship start_time');
  const stop = stopTime === undefined ? undefined : toStixTime(stopTime, 'relationship stop_time');
  // Written in key order, which spares generateId a sort (the order does not change the id).
  return generateId('relationship', {
    relationship_type: type,
    source_ref: source,
    start_time: start,
    stop_time: stop,
    target_ref: target,
  });
}

/** Sighting ids hash `type: "sighting"`, what was sighted, the one place it was sighted, and times. */
export function sightingId(
  sightingOfRef: string,
  whereSightedRef: string,
  firstSeen?: TimeInput,
  lastSeen?: TimeInput,
): string {
  return generateId('sighting', {
    type: 'sighting',
    sighting_of_ref: requiredRef('sighting sighting_of_ref', sightingOfRef),
    where_sighted_refs: [requiredRef('sighting where_sighted_refs', whereSightedRef)],
    first_seen: firstSeen === undefined ? undefined : toStixTime(firstSeen, 'sighting first_seen'),
    last_seen: lastSeen === undefined ? undefined : toStixTime(lastSeen, 'sighting last_seen'),
  });
}

// ---- meta objects -----------------------------------------------------------------------------

export function labelId(value: string): string {
  return generateId('label', { value: requiredName('label value', value) });
}

export interface ExternalReferenceIdInput {
  url?: string;
  source_name?: string;
  external_id?: string;
}

/** External references hash the url when there is one, else source_name with external_id. */
export function externalReferenceId(ref: ExternalReferenceIdInput): string {
  if (!isEmptyValue(ref.url)) return generateId('external-reference', { url: ref.url });
  if (isEmptyValue(ref.source_name) || isEmptyValue(ref.external_id)) {
    throw new StixInputError('external-reference id', 'needs a url, or a source_name with an external_id');
  }
  return generateId('external-reference', { source_name: ref.source_name, external_id: ref.external_id });
}
