/**
 * The local runtime behind `npm start`, the demo and the end-to-end tests: the serverless
 * product in one process, running the very handlers Lambda runs.
 *
 *   HTTP server (API Gateway)  → functions/ingest handler → local queue (SQLite, SQS semantics)
 *   consumer (event source)    → functions/enrich handler → Criminal IP, OpenCTI
 *   timers (EventBridge)       → functions/schedule handler: ping (registering at first run)
 *                                every 2 minutes, the re-enrichment sweep every
 *                                REENRICH_INTERVAL_MINUTES
 *
 * The queue and the ledger are files in DATA_DIR, so stopping loses nothing: jobs still queued,
 * and jobs handed back by a stop, are processed by the next start.
 */
import { isIP } from 'node:net';
import { createEnrichHandler } from '../../functions/enrich/handler';
import { createIngestHandler } from '../../functions/ingest/handler';
import {
  createScheduleHandler,
  type ScheduleResult,
  type ScheduleTask,
} from '../../functions/schedule/handler';
import { ConfigError, type Config } from '../config';
import { cachedJwks, createCallbackAuthenticator } from '../opencti/callback-auth';
import type { ClientOptions } from '../criminalip';
import { noMetrics, type MetricsSink } from '../core/metrics';
import { systemClock, type Clock } from '../core/clock';
import type { IntelSource } from '../criminalip/intel';
import type { Log } from '../core/log';
import type { OpenCtiPort } from '../opencti/port';
import { CallBudget } from '../pipeline/budget';
import { criminalIpAccount, criminalIpIntelSource, localJobQueue, openCti, openLocalStores } from './compose';
import { createConsoleLog, logFormatFrom, type LogFormat } from './console-log';
import {
  DEFAULT_CONCURRENT_BATCHES,
  handlerPerBatch,
  JobReporter,
  LocalConsumer,
  MAX_CONCURRENT_BATCHES,
  type JobReport,
} from './consumer';
import { localCallLease } from './lease';
import type { LocalLedger } from './ledger';
import { settle } from './sqlite';
import type { LocalQueue } from './queue';
import { startLocalServer } from './server';

type Env = Record<string, string | undefined>;

/** Settings of the local runtime only (Lambda has its own: schedules, event source mapping). */
export interface LocalSettings {
  /** Minutes between two re-enrichment sweeps; 0 turns the sweep off. */
  reenrichIntervalMinutes: number;
  /** Seconds between two pings of the connector (OpenCTI counts it inactive after 5 minutes). */
  pingIntervalSeconds: number;
  /** Jobs of one batch processed at once (the enrich function's ENRICH_CONCURRENCY). */
  enrichConcurrency: number;
  /**
   * Batches handed to the enrich handler at once (the event source mapping's maxConcurrency):
   * the next batch starts while the slowest job of the previous one still runs.
   */
  consumers: number;
  logFormat: LogFormat;
  /** Address the HTTP server binds (loopback unless OpenCTI's worker must reach it from elsewhere). */
  host: string;
}

export const DEFAULT_LOCAL_SETTINGS: LocalSettings = {
  reenrichIntervalMinutes: 1440,
  pingIntervalSeconds: 120,
  enrichConcurrency: 4,
  consumers: DEFAULT_CONCURRENT_BATCHES,
  logFormat: 'text',
  host: '127.0.0.1',
};

function intSetting(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  unit: string,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be ${unit} from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  }
  return value;
}

/** Reads the local runtime's settings; a bad value raises ConfigError naming it. */
export function loadLocalSettings(env: Env = process.env): LocalSettings {
  return {
    reenrichIntervalMinutes: intSetting(
      env,
      'REENRICH_INTERVAL_MINUTES',
      DEFAULT_LOCAL_SETTINGS.reenrichIntervalMinutes,
      0,
      525_600,
      'minutes (0 turns the sweep off)',
    ),
    // Below 5 minutes, or OpenCTI marks the connector inactive between two pings.
    pingIntervalSeconds: intSetting(
      env,
      'PING_INTERVAL_SECONDS',
      DEFAULT_LOCAL_SETTINGS.pingIntervalSeconds,
      10,
      290,
      'seconds',
    ),
    enrichConcurrency: intSetting(
      env,
      'ENRICH_CONCURRENCY',
      DEFAULT_LOCAL_SETTINGS.enrichConcurrency,
      1,
      10,
      'an integer',
    ),
    consumers: intSetting(
      env,
      'LOCAL_CONSUMERS',
      DEFAULT_LOCAL_SETTINGS.consumers,
      1,
      MAX_CONCURRENT_BATCHES,
      'an integer',
    ),
    logFormat: logFormatFrom(env),
    host: hostSetting(env),
  };
}

