/**
 * Claims: exclusive, expiring marks on the CallLease port, seen by every consumer, that keep
 * duplicates from costing twice:
 *
 * - a job claim (`job#<jobId>`, one holder per delivery): at most one delivery of a job runs at a
 *   time. Two copies of one job (a webhook sent once per target user, a message redelivered while
 *   the first delivery still runs, the copy a consumer crash leaves behind) would otherwise both
 *   pass the "already done?" check and both call Criminal IP and write to OpenCTI.
 * - a lookup claim (`lookup#<type:value>`): at most one Criminal IP lookup of an observable at a
 *   time. Other jobs about it wait in the queue and then find its answer in the cache. A domain or
 *   URL scan keeps the claim from one delivery to the next, held by the job's id: a second job, or
 *   a copy of the same job that does not carry the scan, arriving while the scan runs does not
 *   start another one.
 *
 * A claim expires by itself (a crashed holder frees it), so TTLs follow the queue's visibility
 * timeout: a delivery never legitimately runs longer.
 */
import type { Config } from '../config';
import type { CallLease } from '../core/lease';

export interface Claim {
  /** Keeps the claim `ttlMs` from now (only while still held by us). */
  extend(ttlMs: number): Promise<void>;
  /**
   * Passes the claim to `holder` for `ttlMs`: undefined when someone else took it in between
   * (the lease has no atomic hand-over; the window is one round trip).
   */
  handOver(holder: string, ttlMs: number): Promise<Claim | undefined>;
  /** Gives it back; calling again does nothing. */
  release(): Promise<void>;
}

/** Takes `name` for `holder`, or undefined when someone else holds it. */
export async function takeClaim(
  lease: CallLease,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<Claim | undefined> {
  if (!(await lease.tryAcquire(name, holder, ttlMs))) return undefined;
  let released = false;
  const claim: Claim = {
    async extend(ms) {
      // Taking a lease again as its holder extends it.
      if (!released) await lease.tryAcquire(name, holder, ms);
    },
    async handOver(next, ms) {
      await claim.release();
      return takeClaim(lease, name, next, ms);
    },
    async release() {
      if (released) return;
      released = true;
      await lease.release(name, holder);
    },
  };
  return claim;
}

export const jobClaimName = (jobId: string): string => `job#${jobId}`;
export const lookupClaimName = (cacheKey: string): string => `lookup#${cacheKey}`;

/** How long a claim lasts: one delivery (the visibility timeout), plus a delay before the next one. */
export function claimTtlMs(config: Pick<Config, 'queue'>, delaySeconds = 0): number {
  return (config.queue.visibilityTimeoutSeconds + delaySeconds) * 1000;
}

/** Delay before a job that found its own claim taken tries again: the other delivery is short. */
export const JOB_CLAIM_WAIT_SECONDS = 5;

/** Delay before a job waiting for another job's lookup tries again (a scan takes a few polls). */
export function lookupClaimWaitSeconds(config: Pick<Config, 'criminalIp'>): number {
  return Math.max(JOB_CLAIM_WAIT_SECONDS, config.criminalIp.scanPollSeconds);
}
