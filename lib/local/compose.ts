/**
 * Wiring outside AWS: the real adapters built from a Config, for the command line and the local
 * runtime (functions/enrich/aws.ts does the same job in Lambda, with DynamoDB, SQS and Secrets
 * Manager in place of the SQLite files and the environment).
 *
 * - Criminal IP: the HTTP client with the process-wide limiter, plus call slots on the local
 *   ledger's leases so that two local processes (say `serve` and an `enrich` run) still make one
 *   call at a time when the key allows only one (the same LeaseCallSlots Lambda runs on DynamoDB);
 * - OpenCTI: the GraphQL client and the pipeline's port over it (one per draft workspace);
 * - state: the durable queue and the ledger, two SQLite files in DATA_DIR.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  scanUntilDone,
  type ClientOptions,
} from '../criminalip';
import { callSlotHoldMs, criminalIpStack } from '../pipeline/intel-stack';
import { assertJob, envelopeBody, type JobRef } from '../jobs/envelope';
import { queueDelaySeconds } from '../jobs/limits';
import type { EnrichmentJob } from '../jobs/types';
import { createOpenCtiClient, type OpenCtiClient } from '../opencti/client';
import { createOpenCtiPort, type OpenCtiPort } from '../opencti/port';
import { noMetrics, type MetricsSink } from '../core/metrics';
import { systemClock, type Clock } from '../core/clock';
import type { IntelSource } from '../criminalip/intel';
import type { JobQueue } from '../pipeline/ports';
import type { Log } from '../core/log';
import { localCallLease } from './lease';
import { LocalLedger } from './ledger';
import { LocalQueue } from './queue';

/** File and folder names inside DATA_DIR. */
export const STATE_FILES = { queue: 'queue.sqlite', ledger: 'ledger.sqlite', jobs: 'jobs' } as const;

/** The "bucket" of jobs stored aside locally (messages name it in their reference). */
export const LOCAL_JOB_BUCKET = 'local';

export interface LocalStores {
  queue: LocalQueue;
  ledger: LocalLedger;
  /** Closes both databases (idempotent). */
  close(): void;
}

/** Opens (creating when needed) the queue and the ledger in `config.dataDir`. */
export function openLocalStores(
  config: Pick<Config, 'dataDir' | 'queue'>,
  clock: Clock = systemClock,
): LocalStores {
  const queue = new LocalQueue({
    location: path.join(config.dataDir, STATE_FILES.queue),
    maxReceiveCount: config.queue.maxReceiveCount,
    clock,
  });
  let ledger: LocalLedger;
  try {
    ledger = new LocalLedger({ location: path.join(config.dataDir, STATE_FILES.ledger), clock });
  } catch (error) {
    queue.close();
    throw error;
  }
  return {
    queue,
    ledger,
    close() {
      queue.close();
      ledger.close();
    },
  };
}

export interface IntelSourceOptions {
  log: Log;
  metrics?: MetricsSink;
  clock?: Clock;
  /**
   * The ledger of DATA_DIR: shares the key's call slots with other local processes and carries
   * the quota pause, so that "limit exceeded" stops every process's calls at once.
   */
  ledger?: LocalLedger;
  /** Extra client options (tests: a dispatcher, a no-wait sleep). */
  client?: ClientOptions;
}

/** The Criminal IP source the pipeline uses: call slots and the quota circuit when a ledger is given. */
export function criminalIpIntelSource(
  config: Pick<Config, 'criminalIp'>,
  options: IntelSourceOptions,
): CriminalIpIntelSource {
  const settings = config.criminalIp;
  return criminalIpStack({
    settings,
    ...(options.ledger
      ? {
          shared: {
            lease: localCallLease(options.ledger),
            ledger: options.ledger,
            // Locally there is no invocation deadline: waiting as long as a slot can be held always suffices.
            slotWaitMs: callSlotHoldMs(settings),
            slotPollMs: 50,
          },
        }
      : {}),
    clock: options.clock ?? systemClock,
    log: options.log,
    metrics: options.metrics ?? noMetrics,
    ...(options.client ? { client: options.client } : {}),
  });
}

/** The account endpoint on a client the quota pause does not gate (the credits check). */
export function criminalIpAccount(
  config: Pick<Config, 'criminalIp'>,
  options: Pick<IntelSourceOptions, 'log' | 'client'>,
) {
  // No retries: the next ping asks again, and a stopped runtime leaves no retry behind.
  const api = new CriminalIpApi(
    new CriminalIpClient({ ...config.criminalIp, maxRetries: 0 }, { log: options.log, ...options.client }),
  );
  return () => api.account();
}

export function waitingIntelSource(source: IntelSource, sleep?: (ms: number) => Promise<void>): IntelSource {
  return {
    lookup: (observable, scan, lookup) =>
      scanUntilDone(source, observable, {
        ...(scan ? { scan } : {}),
        ...(sleep ? { sleep } : {}),
        ...(lookup ? { lookup } : {}),
      }),
  };
}

export interface OpenCti {
  client: OpenCtiClient;
  port: OpenCtiPort;
  /** The port that writes inside a draft workspace (listen messages with a draft_id). */
  portForDraft(draftId: string): OpenCtiPort;
}

/** The OpenCTI GraphQL client and the pipeline's port over it. */
export function openCti(config: Pick<Config, 'opencti'>, log: Log): OpenCti {
  const client = createOpenCtiClient(config.opencti, { log });
  return {
    client,
    port: createOpenCtiPort(client, config.opencti),
    portForDraft: (draftId) => createOpenCtiPort(client, config.opencti, { draftId }),
  };
}

/**
 * The JobQueue port over the local queue, as SqsJobQueue does it over SQS: each job travels as a
 * QueueEnvelope, and a job too large for a message (a playbook bundle) is written to
 * DATA_DIR/jobs and referenced. `onSent` runs after each send (the consumer's wake-up).
 */
export function localJobQueue(
  queue: Pick<LocalQueue, 'send'>,
  dataDir: string,
  onSent: () => void = () => {},
): JobQueue & { loadJob(ref: JobRef): Promise<EnrichmentJob> } {
  const folder = path.join(dataDir, STATE_FILES.jobs);
  return {
    async send(jobs: EnrichmentJob[], delaySeconds?: number): Promise<void> {
      const bodies: string[] = [];
      for (const job of jobs) {
        const { body } = await envelopeBody(job, async (json) => {
          await mkdir(folder, { recursive: true });
          const key = `${randomUUID()}.json`;
          await writeFile(path.join(folder, key), json);
          return { bucket: LOCAL_JOB_BUCKET, key };
        });
        bodies.push(body);
      }
      queue.send(bodies, queueDelaySeconds(delaySeconds));
      onSent();
    },
    async loadJob(ref: JobRef): Promise<EnrichmentJob> {
      if (ref.bucket !== LOCAL_JOB_BUCKET || path.basename(ref.key) !== ref.key) {
        throw new Error(`Job reference ${ref.bucket}/${ref.key} does not name a job stored by this runtime`);
      }
      return assertJob(
        JSON.parse(await readFile(path.join(folder, ref.key), 'utf8')),
        `stored job ${ref.key}`,
      );
    },
  };
}
