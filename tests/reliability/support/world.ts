/**
 * The product on its local runtime pieces, wired for the reliability suite: both stand-ins on
 * loopback, the ingest handler behind the local HTTP server, and one or more consumers, each a
 * LocalQueue + LocalLedger on one shared SQLite file with its own Criminal IP client (call slots
 * over the shared ledger lease, the quota circuit), its own OpenCTI client and the enrich handler.
 * Time is a ManualClock that the driver moves; HTTP timeouts are real and small.
 *
 * Everything the suite reconciles is recorded here: jobs accepted by the ingest route, jobs
 * re-queued, every Criminal IP lookup with the HTTP calls made inside it, every finished-job mark,
 * the handler's job lines, metrics.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createEnrichHandler } from '../../../functions/enrich/handler';
import { createIngestHandler } from '../../../functions/ingest/handler';
import { loadConfig, type Config } from '../../../lib/config';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  Semaphore,
  type CallRecord,
} from '../../../lib/criminalip';
import { LeaseCallSlots } from '../../../lib/criminalip/call-slots';
import type { EnrichmentJob } from '../../../lib/jobs/types';
import { localCallLease } from '../../../lib/local/lease';
import { LocalLedger } from '../../../lib/local/ledger';
import { localJobQueue } from '../../../lib/local/compose';
import { LocalQueue } from '../../../lib/local/queue';
import { startLocalServer, type LocalServer } from '../../../lib/local/server';
import { createOpenCtiClient, createOpenCtiPort } from '../../../lib/opencti';
import type { IntelSource, LookupResult } from '../../../lib/criminalip/intel';
import type { JobQueue, Ledger } from '../../../lib/pipeline/ports';
import type { Log } from '../../../lib/core/log';
import type { MetricsSink } from '../../../lib/core/metrics';
import { QuotaCircuit } from '../../../lib/pipeline/quota';
import {
  seededRandom,
  startCriminalIpStandIn,
  type CriminalIpStandIn,
  type StandInOptions,
} from '../../../lib/standins/criminalip';
import {
  startOpenCtiStandIn,
  type OpenCtiStandIn,
  type OpenCtiStandInOptions,
} from '../../../lib/standins/opencti';
import { ManualClock } from '../../helpers/manual-clock';

export const CONNECTOR_ID = '0b7e4c2a-9d3f-4a1e-8c5b-6f2d1e0a9b8c';
export const WEBHOOK_TOKEN = 'reliability-webhook-token-4f1c';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: Record<string, unknown>;
}

/** One call of IntelSource.lookup and the HTTP calls made inside it. */
export interface LookupTrace {
  consumer: number;
  /** type:value, the cache key. */
  key: string;
  scanId: string | undefined;
  polls: number | undefined;
  status: LookupResult['status'] | undefined;
  /** The scan a pending result started or goes on with. */
  resultScanId: string | undefined;
  /** Error kind when the lookup threw. */
  error: string | undefined;
  /** `calls` the lookup reported (its result, or the error's). */
  reported: number;
  http: CallRecord[];
  /** Made inside a batch whose handler then crashed. */
  crashed: boolean;
}

/** The handler's one line per job delivery. */
export interface DeliveryLine {
  consumer: number;
  jobId: string;
  origin: string;
  attempt: number;
  outcome: 'written' | 'skipped' | 'retry-later' | 'failed' | 'error';
  reason: string | undefined;
  calls: number | undefined;
}

export interface Trace {
  /** First acceptance of each job id by an ingest route. */
  accepted: Map<string, EnrichmentJob>;
  /** Jobs queued by the ingest routes, duplicates included. */
  acceptances: number;
  /** Jobs sent back to the queue with a delay (retry-later). */
  requeues: number;
  lookups: LookupTrace[];
  /** Every HTTP call the Criminal IP clients made (all consumers). */
  calls: CallRecord[];
  /** markDone calls per job id (or mark). */
  marks: Map<string, number>;
  deliveries: DeliveryLine[];
  logs: LogLine[];
  metrics: Array<{ name: string; value: number; dimensions: Record<string, string> }>;
  crashes: number;
  crashedRecords: number;
}

export interface Consumer {
  id: number;
  queue: LocalQueue;
  ledger: LocalLedger;
  slots: LeaseCallSlots | undefined;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** The next batch crashes once `processed` of its records are done. */
  crashNextBatch(processed: number): void;
  /** The batch in progress dies once its handler returns: its answer is never given. */
  kill(): void;
}

