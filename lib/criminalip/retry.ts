/**
 * Backoff arithmetic for retried calls: bounded exponential delays with jitter (so that several
 * instances that failed together do not retry together), stretched to honour Retry-After.
 */

export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  baseDelayMs: number;
  /** Upper bound of the exponential part. */
  maxDelayMs: number;
  /**
   * Longest wait worth spending inside one invocation. A Retry-After beyond it is not slept
   * through: the error is thrown with `retryAfterMs` so that the caller can re-enqueue instead.
   */
  maxWaitMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 8_000, maxWaitMs: 10_000 };

/**
 * Delay before retry number `retry` (0 for the first): "equal jitter", half fixed and half random,
 * so the delay never collapses to zero, then at least `retryAfterMs` when the server asked for it.
 */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = Math.round(exponential / 2 + (exponential / 2) * random());
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Retry-After as milliseconds from `nowMs`: either delta-seconds ("30") or an HTTP date. Unreadable
 * values count as absent.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
