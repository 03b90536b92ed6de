/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), the serialisation OpenCTI hashes into ids.
 *
 * OpenCTI uses the npm `canonicalize` package. That package ships as an ES module whose export map
 * offers only an `import` condition, so this CommonJS project (Lambda bundles, jest, tsx) cannot
 * `require` it. JCS is short to state, so it is implemented here; a test compares this function
 * with the package, run in a child ES-module process, on generated inputs.
 *
 * JCS in brief: object keys sorted by UTF-16 code units, no whitespace, strings and numbers written
 * as ECMAScript `JSON.stringify` writes them. Values JSON cannot carry are refused rather than
 * silently changed, because a silently changed input would hash to a wrong id.
 */
import { StixInputError } from './errors';

const SURROGATE = /[\uD800-\uDFFF]/;

export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new StixInputError('canonical JSON', 'cannot hold NaN or Infinity', value);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') {
    // The native scan first: a string with no surrogate at all (nearly every one) needs no pairing check.
    if (SURROGATE.test(value) && hasLoneSurrogate(value)) {
      throw new StixInputError(
        'canonical JSON',
        'cannot hold a string with an unpaired UTF-16 surrogate',
        value,
      );
    }
    return JSON.stringify(value);
  }
  if (typeof value !== 'object') {
    throw new StixInputError('canonical JSON', `cannot hold a ${typeof value}`);
  }
  if (ancestors.has(value)) throw new StixInputError('canonical JSON', 'cannot hold a circular structure');
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') {
    ancestors.add(value);
    const text = write(withJson.toJSON(), ancestors);
    ancestors.delete(value);
    return text;
  }
  ancestors.add(value);
  let text: string;
  if (Array.isArray(value)) {
    // As JSON.stringify does: holes and undefined items become null.
    text = `[${Array.from(value, (item: unknown) => write(item === undefined ? null : item, ancestors)).join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort() // default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires
      .map((key) => `${write(key, ancestors)}:${write(record[key], ancestors)}`);
    text = `{${members.join(',')}}`;
  }
  ancestors.delete(value);
  return text;
}

/** True when the string holds a high or low surrogate without its partner (not valid UTF-8). */
export function hasLoneSurrogate(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      index += 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return true;
    }
  }
  return false;
}
