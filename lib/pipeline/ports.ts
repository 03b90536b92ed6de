/**
 * The ports lib/pipeline is built from. Adapters implement them: lib/criminalip and lib/opencti
 * over HTTP, lib/aws (DynamoDB, SQS) in Lambda, lib/local (node:sqlite) in `npm start`, the
 * demo and tests. The pipeline never sees AWS, sockets or SQL.
 */
import type { EnrichmentJob, Observable, ScanProgress } from '../jobs/types';
import type { StixBundle } from '../stix/core';

/** What Criminal IP knows about one observable, as raw response bodies (mapping reads them tolerantly). */
export type Intel =
  | {
      kind: 'ip';
      /** GET /v1/asset/ip/report?full=true */
      report: unknown;
      maliciousInfo?: unknown;
      suspiciousInfo?: unknown;
    }
  | {
      kind: 'domain';
      /** The scan whose report this is (for the report page link); none for a quick verdict alone. */
      scanId?: string;
      /** GET /v2/domain/report/{scan_id} (full mode) */
      report?: unknown;
      /** GET /v1/domain/lite/report/{scan_id} (lite mode) */
      liteReport?: unknown;
      /** GET /v1/domain/quick/hash/view: the instant verdict (scan mode auto). */
      quick?: unknown;
    };

export type LookupResult =
  | { status: 'ready'; intel: Intel; calls: number }
  /** A scan is running: deliver the job again after `retryAfterSeconds` with this progress. */
  | { status: 'pending'; scan: ScanProgress; retryAfterSeconds: number; calls: number }
  /** Criminal IP has nothing (scan -2, reuse-only with no report, invalid target it refused). */
  | { status: 'not-found'; reason: string; calls: number };

export interface LookupOptions {
  /** Runs before each Criminal IP call of the lookup; throwing stops it (the call budget). */
  beforeCall?: () => Promise<void>;
  /**
   * Scan mode auto: an analyst asked (manual enrichment, the CLI), so a domain or URL without a
   * recent report gets the full scan rather than the quick verdict or a lite scan.
   */
  fullScan?: boolean;
}

export interface IntelSource {
  /** Looks the observable up, resuming `scan` when given. Throws CriminalIpError subclasses. */
  lookup(observable: Observable, scan?: ScanProgress, options?: LookupOptions): Promise<LookupResult>;
}

export interface PlaybookAnswer {
  executionId: string;
  eventId: string;
  executionStart: string;
  dataInstanceId: string;
  playbookId: string;
  previousStepId: string;
  stepId: string;
  previousBundle: string;
  bundle: string;
}

/** Write-back to OpenCTI. Throws OpenCtiError subclasses. */
export interface OpenCtiPort {
  workAdd(friendlyName: string): Promise<string>;
  workToReceived(workId: string, message: string): Promise<void>;
  workToProcessed(workId: string, message: string, inError: boolean): Promise<void>;
  pushBundle(bundle: StixBundle, workId: string | undefined): Promise<void>;
  playbookStepExecution(answer: PlaybookAnswer): Promise<void>;
  /** STIX ids of the markings on an entity, or null when OpenCTI does not know the entity. */
  readMarkings(entityId: string): Promise<string[] | null>;
  /** What the observable holds now (score, description, author, labels), or null when unknown. */
  readObservableState(entityId: string): Promise<ObservableState | null>;
  /** Takes labels (by label id) off an observable; the labels themselves stay. */
  removeLabels(entityId: string, labelIds: string[]): Promise<void>;
}

/** An observable as OpenCTI holds it, for the decisions that respect what analysts wrote. */
export interface ObservableState {
  score?: number;
  description?: string;
  /** STIX id of the author, when it has one. */
  createdByRef?: string;
  /** Label values, with OpenCTI's label id when it was read from OpenCTI (needed to remove one). */
  labels: Array<{ value: string; id?: string }>;
}

/** What the connector itself last wrote on an observable (the ledger remembers it). */
export interface WrittenByUs {
  /** The x_opencti_score it wrote, if it wrote one. */
  score?: number;
  /** The current-state labels it wrote (verdict words), to remove them when they go stale. */
  stateLabels: string[];
  /** Its Indicator for the observable, while it has one. */
  indicator?: { id: string; validFrom: string; confidence?: number };
  /** ISO time of that write. */
  at: string;
}

export interface CachedIntel {
  intel: Intel;
  fetchedAt: string;
}

/**
 * Shared state that must survive the process and be seen by every instance: the result cache
 * (freshness window), finished-job marks (idempotency) and the quota circuit.
 */
