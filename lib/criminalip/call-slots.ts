/**
 * Criminal IP call slots shared by every consumer that uses the same key, whatever the storage
 * behind them: a distributed limiter over the CallLease port (DynamoDB in AWS, the SQLite ledger
 * locally). Non-Enterprise keys refuse a second concurrent call ("unable to call api at the same
 * time"), so with one slot, two Lambda instances or two local processes take turns instead of
 * colliding at the service.
 *
 * A slot is the lease `<name>#<i>` for i < slots. Each acquisition has its own holder id, so two
 * calls of one process never share a slot; a holder that dies frees its slot after `holdMs`.
 * While every slot is taken the caller polls, with jitter so that waiting instances do not retry
 * in step, and gives up after `waitMs` with CallSlotBusyError: a "concurrent call" in all but
 * name, which the pipeline answers by queueing the job again with a delay.
 */
import { randomUUID } from 'node:crypto';
import type { CallLease } from '../core/lease';
import { type Clock, systemClock } from '../core/clock';
import { CriminalIpError } from './errors';
import type { Limiter, Release } from './limiter';

/**
 * No call slot became free in time: other consumers are using the key. Retryable, and of kind
 * 'concurrent-call', so the client does not retry it in place and the pipeline re-queues the job
 * with `retryAfterMs` instead of counting it as a failed delivery.
 */
export class CallSlotBusyError extends CriminalIpError {
  readonly kind = 'concurrent-call';
  readonly retryable = true;

  constructor(
    readonly waitedMs: number,
    readonly slots: number,
    retryAfterMs: number,
  ) {
    super(
      `No Criminal IP call slot of ${slots} became free within ${waitedMs} ms (other consumers are calling with the same key); the job waits ${Math.ceil(retryAfterMs / 1000)} s and tries again`,
      {},
      retryAfterMs,
    );
  }
}

export interface LeaseCallSlotsOptions {
  lease: CallLease;
  /** Calls allowed in flight across all consumers (1 unless the key is Enterprise). */
  slots: number;
  /**
   * Longest time one call may hold a slot: more than a call with all its timeouts, since a holder
   * that dies blocks its slot this long.
   */
  holdMs: number;
  /** How long to wait for a free slot before giving up with CallSlotBusyError. */
  waitMs: number;
  /** Mean pause between two rounds of tries; each pause is drawn from [pollMs/2, 3·pollMs/2). Default 250. */
  pollMs?: number;
  /** Delay the busy error asks for before the job is tried again. Default 30 s. */
  busyRetryAfterMs?: number;
  /** Lease name prefix; consumers of one key must share it. Default `criminalip`. */
  name?: string;
  /** Measures the wait (the lease's own expiry runs on the store's clock). */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** What the slots did so far, for metrics and the reliability suite. */
export interface CallSlotStats {
  /** Slots taken. */
  acquired: number;
  /** Acquisitions that found every slot taken at least once and had to wait. */
  waited: number;
  /** Acquisitions that gave up (CallSlotBusyError). */
  busy: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LeaseCallSlots implements Limiter {
  private readonly instance = randomUUID();
  private acquisitions = 0;
  private readonly counters: CallSlotStats = { acquired: 0, waited: 0, busy: 0 };
  private readonly prefix: string;
  private readonly pollMs: number;
  private readonly busyRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: LeaseCallSlotsOptions) {
    const positive = (name: string, value: number, integer = false) => {
      if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
        throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'} (got ${value})`);
      }
    };
    positive('slots', options.slots, true);
    positive('holdMs', options.holdMs);
    if (!Number.isFinite(options.waitMs) || options.waitMs < 0) {
      throw new RangeError(`waitMs must be zero or more (got ${options.waitMs})`);
    }
    this.pollMs = options.pollMs ?? 250;
    positive('pollMs', this.pollMs);
    this.busyRetryAfterMs = options.busyRetryAfterMs ?? 30_000;
    this.prefix = options.name ?? 'criminalip';
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  get stats(): CallSlotStats {
    return { ...this.counters };
  }

  /** Waits for a free slot; resolves to its release (idempotent). Throws CallSlotBusyError after `waitMs`. */
  async acquire(): Promise<Release> {
    const run = ++this.acquisitions;
    const holder = `${this.instance}:${run}`;
    const name = await this.takeSlot(holder, run);
    this.counters.acquired += 1;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.options.lease.release(name, holder);
    };
  }

  /** Runs `call` holding a slot. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await call();
    } finally {
      await release();
    }
  }

  private async takeSlot(holder: string, run: number): Promise<string> {
    const { lease, slots, holdMs, waitMs } = this.options;
    const started = this.clock.now().getTime();
    // Start each acquisition at a different slot, so that several slots fill evenly.
    const first = run % slots;
    for (let round = 0; ; round += 1) {
      for (let i = 0; i < slots; i += 1) {
        const name = `${this.prefix}#${(first + i) % slots}`;
        if (await lease.tryAcquire(name, holder, Math.ceil(holdMs))) return name;
      }
      if (round === 0) this.counters.waited += 1;
      const waited = this.clock.now().getTime() - started;
      if (waited >= waitMs) {
        this.counters.busy += 1;
        throw new CallSlotBusyError(waited, slots, this.busyRetryAfterMs);
      }
      const pause = this.pollMs / 2 + this.random() * this.pollMs;
      await this.sleep(Math.max(1, Math.round(Math.min(pause, waitMs - waited))));
    }
  }
}