export interface WorldOptions {
  env?: Record<string, string>;
  cip?: StandInOptions;
  octi?: OpenCtiStandInOptions;
  consumers?: number;
  /** Criminal IP client timeout (connect, headers, body), real milliseconds. Default 200. */
  cipTimeoutMs?: number;
  /** OpenCTI client timeout, real milliseconds. Default 300. */
  octiTimeoutMs?: number;
  octiMaxRetries?: number;
  /** Call slots over the shared ledger lease (default true). */
  callSlots?: boolean;
  /** Real milliseconds a consumer waits for a call slot before re-queueing the job. Default 250. */
  slotWaitMs?: number;
  /** Job and lookup claims in the pipeline (default true). */
  claims?: boolean;
  /** Records of one batch processed at once (default 4, the product's default). */
  concurrency?: number;
  /**
   * Called before each write of a job record or mark (`markDone`, `putJobWork`,
   * `putStepAnswer`) with the method and key; throwing fails the write (a ledger fault).
   */
  beforeLedgerWrite?: (method: string, key: string) => void;
  /** Delete the message of a job finished on its last delivery at once (default true, as the product does). */
  earlyAck?: boolean;
  seed?: number;
}

export interface World {
  clock: ManualClock;
  config: Config;
  cip: CriminalIpStandIn;
  octi: OpenCtiStandIn;
  server: LocalServer;
  consumers: Consumer[];
  trace: Trace;
  /** POSTs a body to a route with the right credentials; answers status and body. */
  post(
    route: '/opencti/callback' | '/webhook',
    body: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const noWait = async () => {};

/**
 * Where the SQLite state lives: in memory-backed /dev/shm when there is one (every commit of a
 * WAL database syncs to disk, which would make thousands of jobs slow), else the temp folder.
 */
function stateRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
}

/** Reads the enrich handler's job lines (the ones carrying `outcome`) into DeliveryLines. */
function deliveryOf(consumer: number, extra: Record<string, unknown>): DeliveryLine | undefined {
  const outcome = extra.outcome;
  if (typeof extra.jobId !== 'string' || typeof outcome !== 'string') return undefined;
  if (!['written', 'skipped', 'retry-later', 'failed', 'error'].includes(outcome)) return undefined;
  return {
    consumer,
    jobId: extra.jobId,
    origin: typeof extra.origin === 'string' ? extra.origin : '',
    attempt: typeof extra.attempt === 'number' ? extra.attempt : 0,
    outcome: outcome as DeliveryLine['outcome'],
    reason: typeof extra.reason === 'string' ? extra.reason : undefined,
    calls: typeof extra.calls === 'number' ? extra.calls : undefined,
  };
}

function recordingLog(trace: Trace, consumer: number): Log {
  const at =
    (level: LogLine['level']) =>
    (message: string, extra: Record<string, unknown> = {}): void => {
      trace.logs.push({ level, message, extra });
      const line = deliveryOf(consumer, extra);
      if (line) trace.deliveries.push(line);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function recordingMetrics(trace: Trace): MetricsSink {
  return {
    count(name, value = 1, dimensions = {}) {
      trace.metrics.push({ name, value, dimensions });
    },
  };
}

/** The ledger, with every markDone counted: a job marked twice was finished twice. */
function countingLedger(
  inner: LocalLedger,
  marks: Map<string, number>,
  before: (method: string, key: string) => void = () => {},
): Ledger {
  return {
    getIntel: (key) => inner.getIntel(key),
    putIntel: (key, value, ttl) => inner.putIntel(key, value, ttl),
    isDone: (jobId) => inner.isDone(jobId),
    async markDone(jobId, ttl) {
      before('markDone', jobId);
      marks.set(jobId, (marks.get(jobId) ?? 0) + 1);
      await inner.markDone(jobId, ttl);
    },
    getJobWork: (jobId) => inner.getJobWork(jobId),
    async putJobWork(jobId, workId, ttl) {
      before('putJobWork', jobId);
      await inner.putJobWork(jobId, workId, ttl);
    },
    getStepAnswer: (jobId) => inner.getStepAnswer(jobId),
    async putStepAnswer(jobId, answer, ttl) {
      before('putStepAnswer', jobId);
      await inner.putStepAnswer(jobId, answer, ttl);
    },
    getQuotaPause: () => inner.getQuotaPause(),
    setQuotaPause: (until) => inner.setQuotaPause(until),
    getWritten: (key) => inner.getWritten(key),
    putWritten: (key, value) => inner.putWritten(key, value),
  };
}

/** Queue sends, counted: the ingest's as acceptances, the consumers' as re-queues. */
function countingQueue(inner: JobQueue, onSend: (jobs: EnrichmentJob[]) => void): JobQueue {
  return {
    async send(jobs, delaySeconds) {
      await inner.send(jobs, delaySeconds);
      onSend(jobs);
    },
  };
}

const lookupContext = new AsyncLocalStorage<LookupTrace>();
const crashContext = new AsyncLocalStorage<boolean>();

/** IntelSource that records each lookup and, through the async context, the HTTP calls inside it. */
function tracingIntel(inner: IntelSource, trace: Trace, consumer: number): IntelSource {
  return {
    async lookup(observable, scan) {
      const entry: LookupTrace = {
        consumer,
        key: `${observable.type}:${observable.value}`,
        scanId: scan?.scanId,
        polls: scan?.polls,
        status: undefined,
        resultScanId: undefined,
        error: undefined,
        reported: 0,
        http: [],
        crashed: crashContext.getStore() === true,
      };
      trace.lookups.push(entry);
      try {
        const result = await lookupContext.run(entry, () => inner.lookup(observable, scan));
        entry.status = result.status;
        if (result.status === 'pending') entry.resultScanId = result.scan.scanId;
        entry.reported = result.calls;
        return result;
      } catch (error) {
        entry.error = (error as { kind?: string }).kind ?? (error as Error).name;
        entry.reported = (error as { calls?: number }).calls ?? 0;
        throw error;
      }
    },
  };
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const clock = new ManualClock();
  const now = () => clock.now();
  const seed = options.seed ?? 7;
  const cip = await startCriminalIpStandIn({ now, seed, scanProgress: [100], ...options.cip });
  const octi = await startOpenCtiStandIn({ now, seed, ...options.octi });
  const dataDir = await mkdtemp(path.join(stateRoot(), 'cip-octi-reliability-'));
  const file = path.join(dataDir, 'state.sqlite');

  const loaded = loadConfig({
    CRIMINALIP_API_KEY: cip.apiKey,
    CRIMINALIP_API_URL: cip.url,
    CRIMINALIP_MAX_RETRIES: '2',
    CRIMINALIP_SCAN_POLL_SECONDS: '10',
    OPENCTI_URL: octi.url,
    OPENCTI_TOKEN: octi.token,
    CONNECTOR_ID,
    WEBHOOK_TOKEN,
    QUEUE_MAX_RECEIVE_COUNT: '3',
    QUEUE_VISIBILITY_SECONDS: '60',
    DATA_DIR: dataDir,
    ...options.env,
  });
  // Below what loadConfig accepts: the stand-ins answer in microseconds, and a hung request
  // should cost the suite a fraction of a second.
  const config: Config = {
    ...loaded,
    criminalIp: { ...loaded.criminalIp, timeoutMs: options.cipTimeoutMs ?? 200 },
    opencti: { ...loaded.opencti, timeoutMs: options.octiTimeoutMs ?? 300 },
  };

  const trace: Trace = {
    accepted: new Map(),
    acceptances: 0,
    requeues: 0,
    lookups: [],
    calls: [],
    marks: new Map(),
    deliveries: [],
    logs: [],
    metrics: [],
    crashes: 0,
    crashedRecords: 0,
  };
  const metrics = recordingMetrics(trace);

  const opened: Array<{ close(): void }> = [];
  const consumers: Consumer[] = [];
  for (let id = 0; id < (options.consumers ?? 1); id += 1) {
    const queue = new LocalQueue({ location: file, maxReceiveCount: config.queue.maxReceiveCount, clock });
    const ledger = new LocalLedger({ location: file, clock });
    opened.push(queue, ledger);
    const lease = localCallLease(ledger);
    // The runtime's own job queue: a job too large for a message is stored aside in DATA_DIR.
    const jobQueue = localJobQueue(queue, dataDir);
    const random = seededRandom(seed * 31 + id);
    const slots =
      options.callSlots === false
        ? undefined
        : new LeaseCallSlots({
            lease,
            slots: config.criminalIp.concurrency,
            holdMs: 3 * config.criminalIp.timeoutMs + 2_000,
            waitMs: options.slotWaitMs ?? 250,
            pollMs: 5,
            random,
          });
    const log = recordingLog(trace, id);
    const circuit = new QuotaCircuit({
      ledger,
      pauseSeconds: config.criminalIp.quotaPauseSeconds,
      clock,
      log,
      metrics,
    });
    const client = new CriminalIpClient(config.criminalIp, {
      limiter: new Semaphore(config.criminalIp.concurrency),
      acquire: circuit.guard(slots ? () => slots.acquire() : undefined),
      onCall: (call) => {
        circuit.observe(call);
        trace.calls.push(call);
        lookupContext.getStore()?.http.push(call);
      },
      sleep: noWait,
      random,
    });
    const intel = tracingIntel(
      new CriminalIpIntelSource(new CriminalIpApi(client), config.criminalIp, clock),
      trace,
      id,
    );
    const openctiClient = createOpenCtiClient(config.opencti, {
      sleep: noWait,
      random,
      maxRetries: options.octiMaxRetries ?? 3,
    });
    const enrich = createEnrichHandler({
      config,
      intel,
      opencti: createOpenCtiPort(openctiClient, config.opencti),
      openctiForDraft: (draftId) => createOpenCtiPort(openctiClient, config.opencti, { draftId }),
      ledger: countingLedger(ledger, trace.marks, options.beforeLedgerWrite),
      clock,
      log,
      metrics,
      queue: countingQueue(jobQueue, (jobs) => (trace.requeues += jobs.length)),
      loadJob: (ref) => jobQueue.loadJob(ref),
      maxReceiveCount: config.queue.maxReceiveCount,
      concurrency: options.concurrency ?? 4,
      ...(options.claims === false ? {} : { lease }),
      // In-place retries wait on the manual clock: time passes, nothing really sleeps.
      sleep: async (ms) => clock.advanceBy(ms),
      random,
      // The queue this consumer polls: a job finished on its last delivery is deleted at once.
      ...(options.earlyAck === false
        ? {}
        : { acknowledge: async (record: SQSRecord) => void queue.acknowledge(record.receiptHandle) }),
    });

    let crashAfter: number | undefined;
    let killNow = false;
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      if (crashAfter === undefined) {
        const response = await enrich(event);
        if (killNow) {
          // Killed mid-batch (a SIGKILL): what was done stays done, the batch is never answered.
          killNow = false;
          trace.crashes += 1;
          throw new Error(`consumer ${id} was killed`);
        }
        return response;
      }
      const processed = Math.min(crashAfter, event.Records.length);
      crashAfter = undefined;
      // The consumer dies here: what it did for the first records stays done, its answer for
      // the batch is never given, so every record of the batch is delivered again later.
      await crashContext.run(true, () => enrich({ Records: event.Records.slice(0, processed) }));
      trace.crashes += 1;
      trace.crashedRecords += processed;
      throw new Error(`consumer ${id} crashed after ${processed} of ${event.Records.length} records`);
    };
    consumers.push({
      id,
      queue,
      ledger,
      slots,
      handler,
      crashNextBatch: (processed) => (crashAfter = processed),
      kill: () => (killNow = true),
    });
  }

  const ingestQueue = new LocalQueue({
    location: file,
    maxReceiveCount: config.queue.maxReceiveCount,
    clock,
  });
  opened.push(ingestQueue);
  const ingestLog = recordingLog(trace, -1);
  const ingest = createIngestHandler({
    connectorTokens: async () => ({ openctiToken: octi.token, webhookToken: WEBHOOK_TOKEN }),
    queue: countingQueue(localJobQueue(ingestQueue, dataDir), (jobs) => {
      trace.acceptances += jobs.length;
      for (const job of jobs) if (!trace.accepted.has(job.jobId)) trace.accepted.set(job.jobId, job);
    }),
    scope: config.opencti.scope,
    log: ingestLog,
    metrics,
    clock,
  });
  const server = await startLocalServer({ handler: ingest, port: 0, log: ingestLog });

  return {
    clock,
    config,
    cip,
    octi,
    server,
    consumers,
    trace,
    async post(route, body, headers = {}) {
      const auth =
        route === '/webhook'
          ? { 'x-webhook-token': WEBHOOK_TOKEN }
          : { authorization: `Bearer ${octi.token}` };
      const response = await fetch(`${server.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...headers },
        body,
      });
      return { status: response.status, body: await response.text() };
    },
    async close() {
      await server.close();
      for (const store of opened) store.close();
      await Promise.all([cip.close(), octi.close()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
