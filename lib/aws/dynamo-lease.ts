/**
 * Cross-instance leases on the ledger table, used to keep Criminal IP calls within what the key
 * allows (one call in flight for non-Enterprise keys) however many Lambda instances run.
 *
 * A lease is an item `lease#<name>` written with a condition: absent, expired, or already ours.
 * It carries its own expiry, so a crashed holder blocks the slot for at most `ttlMs`. Release
 * deletes the item only if we still hold it.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CriminalIpError } from '../criminalip/errors';
import type { Limiter, Release } from '../criminalip/limiter';
import type { Clock } from '../pipeline/ports';
import { systemClock } from '../pipeline/ports';
import { epochSeconds, LEDGER_KEY, LEDGER_TTL_ATTRIBUTE } from './dynamo-ledger';

export interface DynamoLeaseOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

export class DynamoLease {
  private readonly clock: Clock;

  constructor(private readonly options: DynamoLeaseOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Takes the lease `name` for `holder` during `ttlMs`; false when someone else holds it. */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            [LEDGER_KEY]: `lease#${name}`,
            holder,
            leaseUntilMs: now + ttlMs,
            // Lets DynamoDB remove leases left behind; correctness rests on leaseUntilMs.
            [LEDGER_TTL_ATTRIBUTE]: epochSeconds(new Date(now + ttlMs)) + 60,
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #until < :now OR #holder = :holder',
          ExpressionAttributeNames: { '#pk': LEDGER_KEY, '#until': 'leaseUntilMs', '#holder': 'holder' },
          ExpressionAttributeValues: { ':now': now, ':holder': holder },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the lease back if `holder` still holds it; a lease taken over after expiry is left alone. */
  async release(name: string, holder: string): Promise<void> {
    try {
      await this.options.doc.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: { [LEDGER_KEY]: `lease#${name}` },
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': 'holder' },
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }
}

/**
 * No call slot became free in time: other instances are using the key. A Criminal IP
 * "concurrent call" failure in all but name, so the client and the pipeline treat it alike (the
 * job is re-queued with a delay instead of counting as a failed delivery).
 */
export class CallSlotBusyError extends CriminalIpError {
  readonly kind = 'concurrent-call';
  readonly retryable = true;

  constructor(
    readonly waitedMs: number,
    retryAfterMs = 30_000,
  ) {
    super(
      `No Criminal IP call slot became free within ${waitedMs} ms (other instances are calling with the same key); the job waits and tries again`,
      {},
      retryAfterMs,
    );
  }
}

export interface CallSlotsOptions {
  lease: DynamoLease;
  /** Calls allowed in flight across all instances (1 unless the key is Enterprise). */
  slots: number;
  /** How long a slot is held at most: longer than one call with its timeout. */
  holdMs: number;
  /** How long to wait for a free slot before giving up. */
  waitMs: number;
  /** Pause between two tries (jittered). */
  pollMs?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Lease name prefix (default `criminalip`). */
  name?: string;
}

/**
 * A distributed limiter over `slots` leases, usable as the Criminal IP client's Limiter.
 * `acquire()` waits for a free slot and resolves to its release; `run(fn)` wraps a call.
 */
export class DynamoCallSlots implements Limiter {
  private readonly instance = randomUUID();
  private runs = 0;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CallSlotsOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) {
      throw new RangeError(`slots must be a positive integer (got ${options.slots})`);
    }
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async acquire(): Promise<Release> {
    // Each acquisition has its own holder id: two calls of this process must not share a slot.
    const holder = `${this.instance}:${++this.runs}`;
    const slot = await this.takeSlot(holder);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.options.lease.release(slot, holder);
    };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  private async takeSlot(holder: string): Promise<string> {
    const { lease, slots, holdMs, waitMs } = this.options;
    const pollMs = this.options.pollMs ?? 250;
    const started = this.clock.now().getTime();
    for (;;) {
      for (let i = 0; i < slots; i++) {
        const name = `${this.options.name ?? 'criminalip'}#${i}`;
        if (await lease.tryAcquire(name, holder, holdMs)) return name;
      }
      const waited = this.clock.now().getTime() - started;
      if (waited >= waitMs) throw new CallSlotBusyError(waited);
      await this.sleep(pollMs / 2 + Math.random() * pollMs);
    }
  }
}