function hostSetting(env: Env): string {
  const raw = env.HOST?.trim();
  if (!raw) return DEFAULT_LOCAL_SETTINGS.host;
  if (isIP(raw) === 0) {
    throw new ConfigError(
      'HOST',
      `must be an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (got "${raw.slice(0, 40)}")`,
    );
  }
  return raw;
}

export interface RuntimeOverrides {
  settings?: Partial<LocalSettings>;
  /** Where log lines go (default: stderr, in config.logLevel and settings.logFormat). */
  log?: Log;
  clock?: Clock;
  metrics?: MetricsSink;
  /** Replaces the Criminal IP source (tests); the real client otherwise. */
  intel?: IntelSource;
  /** Extra options of the real Criminal IP client (tests). */
  criminalIpClient?: ClientOptions;
  /** Replaces the OpenCTI port (tests); the GraphQL client otherwise. */
  opencti?: OpenCtiPort;
  /** Records per batch handed to the enrich handler (1-10, default 10). */
  batchSize?: number;
  /** Longest consumer sleep when nothing is due (default 2 s). */
  idlePollMs?: number;
  /** Told about every delivery of every job. */
  onJob?: (report: JobReport) => void;
}

export interface StopOptions {
  /** How long jobs in flight may take to finish before they are handed back to the queue. */
  graceMs?: number;
}

export interface Runtime {
  /** Base URL of the HTTP routes, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The callback URL registered in OpenCTI (CONNECTOR_CALLBACK_URL, or this server's). */
  callbackUrl: string;
  queue: LocalQueue;
  ledger: LocalLedger;
  /** Runs a schedule task now (as the timers do). */
  runTask(task: ScheduleTask): Promise<ScheduleResult>;
  /**
   * Stops accepting requests, stops the timers, lets jobs in flight finish within the grace
   * period (else hands them back to the queue), then closes the databases. A second call with a
   * shorter grace period hurries the first one.
   */
  stop(options?: StopOptions): Promise<void>;
}

const DEFAULT_GRACE_MS = 30_000;

export async function startRuntime(config: Config, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const settings: LocalSettings = { ...DEFAULT_LOCAL_SETTINGS, ...overrides.settings };
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? noMetrics;
  const log = overrides.log ?? createConsoleLog({ level: config.logLevel, format: settings.logFormat });
  const reporter = new JobReporter(log, settings.logFormat);
  if (overrides.onJob) reporter.onJob(overrides.onJob);

  const stores = openLocalStores(config, clock);
  const { queue, ledger } = stores;
  try {
    // A send wakes the consumer; it is created below, with the handler that needs `jobs`.
    let wakeConsumer = () => {};
    const jobs = localJobQueue(queue, config.dataDir, () => wakeConsumer());
    const opencti = openCti(config, log);
    // One budget for the consumer's calls and the sweep's room, on the ledger every process shares.
    const budget = new CallBudget({ store: ledger, settings: config.budget, clock, metrics });
    const intel =
      overrides.intel ??
      criminalIpIntelSource(config, {
        log,
        metrics,
        clock,
        ledger,
        ...(overrides.criminalIpClient ? { client: overrides.criminalIpClient } : {}),
      });

    // Each batch in flight gets its own handler, as each concurrent Lambda invocation does.
    const enrich = handlerPerBatch(() =>
      createEnrichHandler({
        config,
        intel,
        opencti: overrides.opencti ?? opencti.port,
        ...(overrides.opencti ? {} : { openctiForDraft: (draftId: string) => opencti.portForDraft(draftId) }),
        ledger,
        // Claims on the ledger: one delivery of a job and one lookup of an observable at a time.
        lease: localCallLease(ledger),
        // Every Criminal IP call counted in the ledger first, within CRIMINALIP_*_CALL_BUDGET.
        budget,
        clock,
        log: reporter.log,
        metrics,
        queue: jobs,
        maxReceiveCount: config.queue.maxReceiveCount,
        concurrency: settings.enrichConcurrency,
        loadJob: (ref) => jobs.loadJob(ref),
        acknowledge: (record) => settle(() => void queue.acknowledge(record.receiptHandle)),
      }),
    );
    const consumer = new LocalConsumer({
      queue,
      handler: enrich,
      visibilityTimeoutSeconds: config.queue.visibilityTimeoutSeconds,
      concurrentBatches: settings.consumers,
      ...(overrides.batchSize ? { batchSize: overrides.batchSize } : {}),
      ...(overrides.idlePollMs ? { idlePollMs: overrides.idlePollMs } : {}),
      log,
      reporter,
      clock,
    });

    const ingest = createIngestHandler({
      connectorTokens: () =>
        Promise.resolve(
          config.webhookToken === undefined
            ? { openctiToken: config.opencti.token }
            : { openctiToken: config.opencti.token, webhookToken: config.webhookToken },
        ),
      queue: jobs,
      scope: config.opencti.scope,
      log,
      metrics,
      clock,
      // OpenCTI 7.x callbacks carry a platform JWT: verified with the JWKS the ping stored.
      callbackAuth: createCallbackAuthenticator({
        jwks: cachedJwks({ read: async () => (await ledger.getPlatform())?.jwks, clock }),
        clock,
      }),
    });
    const server = await startLocalServer({ handler: ingest, port: config.port, host: settings.host, log });

    const callbackUrl = config.opencti.callbackUrl ?? `${server.url}/opencti/callback`;
    const schedule = createScheduleHandler({
      config: { ...config, opencti: { ...config.opencti, callbackUrl } },
      opencti: opencti.client,
      ledger,
      queue: jobs,
      clock,
      log,
      metrics,
      budget,
      // A test's stand-in source has no account endpoint to ask: the pause then runs its course.
      ...(overrides.intel
        ? {}
        : {
            account: criminalIpAccount(config, {
              log,
              ...(overrides.criminalIpClient ? { client: overrides.criminalIpClient } : {}),
            }),
          }),
    });
    const timers = new ScheduleTimers(schedule, log, config);
    wakeConsumer = () => consumer.wake();
    consumer.start();
    timers.every('ping', settings.pingIntervalSeconds * 1000, { runNow: true });
    if (settings.reenrichIntervalMinutes > 0)
      timers.every('reenrich', settings.reenrichIntervalMinutes * 60_000);

    let stopping: Promise<void> | undefined;
    const stop = (options: StopOptions = {}): Promise<void> => {
      const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
      if (stopping) {
        // Hurry the stop in progress (a second Ctrl-C).
        void consumer.stop(graceMs);
        return stopping;
      }
      stopping = (async () => {
        timers.cancel();
        await server.close();
        await timers.settle(graceMs);
        const report = await consumer.stop(graceMs);
        if (report.returned > 0) log.info(`${report.returned} job(s) will resume at the next start`);
        stores.close();
      })();
      return stopping;
    };

    return {
      url: server.url,
      callbackUrl,
      queue,
      ledger,
      runTask: (task) => timers.run(task),
      stop,
    };
  } catch (error) {
    stores.close();
    throw error;
  }
}

