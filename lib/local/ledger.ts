/**
 * The Ledger port on a SQLite file, for `npm start`, the demo and tests: the Criminal IP answer
 * cache, finished-job marks and the quota pause, all with expiry, shared by every process that
 * opens the same file. Also the cross-process lease that serialises Criminal IP calls when the
 * key allows one call at a time and two consumers run side by side.
 *
 * Expiry is honoured on every read; expired rows are deleted lazily (when read, and a few at a
 * time on writes), so the file needs no background sweeper.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DatabaseSync } from 'node:sqlite';
import { systemClock, type Clock } from '../core/clock';
import type {
  CachedIntel,
  CreditsRecord,
  CreditsStore,
  Ledger,
  PlatformRecord,
  PlatformStore,
  SpendCounts,
  SpendPeriod,
  SpendStore,
  WrittenByUs,
} from '../pipeline/ports';
import {
  immediateTransaction,
  settle,
  integer,
  LocalStoreError,
  migrate,
  openDatabase,
  text,
  type Schema,
} from './sqlite';

/**
 * A named, expiring, exclusive lease shared by every process that sees the same store. A holder
 * that crashes loses its lease when the TTL ends, so keep TTLs near the length of one call.
 */
export interface CallLease {
  /**
   * Takes `name` for `holder` for `ttlMs`, or extends it when `holder` already has it.
   * False when another holder's lease has not expired.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up. False when `holder` no longer held it (it expired and was taken, or never was). */
  releaseLease(name: string, holder: string): Promise<boolean>;
}

