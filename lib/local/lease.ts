/**
 * The pipeline's CallLease port (lib/pipeline/ports.ts) over the local ledger's leases, so that
 * the storage-agnostic parts (Criminal IP call slots, job and lookup claims) run on the SQLite
 * file that every local process shares, exactly as they run on DynamoDB in AWS.
 */
import type { CallLease } from '../core/lease';
import type { CallLease as LedgerLeases } from './ledger';

export function localCallLease(ledger: LedgerLeases): CallLease {
  return {
    // The ledger keeps whole milliseconds; a fractional TTL is rounded up, never down to zero.
    tryAcquire: (name, holder, ttlMs) => ledger.acquireLease(name, holder, Math.max(1, Math.ceil(ttlMs))),
    async release(name, holder) {
      // False only means the lease had already expired or been taken over: nothing left to give back.
      await ledger.releaseLease(name, holder);
    },
  };
}
