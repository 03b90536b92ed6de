/**
 * Tolerant readers for Criminal IP response values. The API is inconsistent across endpoints
 * (score words in three casings and as "20% (Safe)", `as_no` as string or number, lists as
 * `{count, data}` or bare arrays, scan ids as numbers or strings), so every reader accepts any
 * input and answers `undefined` (or an empty list) for a shape it does not recognise: an odd field
 * never crashes an enrichment.
 */
import { SCORE_WORDS, type ScoreWord } from '../config';

export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonRecord)
    : undefined;
}

/** A non-empty trimmed string; numbers are accepted and written out. */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A finite number from a number or a numeric string ("9.4", " 15169 "). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** An integer from a number or string; `as_no` also comes as "AS15169". */
export function asInteger(value: unknown): number | undefined {
  const text = typeof value === 'string' ? value.trim().replace(/^AS/i, '') : value;
  const n = asNumber(text);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/** Booleans as the API writes them: true/false, "True"/"False", 1/0. */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return undefined;
}

/**
 * The items of a list section: `{count, data: [...]}` (most sections), a bare array (domain
 * reports) or anything else (no items).
 */
export function listOf(section: unknown): unknown[] {
  if (Array.isArray(section)) return section;
  const data = asRecord(section)?.data;
  return Array.isArray(data) ? data : [];
}

/** Items of a list section that are objects, skipping nulls and scalars. */
export function recordsOf(section: unknown): JsonRecord[] {
  return listOf(section).flatMap((item) => {
    const record = asRecord(item);
    return record ? [record] : [];
  });
}

/** Legacy /v1/ip/data scores are integers 1-5 (Polarity's reading: 1 Safe ... 5 Critical). */
const LEGACY_SCORE: Readonly<Record<number, ScoreWord>> = {
  1: 'safe',
  2: 'low',
  3: 'moderate',
  4: 'dangerous',
  5: 'critical',
};

/**
 * The score word in lower case, from "Critical", "critical", " LOW ", "20% (Safe)" or a legacy
 * integer 1-5.
 */
export function scoreWord(value: unknown): ScoreWord | undefined {
  if (typeof value === 'number') return LEGACY_SCORE[value];
  if (typeof value !== 'string') return undefined;
  const bracketed = /\(([^)]*)\)/.exec(value)?.[1];
  const word = (bracketed ?? value).trim().toLowerCase();
  return (SCORE_WORDS as readonly string[]).includes(word) ? (word as ScoreWord) : undefined;
}

/** The percentage of "20% (Safe)", or a plain number 0-100. */
export function scorePercent(value: unknown): number | undefined {
  if (typeof value === 'number') return value >= 0 && value <= 100 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*%/.exec(value);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A Criminal IP timestamp as a Date. The API writes "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD" with no
 * zone (undocumented, read as UTC); ISO strings with a zone are honoured. Impossible dates are
 * refused rather than rolled over (2023-02-31 is not March 3).
 */
export function cipTime(value: unknown): Date | undefined {
  const text = asString(value);
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

/** The integer `status` of a body (some clients see it as a string), if any. */
export function apiStatusOf(body: unknown): number | undefined {
  return asInteger(asRecord(body)?.status);
}

/** The `data` object of a wrapped (domain, user) response. */
export function dataOf(body: unknown): JsonRecord | undefined {
  return asRecord(asRecord(body)?.data);
}

/** A scan id as text: full scans give integers (sometimes strings), lite scans 32-hex strings. */
export function scanIdOf(body: unknown): string | undefined {
  return asString(dataOf(body)?.scan_id);
}

/**
 * What `/v1/domain/quick/hash/view` decided: `safe` or `malicious`, with its `type` (e.g.
 * `searchengine`); undefined for `unknown` or anything else. The scan flow and the mapping both
 * read the verdict through this.
 */
export function quickVerdictOf(body: unknown): { result: 'safe' | 'malicious'; type?: string } | undefined {
  const data = dataOf(body);
  const result = asString(data?.result)?.trim().toLowerCase();
  if (result !== 'safe' && result !== 'malicious') return undefined;
  const type = asString(data?.type)?.trim();
  return { result, ...(type ? { type } : {}) };
}

/** `data.scan_percentage`: 0-100 while running, -1 failed, -2 domain not found. */
export function scanPercentageOf(body: unknown): number | undefined {
  return asNumber(dataOf(body)?.scan_percentage);
}