/** The EventBridge schedules as timers: one task of each kind at a time, never overlapping. */
class ScheduleTimers {
  private readonly handles = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private cancelled = false;

  constructor(
    private readonly handler: (event: { task: ScheduleTask }) => Promise<ScheduleResult>,
    private readonly log: Log,
    private readonly config: Config,
  ) {}

  every(task: ScheduleTask, intervalMs: number, options: { runNow?: boolean } = {}): void {
    const tick = async () => {
      if (this.cancelled) return;
      await this.run(task).catch(() => undefined); // already logged
      this.schedule(tick, intervalMs);
    };
    if (options.runNow) void tick();
    else this.schedule(tick, intervalMs);
  }

  /** Runs a task now and logs what it did. */
  async run(task: ScheduleTask): Promise<ScheduleResult> {
    if (task === 'reenrich') {
      this.log.info(
        `Re-enrichment sweep started: observables not updated for ${this.config.reenrich.staleAfterDays} days, at most ${this.config.reenrich.budget}`,
      );
    }
    const promise = this.handler({ task });
    this.running.add(promise);
    try {
      const result = await promise;
      this.log.info(describeTask(result));
      return result;
    } catch (error) {
      this.log.error(`Schedule task ${task} failed; it runs again at its next time`, {
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      this.running.delete(promise);
    }
  }

  cancel(): void {
    this.cancelled = true;
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }

  /** Waits for tasks in progress, at most `graceMs`. */
  async settle(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  private schedule(tick: () => Promise<void>, ms: number): void {
    if (this.cancelled) return;
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      void tick();
    }, ms);
    this.handles.add(handle);
  }
}

/** One readable line for a schedule task's result. */
export function describeTask(result: ScheduleResult): string {
  const n = (key: string) => (typeof result[key] === 'number' ? result[key] : 0);
  switch (result.task) {
    case 'ping':
      return `Connector pinged in OpenCTI${result.registered === true ? ' (registered first)' : ''}: ${result.active === false ? 'not active yet' : 'active'}`;
    case 'register':
      return `Connector registered in OpenCTI (${typeof result.connectorId === 'string' ? result.connectorId : ''})`;
    case 'reenrich':
      return (
        `Re-enrichment sweep done: ${n('found')} stale observable(s) found, ${n('queued')} queued` +
        (n('invalid') > 0 ? `, ${n('invalid')} with values that cannot be enriched` : '') +
        (n('notOurs') > 0 ? `, ${n('notOurs')} never enriched by this connector (REENRICH_SCOPE=own)` : '') +
        ` (budget ${n('budget')}` +
        (typeof result.callBudgetRoom === 'number'
          ? `, ${n('callBudgetRoom')} left by the Criminal IP call budget)`
          : ')')
      );
  }
}
