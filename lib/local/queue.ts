/**
 * A durable queue with the semantics of an SQS standard queue plus its dead-letter queue, kept in
 * a SQLite file so that `npm start`, the demo and tests run the consumer exactly as Lambda would:
 * visibility timeouts, receive counts, per-delivery receipt handles, delays and dead-lettering.
 *
 * Time comes from the injected Clock, so tests move it forward instead of sleeping. All methods
 * are synchronous (node:sqlite is); each one is a single transaction, atomic across processes.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { MAX_QUEUE_DELAY_SECONDS } from '../jobs/limits';
import { systemClock, type Clock } from '../core/clock';
import { immediateTransaction, integer, openDatabase, optionalInteger, text, type Schema } from './sqlite';

/** SQS limits, kept so that what works locally also works in AWS. */
export const SQS_LIMITS = {
  maxDelaySeconds: MAX_QUEUE_DELAY_SECONDS,
  maxVisibilityTimeoutSeconds: 43_200,
  maxReceiveBatch: 10,
  maxBodyBytes: 1_048_576,
  maxReceiveCount: 1000,
} as const;

/** Early acknowledgements remembered until their batch is settled. */
const MAX_ACKNOWLEDGED = 10_000;

export interface LocalQueueOptions {
  /** SQLite file path (created when missing), or ':memory:' for a private throw-away queue. */
  location: string;
  /** Queue name (SQS naming rules); several queues can live in one file. Default `jobs`. */
  name?: string;
  /** Redrive policy: a message delivered this many times is dead-lettered on its next receive. */
  maxReceiveCount: number;
  clock?: Clock;
  busyTimeoutMs?: number;
}

/** One delivery of a message, as ReceiveMessage returns it. */
export interface ReceivedMessage {
  messageId: string;
  /** Valid until the message is received again: only the latest delivery may delete or extend it. */
  receiptHandle: string;
  body: string;
  /** Deliveries so far, this one included (SQS ApproximateReceiveCount). */
  receiveCount: number;
  sentAtMs: number;
  firstReceivedAtMs: number;
  /** When the message becomes visible again unless it is deleted first. */
  visibleAtMs: number;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  sentAtMs: number;
  /** Deliveries before it was set aside. */
  receiveCount: number;
  deadAtMs: number;
}

export interface QueueStats {
  /** Ready to be received now (ApproximateNumberOfMessages). */
  visible: number;
  /** Received, neither deleted nor timed out (ApproximateNumberOfMessagesNotVisible). */
  inFlight: number;
  /** Sent with a delay that has not passed (ApproximateNumberOfMessagesDelayed). */
  delayed: number;
  /** In the dead-letter queue. */
  dead: number;
}

/** A call SQS itself would refuse (out-of-range delay, batch size, body size...). */
export class InvalidQueueRequestError extends Error {
  constructor(
    readonly parameter: string,
    detail: string,
  ) {
    super(`Invalid queue request: ${parameter} ${detail}`);
    this.name = 'InvalidQueueRequestError';
  }
}

