/**
 * The one error lib/stix raises: an input that cannot become a valid STIX 2.1 object or a
 * deterministic id. It is a programming or data error, never transient: retrying with the same
 * input fails the same way, so callers should skip or fix the value, not retry.
 */
export class StixInputError extends Error {
  constructor(
    /** What was being built, e.g. "ipv4-addr value" or "relationship source_ref". */
    readonly field: string,
    /** Why the input was refused and what to give instead. */
    readonly reason: string,
    /** The offending value, shortened so that a hostile 10 kB value cannot flood a log line. */
    readonly value?: unknown,
  ) {
    super(`Invalid STIX input: ${field} ${reason}${value === undefined ? '' : ` (got ${preview(value)})`}`);
    this.name = 'StixInputError';
  }
}

const PREVIEW_LENGTH = 80;

function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}… (${text.length} chars)` : text;
}
