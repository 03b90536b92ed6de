/**
 * Comparison of secrets (bearer tokens, webhook tokens) that takes the same time whatever the
 * input: comparing SHA-256 digests gives two equal-length buffers, so neither where the first
 * difference lies nor the length of the expected secret can be learned from response times.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** True when `a` and `b` are the same string. An empty expected secret never matches. */
export function constantTimeEqual(a: string, b: string): boolean {
  const equal = timingSafeEqual(digest(a), digest(b));
  // An unset secret must not accept an empty credential; checked after the comparison so that
  // the time taken does not depend on it.
  return equal && a.length > 0;
}
