/**
 * Tolerant readers for Criminal IP response bodies.
 *
 * Criminal IP documents few types, and the same field arrives as a number in one endpoint and a
 * string in another (as_no, scan ids), in any case (score words), or not at all. Mapping code never
 * indexes raw JSON directly: it goes through these readers, which answer `undefined` (or an empty
 * list) for anything missing or of an unexpected type, and never throw.
 */

export type JsonRecord = Record<string, unknown>;

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

/** A trimmed non-empty string; numbers are accepted and written in decimal. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A finite number; numeric strings ("9.4", " 15169 ") are accepted. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A boolean; the strings "true"/"false" (any case) and the numbers 1/0 are accepted. */
export function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return undefined;
}

/**
 * The items of a list section. Criminal IP wraps most lists as `{count, data: [...]}`; some are bare
 * arrays. Both are accepted; anything else is an empty list.
 */
export function items(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value) && Array.isArray(value.data)) return value.data;
  return [];
}

/** The object items of a list section (non-objects are dropped). */
export function recordItems(value: unknown): JsonRecord[] {
  return items(value).filter(isRecord);
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

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses Criminal IP's "YYYY-MM-DD HH:MM:SS" (or "YYYY-MM-DD", or ISO) timestamps. The API does not
 * say which time zone it uses; they are read as UTC.
 */
export function time(value: unknown): Date | undefined {
  const text = str(value);
  if (!text) return undefined;
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = match;
  let date: Date;
  if (zone) {
    date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
    if (Number.isNaN(date.getTime())) return undefined;
  } else {
    // Built from numbers rather than parsed from a string: reports hold thousands of timestamps.
    const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
    date = new Date(Date.UTC(...fields));
    // Reject dates that JavaScript silently rolled over (2023-02-31 → March 3, 24:00 → next day).
    const back = [
      date.getUTCFullYear(),
      date.getUTCMonth(),
      date.getUTCDate(),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
    ];
    if (back.some((field, index) => field !== fields[index])) return undefined;
  }
  const year = date.getUTCFullYear();
  return year >= 1970 && year <= 9999 ? date : undefined;
}

/** Sorts newest first by a timestamp field; undated items keep their order, after the dated ones. */
export function newestFirst<T extends JsonRecord>(list: T[], field = 'confirmed_time'): T[] {
  return list
    .map((item, index) => ({ item, index, t: time(item[field])?.getTime() }))
    .sort((a, b) => (b.t ?? -Infinity) - (a.t ?? -Infinity) || a.index - b.index)
    .map((entry) => entry.item);
}
