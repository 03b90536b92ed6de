/**
 * Bounds how many Criminal IP calls are in flight. Non-Enterprise keys get "unable to call api at
 * the same time" for a second concurrent call, so by default one call runs at a time per key in
 * this process. Limiters are shared per API URL and key: two clients built from the same settings
 * still take turns.
 */
import { createHash } from 'node:crypto';

import { Semaphore } from '../core/limiter';

export { Semaphore, type Limiter, type Release } from '../core/limiter';

const shared = new Map<string, Semaphore>();

/** The process-wide limiter for one API URL and key (the key only as a hash, never kept). */
export function sharedLimiter(apiUrl: string, apiKey: string, limit: number): Semaphore {
  const keyHash = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
  const id = `${apiUrl}|${keyHash}|${limit}`;
  let limiter = shared.get(id);
  if (!limiter) {
    limiter = new Semaphore(limit);
    shared.set(id, limiter);
  }
  return limiter;
}
