/**
 * STIX 2.1 validation for tests: the OASIS JSON schemas (draft 2020-12, tests/fixtures/reference/stix2-json-schemas)
 * compiled once per test process, plus the checks the schemas cannot make (dangling references,
 * duplicate ids, OpenCTI custom observables).
 *
 *   import { expectValidBundle, validateBundle, validateStixObject } from '../helpers/stix-validator';
 *
 * Errors come back as readable strings ("objects[2] location--…: /latitude must be <= 90"); an
 * empty list means valid.
 *
 * Why objects are not checked through the OASIS bundle.json: its catch-all branch for types it
 * does not list accepts an object only if exactly one of core.json (SDO) and
 * cyber-observable-core.json (SCO) matches, and a complete SDO matches both. So every Location
 * and Note (both missing from its list) would be rejected. Each object is instead validated
 * against the schema of its own type, and the envelope against the bundle rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { domainToASCII } from 'node:url';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { danglingRefs } from '../../lib/stix/bundle';
import type { StixBundle } from '../../lib/stix/core';

const SCHEMA_ROOT = path.resolve(__dirname, '../fixtures/reference/stix2-json-schemas/schemas');
const SCHEMA_BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';
const CORE = `${SCHEMA_BASE}common/core.json`;
const SCO_CORE = `${SCHEMA_BASE}common/cyber-observable-core.json`;

/**
 * OpenCTI's own observable types (docs/opencti.md §13). They are custom SCOs: validated against
 * the cyber-observable core, and those listed with `value` must carry a non-empty string value.
 */
export const OPENCTI_CUSTOM_SCO_TYPES: ReadonlySet<string> = new Set([
  'hostname',
  'text',
  'cryptographic-key',
  'cryptocurrency-wallet',
  'user-agent',
  'bank-account',
  'phone-number',
  'credential',
  'tracking-number',
  'payment-card',
  'media-content',
  'persona',
  'ssh-key',
]);
const VALUE_SCO_TYPES = new Set([
  'hostname',
  'text',
  'cryptographic-key',
  'cryptocurrency-wallet',
  'user-agent',
  'phone-number',
  'credential',
  'tracking-number',
]);

interface Compiled {
  /** Validator of each STIX type that has its own OASIS schema. */
  byType: Map<string, ValidateFunction>;
  core: ValidateFunction;
  scoCore: ValidateFunction;
  envelope: ValidateFunction;
}

let compiled: Compiled | undefined;

function schemaFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return schemaFiles(full);
    return entry.name.endsWith('.json') ? [full] : [];
  });
}

/** idn-hostname (domain-name values) is not in ajv-formats: DNS labels checked on the punycode form. */
function isIdnHostname(value: string): boolean {
  if (value.length === 0 || value.endsWith('.') || /[\s\p{Cc}]/u.test(value)) return false;
  const ascii = domainToASCII(value);
  if (ascii === '' || ascii.length > 253) return false;
  return ascii.split('.').every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

function compile(): Compiled {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ strict: false, unicodeRegExp: false, allErrors: false });
  addFormats(ajv);
  ajv.addFormat('idn-hostname', isIdnHostname);
  const byType = new Map<string, ValidateFunction>();
  const typed: Array<[string, string]> = [];
  for (const file of schemaFiles(SCHEMA_ROOT)) {
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    const folder = path.basename(path.dirname(file));
    const name = path.basename(file, '.json');
    const isObjectSchema =
      folder !== 'common' ||
      ['marking-definition', 'language-content', 'extension-definition'].includes(name);
    if (isObjectSchema) typed.push([name, schema.$id]);
  }
  const get = (id: string): ValidateFunction => {
    const validate = ajv.getSchema(id);
    if (!validate) throw new Error(`STIX schema ${id} did not load from ${SCHEMA_ROOT}`);
    return validate;
  };
  for (const [type, id] of typed) byType.set(type, get(id));
  const envelope = ajv.compile({
    type: 'object',
    required: ['type', 'id', 'objects'],
    properties: {
      type: { const: 'bundle' },
      id: { allOf: [{ $ref: `${SCHEMA_BASE}common/identifier.json` }, { pattern: '^bundle--' }] },
      objects: { type: 'array', minItems: 1, items: { type: 'object', required: ['type', 'id'] } },
    },
  });
  compiled = { byType, core: get(CORE), scoCore: get(SCO_CORE), envelope };
  return compiled;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(object)' : error.instancePath;
  const params = Object.entries(error.params)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return `${where} ${error.message ?? 'is invalid'}${params ? ` (${params})` : ''}`;
}

function run(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return [...new Set((validate.errors ?? []).map(describeError))];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What would go on the wire: undefined properties dropped, Dates as strings. */
function asJson(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** Errors of one STIX object against the OASIS schema of its type (custom types: the core schemas). */
export function validateStixObject(value: unknown): string[] {
  return checkObject(asJson(value));
}

function checkObject(object: unknown): string[] {
  if (!isRecord(object) || typeof object.type !== 'string')
    return ['(object) must be an object with a string type'];
  const { byType, core, scoCore } = compile();
  const { type, id } = object;
  const errors: string[] = [];
  if (typeof id !== 'string' || !id.startsWith(`${type}--`)) errors.push(`/id must start with "${type}--"`);
  const own = byType.get(type);
  if (own) {
    errors.push(...run(own, object));
  } else if (OPENCTI_CUSTOM_SCO_TYPES.has(type)) {
    errors.push(...run(scoCore, object));
    if (VALUE_SCO_TYPES.has(type) && (typeof object.value !== 'string' || object.value === '')) {
      errors.push(`/value must be a non-empty string for the OpenCTI ${type} observable`);
    }
  } else {
    // Any other custom type: an SDO if it has the SDO timestamps, else an SCO.
    errors.push(...run('created' in object ? core : scoCore, object));
  }
  const score = object.x_opencti_score;
  if (
    score !== undefined &&
    !(Number.isInteger(score) && (score as number) >= 0 && (score as number) <= 100)
  ) {
    errors.push('/x_opencti_score must be an integer from 0 to 100 (OpenCTI score)');
  }
  return errors;
}

export interface BundleValidationOptions {
  /** Ids that exist in OpenCTI already, so references to them are not dangling. */
  knownRefs?: Iterable<string>;
}

/** Errors of a bundle: envelope, every object, duplicate ids and dangling references. */
export function validateBundle(value: unknown, options: BundleValidationOptions = {}): string[] {
  const { envelope } = compile();
  const bundle = asJson(value);
  const errors = run(envelope, bundle).map((error) => `bundle ${error}`);
  if (errors.length > 0) return errors;
  const { objects } = bundle as StixBundle;
  const seen = new Set<string>();
  objects.forEach((object, index) => {
    const label = `objects[${index}] ${String(object.id)}`;
    if (seen.has(object.id)) errors.push(`${label}: duplicate id in the bundle`);
    seen.add(object.id);
    errors.push(...checkObject(object).map((error) => `${label}: ${error}`));
  });
  for (const ref of danglingRefs(bundle as StixBundle, new Set(options.knownRefs ?? []))) {
    errors.push(`dangling reference: ${ref} is neither in the bundle nor a static TLP marking`);
  }
  return errors;
}

/** Jest assertion: the bundle is valid (the failure message lists every error). */
export function expectValidBundle(bundle: unknown, options?: BundleValidationOptions): void {
  expect(validateBundle(bundle, options)).toEqual([]);
}

/** Jest assertion: the object is valid against its OASIS schema. */
export function expectValidStixObject(object: unknown): void {
  expect(validateStixObject(object)).toEqual([]);
}
