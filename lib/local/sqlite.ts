/**
 * Opening and migrating the SQLite files behind the local runtime (node:sqlite, built into Node 24).
 *
 * Several processes may share one file (two consumers side by side, `serve` plus a CLI run), so
 * every file runs in write-ahead-log mode with a busy timeout, and every read-modify-write goes
 * through `immediateTransaction`, which takes the write lock up front: two processes can never
 * both read the same "free" row and both claim it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';

/** The special location of a private, throw-away database (tests). */
export const IN_MEMORY = ':memory:';

/** How long a statement waits for another process's write lock before failing. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The schema of one component (queue, ledger), as numbered steps. Steps are append-only: a file
 * created by an older version is brought up to date by running the steps it has not seen. Each
 * component keeps its own version, so components can share one file.
 */
export interface Schema {
  component: string;
  steps: readonly string[];
}

/** The local state file could not be opened or prepared. */
export class LocalStoreError extends Error {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `Cannot use the local state database ${location}: ${why}. ` +
        'Check that DATA_DIR points to a writable folder and that no other program holds the file locked.',
      { cause },
    );
    this.name = 'LocalStoreError';
  }
}

/** A row held something other than what this code wrote there: the file is foreign or damaged. */
export class CorruptRowError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
  ) {
    super(
      `Unexpected value in ${table}.${column} of the local state database; ` +
        'delete the file (its contents are local queue and cache state) to start afresh.',
    );
    this.name = 'CorruptRowError';
  }
}

export interface OpenOptions {
  busyTimeoutMs?: number;
}

/** Opens (creating when needed) a database file and brings `schema` up to date in it. */
export function openDatabase(location: string, schema: Schema, options: OpenOptions = {}): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    if (location !== IN_MEMORY) mkdirSync(path.dirname(path.resolve(location)), { recursive: true });
    db = new DatabaseSync(location, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    // WAL lets readers proceed while another process writes; the setting is stored in the file.
    if (location !== IN_MEMORY) {
      db.exec('PRAGMA journal_mode = WAL');
      // In WAL mode NORMAL still never corrupts the database; a power cut may lose the last
      // commits, and a process crash loses nothing. FULL made every queue operation wait for the disk.
      db.exec('PRAGMA synchronous = NORMAL');
    }
    migrate(db, schema);
    return db;
  } catch (error) {
    db?.close();
    throw new LocalStoreError(location, error);
  }
}

/** Brings `schema` up to date in an open database (a second component sharing a file). */
export function migrate(db: DatabaseSync, schema: Schema): void {
  immediateTransaction(db, () => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)',
    );
    const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(schema.component);
    const applied = row ? integer(row, 'schema_versions', 'version') : 0;
    if (applied > schema.steps.length) {
      throw new Error(
        `its ${schema.component} schema (version ${applied}) is newer than this program (version ${schema.steps.length})`,
      );
    }
    for (const step of schema.steps.slice(applied)) db.exec(step);
    db.prepare(
      'INSERT INTO schema_versions (component, version) VALUES (?, ?) ' +
        'ON CONFLICT (component) DO UPDATE SET version = excluded.version',
    ).run(schema.component, schema.steps.length);
  });
}

/**
 * Runs `work` in a transaction that holds the write lock from its first statement (BEGIN
 * IMMEDIATE), waiting up to the busy timeout for another process to finish. Rolls back on error.
 */
/**
 * The promise a port method returns for synchronous SQLite work (node:sqlite is synchronous): a
 * thrown error becomes the rejection callers of the port expect, as with the DynamoDB adapter.
 */
export function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

export function immediateTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

type Row = Record<string, SQLOutputValue>;

/** Reads a TEXT column this code wrote. */
export function text(row: Row, table: string, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new CorruptRowError(table, column);
  return value;
}

/** Reads an INTEGER column this code wrote (epoch milliseconds, counts). */
export function integer(row: Row, table: string, column: string): number {
  const value = row[column];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new CorruptRowError(table, column);
  return value;
}

/** Reads an INTEGER column that may be NULL. */
export function optionalInteger(row: Row, table: string, column: string): number | undefined {
  return row[column] === null ? undefined : integer(row, table, column);
}
