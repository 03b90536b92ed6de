/**
 * The pipeline wired to its real adapters over loopback: the Criminal IP and OpenCTI stand-ins,
 * the undici clients, an in-memory SQLite ledger. Tests drive enrichJob through it and read what
 * the stand-ins recorded.
 */
import { loadConfig, type Config } from '../../lib/config';
import { CriminalIpIntelSource, Semaphore } from '../../lib/criminalip';
import type { EnrichmentJob, JobOrigin, Observable } from '../../lib/jobs/types';
import { observableId } from '../../lib/stix';
import { LocalLedger } from '../../lib/local/ledger';
import { createOpenCtiClient, createOpenCtiPort } from '../../lib/opencti';
import { enrichJob, type PipelineDeps } from '../../lib/pipeline/enrich-job';
import type { Attempt, JobOutcome } from '../../lib/pipeline/outcome';
import { CallBudget } from '../../lib/pipeline/budget';
import type { Clock } from '../../lib/core/clock';
import type { Log } from '../../lib/core/log';
import {
  startCriminalIpStandIn,
  STANDIN_API_KEY,
  type CriminalIpStandIn,
  type StandInOptions,
} from '../../lib/standins/criminalip';
import {
  startOpenCtiStandIn,
  type OpenCtiStandIn,
  type OpenCtiStandInOptions,
} from '../../lib/standins/opencti';

export const CONNECTOR_ID = '5a4b0c1e-2f0d-4c6a-9b1e-7d3f2a1c0b9e';

export interface Harness {
  config: Config;
  deps: PipelineDeps;
  cip: CriminalIpStandIn;
  octi: OpenCtiStandIn;
  ledger: LocalLedger;
  logs: Array<{ level: string; message: string; extra?: Record<string, unknown> }>;
  metrics: Array<{ name: string; value: number }>;
  run(job: EnrichmentJob, attempt?: Partial<Attempt>): Promise<JobOutcome>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  cip?: StandInOptions;
  octi?: OpenCtiStandInOptions;
  /** The ledger file (default: in memory), e.g. one file shared by two harnesses as two consumers. */
  ledgerLocation?: string;
  /** The clock the call budget reads its windows from (default: the real one). */
  budgetClock?: Clock;
}

export async function startHarness(
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const cip = await startCriminalIpStandIn({ scanProgress: [50, 100], ...options.cip });
  const octi = await startOpenCtiStandIn(options.octi);
  const config = loadConfig({
    CRIMINALIP_API_KEY: STANDIN_API_KEY,
    CRIMINALIP_API_URL: cip.url,
    CRIMINALIP_MAX_RETRIES: '2',
    OPENCTI_URL: octi.url,
    OPENCTI_TOKEN: octi.token,
    CONNECTOR_ID,
    ...env,
  });
  const logs: Harness['logs'] = [];
  const log: Log = {
    debug: (message, extra) => logs.push({ level: 'debug', message, extra }),
    info: (message, extra) => logs.push({ level: 'info', message, extra }),
    warn: (message, extra) => logs.push({ level: 'warn', message, extra }),
    error: (message, extra) => logs.push({ level: 'error', message, extra }),
  };
  const metrics: Harness['metrics'] = [];
  const noWait = async () => {};
  const intel = CriminalIpIntelSource.fromSettings(config.criminalIp, {
    sleep: noWait,
    limiter: new Semaphore(config.criminalIp.concurrency),
  });
  const client = createOpenCtiClient(config.opencti, { sleep: noWait });
  const ledger = new LocalLedger({ location: options.ledgerLocation ?? ':memory:' });
  const clock: Clock = { now: () => new Date() };
  const count: Harness['deps']['metrics'] = { count: (name, value = 1) => metrics.push({ name, value }) };
  const deps: PipelineDeps = {
    config,
    intel,
    opencti: createOpenCtiPort(client, config.opencti),
    ledger,
    clock,
    log,
    metrics: count,
    // As in production: every Criminal IP call counted in the ledger, within the configured budget.
    budget: new CallBudget({
      store: ledger,
      settings: config.budget,
      clock: options.budgetClock ?? clock,
      metrics: count,
    }),
  };
  return {
    config,
    deps,
    cip,
    octi,
    ledger,
    logs,
    metrics,
    run: (job, attempt = {}) =>
      enrichJob(job, { receiveCount: 1, maxReceiveCount: config.queue.maxReceiveCount, ...attempt }, deps),
    async close() {
      await Promise.all([cip.close(), octi.close()]);
      ledger.close();
    },
  };
}

let seq = 0;

/** A job as the listen-message parser makes it, for a work the OpenCTI stand-in knows. */
export function enrichmentJob(
  h: Harness,
  observable: Observable,
  origin: Partial<JobOrigin> = {},
): EnrichmentJob {
  const workId = h.octi.createWork(CONNECTOR_ID, `Enrichment (${observable.value})`);
  seq += 1;
  return {
    jobId: `job-${seq}-${workId}`,
    observable,
    origin: { kind: 'enrichment', workId, mode: 'manual', trigger: 'update', ...origin } as JobOrigin,
    receivedAt: new Date().toISOString(),
  };
}

export function playbookJob(observable: Observable, extra: Record<string, unknown>[] = []): EnrichmentJob {
  seq += 1;
  const entity = {
    id: observable.stixId ?? observableId(observable.type, observable.value),
    type: observable.type,
    spec_version: '2.1',
    value: observable.value,
  };
  return {
    jobId: `playbook-${seq}`,
    observable: { ...observable, stixId: entity.id, original: entity },
    origin: {
      kind: 'playbook',
      playbook: {
        eventId: `event-${seq}`,
        executionId: `execution-${seq}`,
        playbookId: 'playbook-1',
        dataInstanceId: entity.id,
        stepId: 'step-enrich',
        previousStepId: 'step-listen',
      },
      bundle: {
        type: 'bundle',
        // OpenCTI's playbook bundles carry a bare uuid as their id.
        id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
        objects: [entity, ...(extra as never[])],
      },
    },
    receivedAt: new Date().toISOString(),
  };
}