export interface Ledger {
  getIntel(key: string): Promise<CachedIntel | undefined>;
  putIntel(key: string, value: CachedIntel, ttlSeconds: number): Promise<void>;
  /** True when `jobId` already completed (a duplicate delivery). */
  isDone(jobId: string): Promise<boolean>;
  markDone(jobId: string, ttlSeconds: number): Promise<void>;
  /**
   * The OpenCTI work a job opened (webhook, CLI, sweep): every delivery of the job reuses it, so
   * the work holding the bundle is the one closed (write-back.ts).
   */
  getJobWork(jobId: string): Promise<string | undefined>;
  putJobWork(jobId: string, workId: string, ttlSeconds: number): Promise<void>;
  /**
   * A playbook step's answer as built (JSON text, write-back.ts), kept until the step is answered
   * so that a later delivery re-sends it instead of enriching again.
   */
  getStepAnswer(jobId: string): Promise<string | undefined>;
  putStepAnswer(jobId: string, answer: string, ttlSeconds: number): Promise<void>;
  /** Epoch ms until which Criminal IP must not be called (quota exhausted), if any. */
  getQuotaPause(): Promise<number | undefined>;
  setQuotaPause(untilEpochMs: number | undefined): Promise<void>;
  /** What the connector last wrote on the observable `key` (its standard id), if anything. */
  getWritten(key: string): Promise<WrittenByUs | undefined>;
  putWritten(key: string, value: WrittenByUs): Promise<void>;
}

/**
 * What the connector learned about its OpenCTI platform at registration or ping: the version
 * (id rules, filter operators) and, on 7.x, the JWKS that verifies the worker's callback JWTs.
 * Kept in the ledger so that the ingest and enrich functions need no GraphQL call per request.
 */
export interface PlatformRecord {
  /** `about { version }`, e.g. "6.9.17", "7.260309.0-lts.7", "7.260817.0". */
  version: string;
  /** `Connector.jwks` (a JSON string), on platforms that publish it. */
  jwks?: string;
  /** Input fields of RegisterConnectorInput (registration sends version/slug when present). */
  registerInputFields?: string[];
  /** When it was read (ISO 8601). */
  checkedAt: string;
}

/** Implemented by both ledgers (SQLite locally, DynamoDB in AWS). */
export interface PlatformStore {
  getPlatform(): Promise<PlatformRecord | undefined>;
  putPlatform(record: PlatformRecord): Promise<void>;
}

/** A UTC month and one of its days, the two budget windows: { month: '2026-12', day: '2026-12-03' }. */
export interface SpendPeriod {
  month: string;
  day: string;
}

/** Criminal IP calls counted in the day and in the month. */
export interface SpendCounts {
  day: number;
  month: number;
}

/**
 * The Criminal IP calls spent per UTC day and month, one count shared by every consumer
 * (DynamoDB in AWS, SQLite locally), so that no window passes its budget however many
 * consumers spend at once (budget.ts).
 */
export interface SpendStore {
  /**
   * Adds `calls` to the day and to the month, both or neither: neither when the new count of a
   * window would pass the limit given for it (a window without a limit always takes them).
   * True when they were added.
   */
  addSpend(period: SpendPeriod, calls: number, limits: Partial<SpendCounts>): Promise<boolean>;
  readSpend(period: SpendPeriod): Promise<SpendCounts>;
}

/** The Criminal IP account's credits, as `/v1/user/me` last said (`max_search`). */
export interface CreditsRecord {
  credits: number;
  /** When it was asked (ISO 8601). */
  checkedAt: string;
}

/** Where the ping keeps the account's credits for the work messages (both ledgers). */
export interface CreditsStore {
  getCredits(): Promise<CreditsRecord | undefined>;
  putCredits(record: CreditsRecord): Promise<void>;
}

export interface JobQueue {
  /** Queues jobs, optionally delayed (seconds, at most 900 as in SQS). */
  send(jobs: EnrichmentJob[], delaySeconds?: number): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** Structured logging; Powertools Logger satisfies it. Never pass secrets. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface MetricsSink {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
}

export const systemClock: Clock = { now: () => new Date() };
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: MetricsSink = { count() {} };

/**
 * A named, expiring lease shared by every instance (DynamoDB in AWS, SQLite locally): keeps the
 * Criminal IP calls of all consumers within what the key allows.
 */
export interface CallLease {
  /** Takes `name` for `holder` during `ttlMs` (again: extends it); false when another holder has it. */
  tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives it back if `holder` still holds it. */
  release(name: string, holder: string): Promise<void>;
}
