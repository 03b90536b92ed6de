/**
 * The ports lib/pipeline keeps state and queues through: the ledger and its stores, the job
 * queue. lib/aws implements them on DynamoDB and SQS in Lambda, lib/local on SQLite in
 * `npm start`, the demo and tests. The pipeline never sees AWS, sockets or SQL. The other ports
 * live with their adapters: IntelSource in lib/criminalip/intel.ts, OpenCtiPort in
 * lib/opencti/port.ts; the basics (clock, log, metrics, lease) in lib/core.
 */
import type { Intel } from '../criminalip/intel';
import type { EnrichmentJob } from '../jobs/types';

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
