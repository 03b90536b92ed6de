/**
 * Tolerant readers for Criminal IP response bodies.
 *
 * Criminal IP documents few types, and the same field arrives as a number in one endpoint and a
 * string in another (as_no, scan ids), in any case (score words), or not at all. Mapping code never
 * indexes raw JSON directly: it goes through these readers, which answer `undefined` (or an empty
 * list) for anything missing or of an unexpected type, and never throw.
 */

import { cipTime, type JsonRecord } from '../criminalip/parse';

// The generic readers are lib/criminalip's (one reading of Criminal IP's values for the client and
// the mapping), under the short names the mapping code uses.
export {
  asBoolean as bool,
  asNumber as num,
  asString as str,
  cipTime as time,
  listOf as items,
  recordsOf as recordItems,
  type JsonRecord,
} from '../criminalip/parse';

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `value`, or an empty object. */
export function record(value: unknown): JsonRecord {
  return isRecord(value) ? value : {};
}

/** Follows a path of keys through nested objects. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * The payload of a response body: domain endpoints wrap it in `{status, message, data}`, IP
 * endpoints do not. `markers` are keys that only an unwrapped payload has.
 */
export function payload(body: unknown, markers: readonly string[]): JsonRecord {
  if (!isRecord(body)) return {};
  if (isRecord(body.data) && !markers.some((key) => key in body)) return body.data;
  return body;
}

/** Sorts newest first by a timestamp field; undated items keep their order, after the dated ones. */
export function newestFirst<T extends JsonRecord>(list: T[], field = 'confirmed_time'): T[] {
  return list
    .map((item, index) => ({ item, index, t: cipTime(item[field])?.getTime() }))
    .sort((a, b) => (b.t ?? -Infinity) - (a.t ?? -Infinity) || a.index - b.index)
    .map((entry) => entry.item);
}
