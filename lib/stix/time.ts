/**
 * STIX timestamps. OpenCTI hashes dates as `Date.toJSON()` gives them (UTC, exactly three fraction
 * digits), so every timestamp this library emits or hashes uses that one form.
 */
import { StixInputError } from './errors';

/** A timestamp as callers may hold it: a Date, or any string `Date` parses. */
export type TimeInput = Date | string;

/** The last time formatted: one mapping stamps hundreds of objects with the same instant. */
let lastMs = Number.NaN;
let lastText = '';

/** The instants `toISOString` writes with a four-digit year (0000-01-01 to 9999-12-31). */
const FIRST_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** `YYYY-MM-DDTHH:mm:ss.sssZ` for a valid date; throws StixInputError for an invalid one. */
export function stixTime(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new StixInputError('timestamp', 'must be a valid Date', String(date));
  }
  const ms = date.getTime();
  if (ms === lastMs) return lastText;
  // Years outside 0000-9999 come out as "+012345-…", which no STIX consumer accepts.
  if (ms < FIRST_MS || ms > LAST_MS) {
    throw new StixInputError('timestamp', 'must fall in the years 0000-9999', date.toISOString());
  }
  lastText = date.toISOString();
  lastMs = ms;
  return lastText;
}

/** Normalises a Date or a date string to the STIX millisecond form. */
export function toStixTime(value: TimeInput, field = 'timestamp'): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new StixInputError(field, 'must be a valid date (ISO 8601 string or Date)', value);
  }
  return stixTime(date);
}