/** A holder id unique to this process and call site, for CallLease. */
export function newLeaseHolder(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

export interface LocalLedgerOptions {
  /** SQLite file path (created when missing), or ':memory:'. May be the queue's file. */
  location: string;
  clock?: Clock;
  busyTimeoutMs?: number;
}

const SCHEMA: Schema = {
  component: 'ledger',
  steps: [
    `CREATE TABLE ledger_intel (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL);
     CREATE INDEX ledger_intel_by_expiry ON ledger_intel (expires_at);
     CREATE TABLE ledger_done (job_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
     CREATE INDEX ledger_done_by_expiry ON ledger_done (expires_at);
     CREATE TABLE ledger_quota_pause (id INTEGER PRIMARY KEY CHECK (id = 1), until_ms INTEGER NOT NULL);
     CREATE TABLE ledger_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
    // What the connector last wrote per observable (score provenance, its verdict labels, its Indicator).
    `CREATE TABLE ledger_written (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
    // What registration / ping learned about the OpenCTI platform (version, JWKS): one row.
    `CREATE TABLE ledger_platform (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);`,
    // Criminal IP calls per budget window: `month#2026-12`, `day#2026-12-03` (budget.ts).
    `CREATE TABLE ledger_spend (period TEXT PRIMARY KEY, calls INTEGER NOT NULL);`,
    // The Criminal IP account's credits as the last ping read them: one row.
    `CREATE TABLE ledger_credits (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);`,
  ],
};

/**
 * What a job's deliveries hand on to the next one (`work#<jobId>`, `answer#<jobId>`): a component
 * of its own, so that its schema steps never interleave with the ledger's.
 */
const JOB_RECORDS_SCHEMA: Schema = {
  component: 'ledger-job-records',
  steps: [
    `CREATE TABLE ledger_job_records (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL);
     CREATE INDEX ledger_job_records_by_expiry ON ledger_job_records (expires_at);`,
  ],
};

/** Expired rows removed per write: bounded, so a write never stalls on a large backlog. */
const CLEANUP_BATCH = 100;

export class LocalLedger implements Ledger, CallLease, PlatformStore, SpendStore, CreditsStore {
  private readonly db: DatabaseSync;
  private readonly clock: Clock;

  constructor(options: LocalLedgerOptions) {
    this.clock = options.clock ?? systemClock;
    this.db = openDatabase(options.location, SCHEMA, { busyTimeoutMs: options.busyTimeoutMs });
    try {
      migrate(this.db, JOB_RECORDS_SCHEMA);
    } catch (error) {
      this.db.close();
      throw new LocalStoreError(options.location, error);
    }
  }

  getIntel(key: string): Promise<CachedIntel | undefined> {
    return settle(() => {
      const now = this.now();
      const row = this.db.prepare('SELECT value, expires_at FROM ledger_intel WHERE key = ?').get(key);
      if (!row) return undefined;
      if (integer(row, 'ledger_intel', 'expires_at') <= now) {
        this.db.prepare('DELETE FROM ledger_intel WHERE key = ? AND expires_at <= ?').run(key, now);
        return undefined;
      }
      return JSON.parse(text(row, 'ledger_intel', 'value')) as CachedIntel;
    });
  }

  putIntel(key: string, value: CachedIntel, ttlSeconds: number): Promise<void> {
    return settle(() => {
      const now = this.now();
      const expiresAt = now + Math.round(checkTtlSeconds(ttlSeconds) * 1000);
      immediateTransaction(this.db, () => {
        this.db
          .prepare(
            'INSERT INTO ledger_intel (key, value, expires_at) VALUES (?, ?, ?) ' +
              'ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
          )
          .run(key, JSON.stringify(value), expiresAt);
        this.removeExpired('ledger_intel', now);
      });
    });
  }

  isDone(jobId: string): Promise<boolean> {
    return settle(() => {
      const row = this.db
        .prepare('SELECT 1 AS done FROM ledger_done WHERE job_id = ? AND expires_at > ?')
        .get(jobId, this.now());
      return row !== undefined;
    });
  }

  markDone(jobId: string, ttlSeconds: number): Promise<void> {
    return settle(() => {
      const now = this.now();
      const expiresAt = now + Math.round(checkTtlSeconds(ttlSeconds) * 1000);
      immediateTransaction(this.db, () => {
        this.db
          .prepare(
            'INSERT INTO ledger_done (job_id, expires_at) VALUES (?, ?) ' +
              'ON CONFLICT (job_id) DO UPDATE SET expires_at = excluded.expires_at',
          )
          .run(jobId, expiresAt);
        this.removeExpired('ledger_done', now);
      });
    });
  }

  getJobWork(jobId: string): Promise<string | undefined> {
    return settle(() => this.getRecord(`work#${jobId}`));
  }

  putJobWork(jobId: string, workId: string, ttlSeconds: number): Promise<void> {
    return settle(() => this.putRecord(`work#${jobId}`, workId, ttlSeconds));
  }

  getStepAnswer(jobId: string): Promise<string | undefined> {
    return settle(() => this.getRecord(`answer#${jobId}`));
  }

  putStepAnswer(jobId: string, answer: string, ttlSeconds: number): Promise<void> {
    return settle(() => this.putRecord(`answer#${jobId}`, answer, ttlSeconds));
  }

  /** The pause end while it lies ahead; undefined once it has passed (the pause is over). */
  getQuotaPause(): Promise<number | undefined> {
    return settle(() => {
      const row = this.db.prepare('SELECT until_ms FROM ledger_quota_pause WHERE id = 1').get();
      if (!row) return undefined;
      const until = integer(row, 'ledger_quota_pause', 'until_ms');
      return until > this.now() ? until : undefined;
    });
  }

  setQuotaPause(untilEpochMs: number | undefined): Promise<void> {
    return settle(() => {
      if (untilEpochMs === undefined) {
        this.db.prepare('DELETE FROM ledger_quota_pause WHERE id = 1').run();
        return;
      }
      if (!Number.isFinite(untilEpochMs))
        throw new RangeError('setQuotaPause needs an epoch-millisecond time');
      this.db
        .prepare(
          'INSERT INTO ledger_quota_pause (id, until_ms) VALUES (1, ?) ' +
            'ON CONFLICT (id) DO UPDATE SET until_ms = excluded.until_ms',
        )
        .run(Math.trunc(untilEpochMs));
    });
  }

  getWritten(key: string): Promise<WrittenByUs | undefined> {
    return settle(() => {
      const row = this.db.prepare('SELECT value FROM ledger_written WHERE key = ?').get(key);
      return row ? (JSON.parse(text(row, 'ledger_written', 'value')) as WrittenByUs) : undefined;
    });
  }

  /** Kept without expiry: provenance must outlive any freshness window (one small row per observable). */
  putWritten(key: string, value: WrittenByUs): Promise<void> {
    return settle(() => {
      this.db
        .prepare(
          'INSERT INTO ledger_written (key, value) VALUES (?, ?) ' +
            'ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(key, JSON.stringify(value));
    });
  }

  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return settle(() => {
      if (!Number.isInteger(ttlMs) || ttlMs <= 0)
        throw new RangeError('a lease TTL must be a positive whole number of ms');
      const now = this.now();
      // Read and claim under one write lock, so two processes cannot both see the lease free.
      return immediateTransaction(this.db, () => {
        const row = this.db.prepare('SELECT holder, expires_at FROM ledger_leases WHERE name = ?').get(name);
        const free =
          !row ||
          text(row, 'ledger_leases', 'holder') === holder ||
          integer(row, 'ledger_leases', 'expires_at') <= now;
        if (!free) return false;
        this.db
          .prepare(
            'INSERT INTO ledger_leases (name, holder, expires_at) VALUES (?, ?, ?) ' +
              'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at',
          )
          .run(name, holder, now + ttlMs);
        return true;
      });
    });
  }

  releaseLease(name: string, holder: string): Promise<boolean> {
    return settle(() => {
      const result = this.db
        .prepare('DELETE FROM ledger_leases WHERE name = ? AND holder = ? AND expires_at > ?')
        .run(name, holder, this.now());
      return result.changes > 0;
    });
  }

  getPlatform(): Promise<PlatformRecord | undefined> {
    return settle(() => this.singleRow<PlatformRecord>('ledger_platform'));
  }

  putPlatform(record: PlatformRecord): Promise<void> {
    return settle(() => this.putSingleRow('ledger_platform', record));
  }

  addSpend(period: SpendPeriod, calls: number, limits: Partial<SpendCounts>): Promise<boolean> {
    return settle(() => {
      // One write transaction at a time across processes (BEGIN IMMEDIATE): read, check, add.
      return immediateTransaction(this.db, () => {
        const spent = this.spendOf(period);
        for (const window of ['day', 'month'] as const) {
          const limit = limits[window];
          if (limit !== undefined && spent[window] + calls > limit) return false;
        }
        const add = this.db.prepare(
          'INSERT INTO ledger_spend (period, calls) VALUES (?, ?) ' +
            'ON CONFLICT (period) DO UPDATE SET calls = calls + excluded.calls',
        );
        add.run(`month#${period.month}`, calls);
        add.run(`day#${period.day}`, calls);
        return true;
      });
    });
  }

  readSpend(period: SpendPeriod): Promise<SpendCounts> {
    return settle(() => this.spendOf(period));
  }

  getCredits(): Promise<CreditsRecord | undefined> {
    return settle(() => this.singleRow<CreditsRecord>('ledger_credits'));
  }

  putCredits(record: CreditsRecord): Promise<void> {
    return settle(() => this.putSingleRow('ledger_credits', record));
  }

  /** The JSON value of a one-row table (the platform record, the credits), if written yet. */
  private singleRow<T>(table: 'ledger_platform' | 'ledger_credits'): T | undefined {
    const row = this.db.prepare(`SELECT value FROM ${table} WHERE id = 1`).get();
    return row ? (JSON.parse(text(row, table, 'value')) as T) : undefined;
  }

  private putSingleRow(table: 'ledger_platform' | 'ledger_credits', value: unknown): void {
    this.db
      .prepare(
        `INSERT INTO ${table} (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value`,
      )
      .run(JSON.stringify(value));
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private spendOf(period: SpendPeriod): SpendCounts {
    const read = (key: string) => {
      const row = this.db.prepare('SELECT calls FROM ledger_spend WHERE period = ?').get(key);
      return row ? integer(row, 'ledger_spend', 'calls') : 0;
    };
    return { month: read(`month#${period.month}`), day: read(`day#${period.day}`) };
  }

  private getRecord(key: string): string | undefined {
    const row = this.db
      .prepare('SELECT value FROM ledger_job_records WHERE key = ? AND expires_at > ?')
      .get(key, this.now());
    return row ? text(row, 'ledger_job_records', 'value') : undefined;
  }

  private putRecord(key: string, value: string, ttlSeconds: number): void {
    const now = this.now();
    const expiresAt = now + Math.round(checkTtlSeconds(ttlSeconds) * 1000);
    immediateTransaction(this.db, () => {
      this.db
        .prepare(
          'INSERT INTO ledger_job_records (key, value, expires_at) VALUES (?, ?, ?) ' +
            'ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
        )
        .run(key, value, expiresAt);
      this.removeExpired('ledger_job_records', now);
    });
  }

  private removeExpired(table: 'ledger_intel' | 'ledger_done' | 'ledger_job_records', now: number): void {
    this.db
      .prepare(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expires_at <= ? LIMIT ?)`,
      )
      .run(now, CLEANUP_BATCH);
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

function checkTtlSeconds(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) {
    throw new RangeError(`a TTL must be a non-negative number of seconds (got ${ttlSeconds})`);
  }
  return ttlSeconds;
}
