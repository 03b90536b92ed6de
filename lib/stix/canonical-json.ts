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
 *
 * Every id of every bundle passes here, so the writer appends to one string and allocates the
 * circular-structure guard only when it meets an object (most inputs are flat strings).
 */
import { StixInputError } from './errors';

const SURROGATE = /[\uD800-\uDFFF]/;
/** What JSON.stringify escapes in a string: quote, backslash, controls (and lone surrogates). */
// eslint-disable-next-line no-control-regex -- the controls are exactly what it looks for
const ESCAPED = /["\\\u0000-\u001F\uD800-\uDFFF]/;

export function canonicalJson(value: unknown): string {
  return write(value, undefined);
}

/** A string as JCS writes it; one holding a lone surrogate has no UTF-8 form and is refused. */
function canonicalString(value: string): string {
  // Nearly every string holds nothing to escape, and then JSON.stringify would only add quotes.
  if (!ESCAPED.test(value)) return `"${value}"`;
  if (hasLoneSurrogate(value)) {
    throw new StixInputError(
      'canonical JSON',
      'cannot hold a string with an unpaired UTF-16 surrogate',
      value,
    );
  }
  return JSON.stringify(value);
}

function write(value: unknown, ancestors: Set<object> | undefined): string {
  if (typeof value === 'string') return canonicalString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new StixInputError('canonical JSON', 'cannot hold NaN or Infinity', value);
    return JSON.stringify(value);
  }
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'object') {
    throw new StixInputError('canonical JSON', `cannot hold a ${typeof value}`);
  }
  const chain = ancestors ?? new Set<object>();
  if (chain.has(value)) throw new StixInputError('canonical JSON', 'cannot hold a circular structure');
  chain.add(value);
  let text: string;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') {
    text = write(withJson.toJSON(), chain);
  } else if (Array.isArray(value)) {
    text = '[';
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      // As JSON.stringify does: holes and undefined items become null.
      text += `${index === 0 ? '' : ','}${write(item === undefined ? null : item, chain)}`;
    }
    text += ']';
  } else {
    const record = value as Record<string, unknown>;
    text = '{';
    // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${canonicalString(key)}:${write(member, chain)}`;
    }
    text += '}';
  }
  chain.delete(value);
  return text;
}

/** True when the string holds a high or low surrogate without its partner (not valid UTF-8). */
export function hasLoneSurrogate(text: string): boolean {
  // The native scan first: a string with no surrogate at all (nearly every one) needs no pairing check.
  if (!SURROGATE.test(text)) return false;
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
