/**
 * Why a message, or one observable in it, cannot be enriched. The codes are stable (logs, metrics
 * and the webhook's `ignored` list use them); the detail is the sentence a person reads.
 */
import { JobRejection } from './types';

export const REJECTION_REASONS = [
  /** Not the shape OpenCTI (or our webhook template) sends: a field is missing or of the wrong kind. */
  'malformed-message',
  /** An entity type this product does not enrich (Text, Email-Addr, Indicator, a report...). */
  'unsupported-type',
  /** One of the product's types, but CONNECTOR_SCOPE leaves it out. */
  'out-of-scope',
  /** The value is not a valid value of its type (empty, control characters, bad IP, bad label...). */
  'invalid-value',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export function rejection(reason: RejectionReason, detail: string): JobRejection {
  return new JobRejection(reason, detail);
}

/**
 * A value as it may appear in a message: JSON-quoted, so control characters show as escapes and
 * cannot forge log lines, and cut short, so a huge value does not flood the logs.
 */
export function quote(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