const SCHEMA: Schema = {
  component: 'queue',
  steps: [
    `CREATE TABLE queue_messages (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       queue TEXT NOT NULL,
       message_id TEXT NOT NULL UNIQUE,
       body TEXT NOT NULL,
       sent_at INTEGER NOT NULL,
       visible_at INTEGER NOT NULL,
       receive_count INTEGER NOT NULL DEFAULT 0,
       first_received_at INTEGER,
       receipt_handle TEXT UNIQUE
     );
     CREATE INDEX queue_messages_by_visibility ON queue_messages (queue, visible_at);
     CREATE TABLE queue_dead_letters (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       queue TEXT NOT NULL,
       message_id TEXT NOT NULL UNIQUE,
       body TEXT NOT NULL,
       sent_at INTEGER NOT NULL,
       receive_count INTEGER NOT NULL,
       dead_at INTEGER NOT NULL
     );
     CREATE INDEX queue_dead_letters_by_queue ON queue_dead_letters (queue, seq);`,
  ],
};

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** The characters SQS accepts in a message body (XML 1.0 characters). */
const INVALID_BODY_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export class LocalQueue {
  readonly name: string;
  readonly maxReceiveCount: number;
  /** Receipt handles deleted by acknowledge() whose batch has not been settled yet. */
  private readonly acknowledged = new Set<string>();
  private readonly db: DatabaseSync;
  private readonly clock: Clock;

  constructor(options: LocalQueueOptions) {
    this.name = options.name ?? 'jobs';
    if (!QUEUE_NAME.test(this.name)) {
      throw new InvalidQueueRequestError('name', 'must be 1 to 80 letters, digits, hyphens or underscores');
    }
    this.maxReceiveCount = checkInteger(
      'maxReceiveCount',
      options.maxReceiveCount,
      1,
      SQS_LIMITS.maxReceiveCount,
    );
    this.clock = options.clock ?? systemClock;
    this.db = openDatabase(options.location, SCHEMA, { busyTimeoutMs: options.busyTimeoutMs });
  }

  /** Queues each body as one message, invisible for `delaySeconds` (0–900). Returns the message ids. */
  send(bodies: readonly string[], delaySeconds = 0): string[] {
    checkInteger('delaySeconds', delaySeconds, 0, SQS_LIMITS.maxDelaySeconds);
    bodies.forEach(checkBody);
    const now = this.now();
    const insert = this.db.prepare(
      'INSERT INTO queue_messages (queue, message_id, body, sent_at, visible_at) VALUES (?, ?, ?, ?, ?)',
    );
    return immediateTransaction(this.db, () =>
      bodies.map((body) => {
        const messageId = randomUUID();
        insert.run(this.name, messageId, body, now, now + delaySeconds * 1000);
        return messageId;
      }),
    );
  }

  /**
   * Delivers up to `max` (1–10) visible messages, hiding each for `visibilityTimeoutSeconds`.
   * A message already delivered `maxReceiveCount` times is moved to the dead-letter queue
   * instead, as SQS does when its receive count would exceed the redrive policy.
   */
  receive(max: number, visibilityTimeoutSeconds: number): ReceivedMessage[] {
    checkInteger('max', max, 1, SQS_LIMITS.maxReceiveBatch);
    checkInteger(
      'visibilityTimeoutSeconds',
      visibilityTimeoutSeconds,
      0,
      SQS_LIMITS.maxVisibilityTimeoutSeconds,
    );
    const now = this.now();
    const visibleAt = now + visibilityTimeoutSeconds * 1000;
    // A cursor on seq, not "visible now": with a zero timeout a delivered message stays visible
    // and must not be picked twice in one batch.
    const candidates = this.db.prepare(
      'SELECT seq, message_id, body, sent_at, receive_count, first_received_at FROM queue_messages ' +
        'WHERE queue = ? AND visible_at <= ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    const deliver = this.db.prepare(
      'UPDATE queue_messages SET receive_count = ?, visible_at = ?, receipt_handle = ?, first_received_at = ? ' +
        'WHERE seq = ?',
    );
    return immediateTransaction(this.db, () => {
      const delivered: ReceivedMessage[] = [];
      let cursor = 0;
      while (delivered.length < max) {
        const rows = candidates.all(this.name, now, cursor, max - delivered.length);
        if (rows.length === 0) break;
        for (const row of rows) {
          const seq = integer(row, 'queue_messages', 'seq');
          cursor = seq;
          const receiveCount = integer(row, 'queue_messages', 'receive_count');
          if (receiveCount >= this.maxReceiveCount) {
            this.deadLetter(seq, now);
            continue;
          }
          const firstReceivedAtMs = optionalInteger(row, 'queue_messages', 'first_received_at') ?? now;
          const receiptHandle = randomUUID();
          deliver.run(receiveCount + 1, visibleAt, receiptHandle, firstReceivedAtMs, seq);
          delivered.push({
            messageId: text(row, 'queue_messages', 'message_id'),
            receiptHandle,
            body: text(row, 'queue_messages', 'body'),
            receiveCount: receiveCount + 1,
            sentAtMs: integer(row, 'queue_messages', 'sent_at'),
            firstReceivedAtMs,
            visibleAtMs: visibleAt,
          });
        }
      }
      return delivered;
    });
  }

  /**
   * Deletes one delivery now, before its batch is settled (the enrich handler's early
   * acknowledgement of a job finished on its last delivery). False when the handle is stale.
   */
  acknowledge(receiptHandle: string): boolean {
    const deleted = this.delete(receiptHandle);
    if (deleted) {
      this.acknowledged.add(receiptHandle);
      // Bounded: a batch abandoned by a stop never settles its handles.
      if (this.acknowledged.size > MAX_ACKNOWLEDGED) {
        const oldest = this.acknowledged.values().next().value;
        if (oldest !== undefined) this.acknowledged.delete(oldest);
      }
    }
    return deleted;
  }

  /** Deletes the message of this delivery. False when the handle is stale (received again since) or unknown. */
  delete(receiptHandle: string): boolean {
    // Already deleted by acknowledge(): settling the batch afterwards is not a stale handle.
    if (this.acknowledged.delete(receiptHandle)) return true;
    const result = this.db
      .prepare('DELETE FROM queue_messages WHERE queue = ? AND receipt_handle = ?')
      .run(this.name, receiptHandle);
    return result.changes > 0;
  }

  /**
   * Hides an in-flight message for `seconds` from now; 0 puts it back in the queue at once.
   * False when the handle is stale or unknown, or the message is no longer in flight.
   */
  changeVisibility(receiptHandle: string, seconds: number): boolean {
    checkInteger('seconds', seconds, 0, SQS_LIMITS.maxVisibilityTimeoutSeconds);
    const now = this.now();
    const result = this.db
      .prepare(
        'UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ? AND visible_at > ?',
      )
      .run(now + seconds * 1000, this.name, receiptHandle, now);
    return result.changes > 0;
  }

  stats(): QueueStats {
    const now = this.now();
    const live = this.db
      .prepare(
        `SELECT
           COALESCE(SUM(visible_at <= ?), 0) AS visible,
           COALESCE(SUM(visible_at > ? AND receive_count > 0), 0) AS in_flight,
           COALESCE(SUM(visible_at > ? AND receive_count = 0), 0) AS delayed
         FROM queue_messages WHERE queue = ?`,
      )
      .get(now, now, now, this.name);
    const dead = this.db
      .prepare('SELECT COUNT(*) AS dead FROM queue_dead_letters WHERE queue = ?')
      .get(this.name);
    if (!live || !dead) throw new Error('aggregate queries always return a row');
    return {
      visible: integer(live, 'queue_messages', 'visible'),
      inFlight: integer(live, 'queue_messages', 'in_flight'),
      delayed: integer(live, 'queue_messages', 'delayed'),
      dead: integer(dead, 'queue_dead_letters', 'dead'),
    };
  }

  /** When the next hidden message becomes visible (epoch ms), if any: lets a poller sleep until then. */
  nextVisibleAtMs(): number | undefined {
    const row = this.db
      .prepare('SELECT MIN(visible_at) AS next FROM queue_messages WHERE queue = ? AND visible_at > ?')
      .get(this.name, this.now());
    return row ? optionalInteger(row, 'queue_messages', 'next') : undefined;
  }

  /** Dead-lettered messages, oldest first. */
  deadLetters(limit = 1000): DeadLetter[] {
    return this.db
      .prepare(
        'SELECT message_id, body, sent_at, receive_count, dead_at FROM queue_dead_letters ' +
          'WHERE queue = ? ORDER BY seq LIMIT ?',
      )
      .all(this.name, limit)
      .map((row) => ({
        messageId: text(row, 'queue_dead_letters', 'message_id'),
        body: text(row, 'queue_dead_letters', 'body'),
        sentAtMs: integer(row, 'queue_dead_letters', 'sent_at'),
        receiveCount: integer(row, 'queue_dead_letters', 'receive_count'),
        deadAtMs: integer(row, 'queue_dead_letters', 'dead_at'),
      }));
  }

  /**
   * Moves up to `max` dead letters, oldest first, back into the queue (StartMessageMoveTask).
   * As in SQS they come back as new messages: new message id, sent now, receive count 0.
   * Returns how many were moved.
   */
  redrive(max = Number.MAX_SAFE_INTEGER): number {
    checkInteger('max', max, 0, Number.MAX_SAFE_INTEGER);
    const now = this.now();
    return immediateTransaction(this.db, () => {
      const rows = this.db
        .prepare('SELECT seq, body FROM queue_dead_letters WHERE queue = ? ORDER BY seq LIMIT ?')
        .all(this.name, max);
      const insert = this.db.prepare(
        'INSERT INTO queue_messages (queue, message_id, body, sent_at, visible_at) VALUES (?, ?, ?, ?, ?)',
      );
      const remove = this.db.prepare('DELETE FROM queue_dead_letters WHERE seq = ?');
      for (const row of rows) {
        insert.run(this.name, randomUUID(), text(row, 'queue_dead_letters', 'body'), now, now);
        remove.run(integer(row, 'queue_dead_letters', 'seq'));
      }
      return rows.length;
    });
  }

  /** Deletes every message of the queue, in flight or not (PurgeQueue). Returns how many. */
  purge(): number {
    return this.db.prepare('DELETE FROM queue_messages WHERE queue = ?').run(this.name).changes as number;
  }

  /** Deletes every dead letter of the queue. Returns how many. */
  purgeDeadLetters(): number {
    return this.db.prepare('DELETE FROM queue_dead_letters WHERE queue = ?').run(this.name).changes as number;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private deadLetter(seq: number, now: number): void {
    this.db
      .prepare(
        'INSERT INTO queue_dead_letters (queue, message_id, body, sent_at, receive_count, dead_at) ' +
          'SELECT queue, message_id, body, sent_at, receive_count, ? FROM queue_messages WHERE seq = ?',
      )
      .run(now, seq);
    this.db.prepare('DELETE FROM queue_messages WHERE seq = ?').run(seq);
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

function checkInteger(parameter: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidQueueRequestError(parameter, `must be an integer from ${min} to ${max} (got ${value})`);
  }
  return value;
}

function checkBody(body: string, index: number): void {
  const parameter = `bodies[${index}]`;
  if (body.length === 0) throw new InvalidQueueRequestError(parameter, 'must not be empty');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > SQS_LIMITS.maxBodyBytes) {
    throw new InvalidQueueRequestError(
      parameter,
      `is ${bytes} bytes; SQS accepts at most ${SQS_LIMITS.maxBodyBytes}`,
    );
  }
  if (INVALID_BODY_CHARACTER.test(body)) {
    throw new InvalidQueueRequestError(
      parameter,
      'contains a character SQS does not accept in a message body',
    );
  }
}
