/**
 * LeaseCallSlots over the local ledger's leases (lib/local/lease.ts): N slots shared by every
 * consumer of a file, a wait that polls with jitter, a busy error the pipeline re-queues on, and
 * a slot freed by itself when its holder dies.
 */
import { CriminalIpError } from '../../lib/criminalip';
import { CallSlotBusyError, LeaseCallSlots } from '../../lib/criminalip/call-slots';
import { localCallLease } from '../../lib/local/lease';
import { LocalLedger } from '../../lib/local/ledger';
import type { CallLease } from '../../lib/core/lease';
import { ManualClock } from '../helpers/manual-clock';

let clock: ManualClock;
let ledger: LocalLedger;
let lease: CallLease;
const sleeps: number[] = [];

beforeEach(() => {
  clock = new ManualClock();
  ledger = new LocalLedger({ location: ':memory:', clock });
  lease = localCallLease(ledger);
  sleeps.length = 0;
});

afterEach(() => ledger.close());

/** Slots whose waiting moves the manual clock instead of sleeping. */
function slots(count: number, waitMs = 1_000, random = () => 0.5) {
  return new LeaseCallSlots({
    lease,
    slots: count,
    holdMs: 5_000,
    waitMs,
    pollMs: 100,
    busyRetryAfterMs: 20_000,
    clock,
    random,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advanceBy(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
}

it('gives out at most N slots at once, across instances sharing the lease', async () => {
  const a = slots(2);
  const b = slots(2);
  const first = await a.acquire();
  const second = await b.acquire();
  await expect(a.acquire()).rejects.toBeInstanceOf(CallSlotBusyError);
  await first();
  const third = await b.acquire();
  expect(b.stats).toEqual({ acquired: 2, waited: 0, busy: 0 });
  await second();
  await third();
});

it('waits for a slot, polling with jitter, and gets it once it is released', async () => {
  const holder = slots(1);
  const waiter = slots(1, 10_000, () => 1);
  const release = await holder.acquire();
  const waiting = waiter.acquire();
  await new Promise((resolve) => setImmediate(resolve));
  expect(sleeps.length).toBeGreaterThan(0);
  await release();
  await (
    await waiting
  )();
  // It got the slot because it was given back, not because the holder's lease ran out.
  expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThan(5_000);
  // Each pause is drawn from [pollMs / 2, 3 pollMs / 2).
  for (const ms of sleeps) expect(ms).toBeGreaterThanOrEqual(50);
  for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(150);
  expect(waiter.stats).toMatchObject({ acquired: 1, waited: 1, busy: 0 });
});

it('gives up after waitMs with a retryable concurrent-call error that asks for a delay', async () => {
  const holder = slots(1);
  const waiter = slots(1, 1_000);
  await holder.acquire();
  const error = await waiter.acquire().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CriminalIpError);
  expect(error).toMatchObject({ kind: 'concurrent-call', retryable: true, retryAfterMs: 20_000 });
  expect((error as CallSlotBusyError).waitedMs).toBeGreaterThanOrEqual(1_000);
  expect(waiter.stats.busy).toBe(1);
});

it('frees the slot of a holder that died once holdMs has passed', async () => {
  const dead = slots(1);
  const next = slots(1, 0);
  await dead.acquire(); // never released
  await expect(next.acquire()).rejects.toBeInstanceOf(CallSlotBusyError);
  clock.advanceBy(5_001);
  await (
    await next.acquire()
  )();
});

it('releases once, and never a slot someone else took over', async () => {
  const a = slots(1);
  const b = slots(1, 0);
  const release = await a.acquire();
  clock.advanceBy(5_001); // a's hold ran out
  const other = await b.acquire();
  await release(); // late: must not free b's slot
  await release();
  await expect(slots(1, 0).acquire()).rejects.toBeInstanceOf(CallSlotBusyError);
  await other();
  await (
    await slots(1, 0).acquire()
  )();
});

it('runs a call holding a slot, and gives it back when the call fails', async () => {
  const s = slots(1, 0);
  await expect(s.run(async () => Promise.reject(new Error('call failed')))).rejects.toThrow('call failed');
  expect(await s.run(async () => 'answer')).toBe('answer');
});

it('refuses settings that cannot work', () => {
  expect(() => new LeaseCallSlots({ lease, slots: 0, holdMs: 1, waitMs: 0 })).toThrow(RangeError);
  expect(() => new LeaseCallSlots({ lease, slots: 1.5, holdMs: 1, waitMs: 0 })).toThrow(RangeError);
  expect(() => new LeaseCallSlots({ lease, slots: 1, holdMs: 0, waitMs: 0 })).toThrow(RangeError);
  expect(() => new LeaseCallSlots({ lease, slots: 1, holdMs: 1, waitMs: -1 })).toThrow(RangeError);
});

it('localCallLease rounds a fractional TTL up and extends a lease its holder takes again', async () => {
  expect(await lease.tryAcquire('x', 'h1', 0.4)).toBe(true);
  expect(await lease.tryAcquire('x', 'h2', 1_000)).toBe(false);
  expect(await lease.tryAcquire('x', 'h1', 1_000)).toBe(true);
  clock.advanceBy(999);
  expect(await lease.tryAcquire('x', 'h2', 1_000)).toBe(false);
  await lease.release('x', 'h1');
  expect(await lease.tryAcquire('x', 'h2', 1_000)).toBe(true);
});
