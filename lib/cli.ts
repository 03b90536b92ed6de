/**
 * The command line, installed as `criminalip-opencti` (bin/criminalip-opencti.cjs runs this file
 * with tsx). Commands and exit codes are those of DESIGN.md:
 *
 *   enrich <value> [--type T] [--dry-run]   0 ok, 2 bad input or configuration, 1 upstream failure
 *   serve | demo | register | ping | reenrich | help
 *
 * Results go to stdout (a bundle, a table, one line); log lines go to stderr. Configuration comes
 * from the environment and from ./.env when present (variables already set win). A failure ends
 * with one line on stderr saying what to do; secrets never appear in it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createScheduleHandler, type ScheduleResult, type ScheduleTask } from '../functions/schedule/handler';
import {
  criminalIpAccount,
  criminalIpIntelSource,
  openCti,
  STATE_FILES,
  waitingIntelSource,
} from './local/compose';
import { ConfigError, loadConfig, type Config } from './config';
import { CriminalIpError, InvalidTargetError, assertPublicTarget, scanUntilDone } from './criminalip';
import { newCliJob } from './jobs/job-id';
import { observableTypeOf, readObservable } from './jobs/observable';
import { JobRejection, type EnrichmentJob, type Observable } from './jobs/types';
import { createConsoleLog, logFormatFrom } from './local/console-log';
import { describeJob } from './local/consumer';
import { runDemo } from './local/demo';
import { LocalLedger } from './local/ledger';
import { DEFAULT_LOCAL_SETTINGS, describeTask, loadLocalSettings, startRuntime } from './local/runtime';
import { LocalStoreError } from './local/sqlite';
import { ROUTES } from './local/server';
import { mapIntel } from './mapping';
import { OpenCtiError } from './opencti/errors';
import { PlatformVersionError, idRulesFor, offlineVersion } from './opencti/platform-version';
import { CallBudget, type WindowSpend } from './pipeline/budget';
import { asNumber } from './criminalip/parse';
import { enrichJob, type PipelineDeps } from './pipeline/enrich-job';
import type { JobOutcome } from './pipeline/outcome';
import { noMetrics } from './core/metrics';
import { systemClock } from './core/clock';
import type { Log } from './core/log';
import { openCtiBundle } from './stix/opencti-extensions';
import type { IdRules } from './stix/id-rules';
import { OBSERVABLE_STIX_TYPES } from './stix/core';
import { observableId } from './stix/ids';

type Env = Record<string, string | undefined>;

export const EXIT = { ok: 0, upstream: 1, usage: 2 } as const;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Env;
  /** Keeps the process alive until a signal stops `serve`. */
  onSignal?(handler: (signal: NodeJS.Signals) => void): void;
}

export const USAGE = `criminalip-opencti: Criminal IP enrichment for OpenCTI

Usage:
  criminalip-opencti enrich <value> [--type T] [--dry-run]
      Enrich one observable now. T is one of ${OBSERVABLE_STIX_TYPES.join(', ')}
      (inferred from the value when left out). --dry-run prints the STIX 2.1 bundle on stdout and
      writes nothing to OpenCTI (only the Criminal IP settings are needed); without it the bundle
      is pushed to OpenCTI in a new work.
  criminalip-opencti serve      Run locally (npm start): HTTP routes on 127.0.0.1:PORT, durable
                                queue and consumer, connector ping and re-enrichment schedules.
  criminalip-opencti demo       Offline demonstration with built-in stand-ins (npm run demo):
                                no account, no credentials. Bundles go to out/demo/.
  criminalip-opencti register   Register (or update) the connector in OpenCTI.
  criminalip-opencti ping       Ping the connector (registering it first if needed).
  criminalip-opencti reenrich   Run the re-enrichment sweep once and enrich what it finds.
  criminalip-opencti credits    Criminal IP calls spent, reserved and left in today's and this
                                month's budget windows (DATA_DIR's ledger), and the account's
                                credits (asked now when CRIMINALIP_API_KEY is set).
  criminalip-opencti help       Show this text (also -h, --help).

Configuration comes from the environment, and from a .env file in the current folder when there
is one (variables already set win). The README lists every variable (Configuration).

Exit status: 0 ok, 2 bad input or configuration, 1 upstream failure (Criminal IP or OpenCTI).
`;

/** A mistake in how the command was called. */
class UsageError extends Error {}

function errorLine(error: unknown): { code: number; line: string } {
  if (error instanceof UsageError)
    return { code: EXIT.usage, line: `${error.message} (see criminalip-opencti --help)` };
  if (error instanceof ConfigError) return { code: EXIT.usage, line: error.message };
  if (error instanceof JobRejection)
    return { code: EXIT.usage, line: `Invalid observable: ${error.detail ?? error.reason}` };
  if (error instanceof InvalidTargetError) return { code: EXIT.usage, line: error.message };
  if (error instanceof LocalStoreError) return { code: EXIT.usage, line: error.message };
  if (error instanceof CriminalIpError) return { code: EXIT.upstream, line: error.message };
  if (error instanceof OpenCtiError) return { code: EXIT.upstream, line: error.message };
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return {
      code: EXIT.usage,
      line: 'The port is already in use: set PORT to a free port (or stop the other program)',
    };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: EXIT.upstream, line: `Unexpected failure: ${message}` };
}

function consoleLog(config: Pick<Config, 'logLevel'>, env: Env, io: CliIo): Log {
  return createConsoleLog({
    level: config.logLevel,
    format: logFormatFrom(env),
    write: (line) => io.stderr(`${line}\n`),
  });
}

/** `--type` as given: a STIX type or an OpenCTI entity type, in any case. */
function typeOption(raw: string | undefined): Observable['type'] | undefined {
  if (raw === undefined) return undefined;
  const type = observableTypeOf(raw);
  if (!type)
    throw new UsageError(
      `--type must be one of ${OBSERVABLE_STIX_TYPES.join(', ')} (got "${raw.slice(0, 40)}")`,
    );
  return type;
}

function readTarget(value: string | undefined, type: string | undefined): Observable {
  if (value === undefined || value === '')
    throw new UsageError('enrich needs the value to enrich, e.g. enrich 8.8.8.8');
  const observable = readObservable(value, typeOption(type));
  // A private address or a reserved name has no public intel: refuse it here, before any call.
  assertPublicTarget(observable.type, observable.value);
  return observable;
}

/**
 * The id rules of the platform the dry-run's bundle is meant for: no OpenCTI is asked, so
 * OPENCTI_VERSION says which, else the latest 7.x this release knows.
 */
function dryRunIdRules(env: Env): IdRules {
  try {
    return idRulesFor(offlineVersion(env));
  } catch (error) {
    if (error instanceof PlatformVersionError) {
      throw new ConfigError(
        'OPENCTI_VERSION',
        `must be an OpenCTI version such as 6.9.17, 7.260309.0-lts.7 or 7.260817.0 (got "${String(env.OPENCTI_VERSION).slice(0, 40)}"), or unset for the latest 7.x`,
      );
    }
    throw error;
  }
}

async function dryRun(observable: Observable, env: Env, io: CliIo): Promise<number> {
  const config = loadConfig(env, { criminalIp: true, opencti: false });
  const idRules = dryRunIdRules(env);
  const log = consoleLog(config, env, io);
  const source = criminalIpIntelSource(config, { log });
  const result = await scanUntilDone(source, observable, {
    sleep: (ms) => {
      log.info(`Criminal IP scan still running; polling again in ${Math.round(ms / 1000)} s`);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  });
  if (result.status === 'not-found') {
    io.stderr(`Criminal IP has no data for ${observable.type} ${observable.value}: ${result.reason}\n`);
    return EXIT.upstream;
  }
  const mapped = mapIntel({
    observable,
    intel: result.intel,
    settings: config.mapping,
    markingRefs: [],
    now: new Date(),
    idRules,
  });
  for (const warning of mapped.warnings) log.warn('mapping warning', { warning });
  if (mapped.objects.length === 0) {
    io.stderr(`Nothing could be mapped for ${observable.type} ${observable.value}\n`);
    return EXIT.upstream;
  }
  io.stdout(`${JSON.stringify(openCtiBundle(mapped.objects), null, 2)}\n`);
  log.info(
    `${observable.type} ${observable.value}: ${mapped.score === undefined ? 'no score' : `score ${mapped.score}`}, ` +
      `${mapped.counts.entities} entities, ${mapped.counts.relationships} relationships, ${result.calls} Criminal IP call(s)`,
  );
  return EXIT.ok;
}

/** The pipeline's outcome as an exit code and one line on stdout (or stderr for a failure). */
function reportOutcome(job: EnrichmentJob, outcome: JobOutcome, ms: number, io: CliIo): number {
  const line = describeJob({
    messageId: job.jobId,
    jobId: job.jobId,
    observable: { type: job.observable.type, value: job.observable.value },
    origin: 'cli',
    outcome: outcome.kind,
    calls: outcome.calls,
    ms,
    attempt: 1,
    detail: { ...outcome, job: undefined },
  });
  switch (outcome.kind) {
    case 'written':
    case 'skipped':
      io.stdout(`${line}\n`);
      return EXIT.ok;
    case 'retry-later':
      io.stderr(`${line}; try again later\n`);
      return EXIT.upstream;
    case 'failed':
      io.stderr(`${line}\n`);
      return EXIT.upstream;
  }
}

function pipelineDeps(config: Config, env: Env, io: CliIo): PipelineDeps & { close(): void } {
  const log = consoleLog(config, env, io);
  // The ledger of DATA_DIR: the quota pause and the call slots are shared with a running `serve`.
  const ledger = new LocalLedger({ location: path.join(config.dataDir, STATE_FILES.ledger) });
  const waiting = (ms: number) => {
    log.info(`Criminal IP scan still running; polling again in ${Math.round(ms / 1000)} s`);
    return new Promise<void>((resolve) => setTimeout(resolve, ms));
  };
  return {
    config,
    intel: waitingIntelSource(criminalIpIntelSource(config, { log, ledger }), waiting),
    opencti: openCti(config, log).port,
    ledger,
    clock: systemClock,
    log,
    metrics: noMetrics,
    // The same budget as a running `serve`: the CLI is an operator's request (the reserved share).
    budget: new CallBudget({ store: ledger, settings: config.budget, clock: systemClock }),
    close: () => ledger.close(),
  };
}

async function enrichNow(observable: Observable, env: Env, io: CliIo): Promise<number> {
  const config = loadConfig(env, { criminalIp: true, opencti: true });
  const deps = pipelineDeps(config, env, io);
  try {
    // Named by its OpenCTI id, so that the TLP gate reads the markings the observable already has
    // there (a TLP:RED observable is not sent) and the write-back keeps them.
    const job = newCliJob({ ...observable, stixId: observableId(observable.type, observable.value) });
    const started = Date.now();
    // One delivery only: there is no queue to deliver it again, so it is the last one.
    const outcome = await enrichJob(job, { receiveCount: 1, maxReceiveCount: 1 }, deps);
    return reportOutcome(job, outcome, Date.now() - started, io);
  } finally {
    deps.close();
  }
}

/** The callback URL `serve` registers when CONNECTOR_CALLBACK_URL is not set. */
function withDefaultCallback(config: Config): Config {
  if (config.opencti.callbackUrl) return config;
  return {
    ...config,
    opencti: { ...config.opencti, callbackUrl: `http://127.0.0.1:${config.port}/opencti/callback` },
  };
}

async function scheduleTask(task: ScheduleTask, env: Env, io: CliIo): Promise<number> {
  const config = withDefaultCallback(loadConfig(env, { criminalIp: task === 'reenrich', opencti: true }));
  const log = consoleLog(config, env, io);
  const ledger = new LocalLedger({ location: path.join(config.dataDir, STATE_FILES.ledger) });
  try {
    const found: EnrichmentJob[] = [];
    const handler = createScheduleHandler({
      config,
      opencti: openCti(config, log).client,
      ledger,
      // Run once from the command line: the sweep's jobs are enriched right here, below.
      queue: {
        send: (jobs) => {
          found.push(...jobs);
          return Promise.resolve();
        },
      },
      clock: systemClock,
      log,
      metrics: noMetrics,
      budget: new CallBudget({ store: ledger, settings: config.budget, clock: systemClock }),
    });
    if (task !== 'reenrich' && !env.CONNECTOR_CALLBACK_URL?.trim()) {
      log.warn(
        `CONNECTOR_CALLBACK_URL is not set: registering ${config.opencti.callbackUrl ?? ''} (this machine)`,
      );
    }
    const result: ScheduleResult = await handler({ task });
    io.stdout(`${describeTask(result)}\n`);
    if (task !== 'reenrich' || found.length === 0) return EXIT.ok;

    const deps = pipelineDeps(config, env, io);
    let failures = 0;
    try {
      for (const [index, job] of found.entries()) {
        const started = Date.now();
        let code: number;
        try {
          const outcome = await enrichJob(job, { receiveCount: 1, maxReceiveCount: 1 }, deps);
          code = reportOutcome(job, outcome, Date.now() - started, {
            ...io,
            stdout: (text) => io.stdout(`[${index + 1}/${found.length}] ${text}`),
            stderr: (text) => io.stderr(`[${index + 1}/${found.length}] ${text}`),
          });
        } catch (error) {
          const { line } = errorLine(error);
          io.stderr(
            `[${index + 1}/${found.length}] ${job.observable.type} ${job.observable.value}: ${line}\n`,
          );
          code = EXIT.upstream;
        }
        if (code !== EXIT.ok) failures += 1;
      }
    } finally {
      deps.close();
    }
    io.stdout(`Re-enrichment done: ${found.length - failures} of ${found.length} observable(s) enriched\n`);
    return failures === 0 ? EXIT.ok : EXIT.upstream;
  } finally {
    ledger.close();
  }
}

async function serve(env: Env, io: CliIo): Promise<number> {
  const config = loadConfig(env, { criminalIp: true, opencti: true });
  const settings = loadLocalSettings(env);
  const log = consoleLog(config, env, io);
  const runtime = await startRuntime(config, { settings, log });
  log.info(
    `criminalip-opencti listening on ${runtime.url} (${ROUTES.map((r) => `${r.method} ${r.resource}`).join(', ')}); ` +
      `state in ${path.resolve(config.dataDir)}; Ctrl-C to stop`,
  );
  if (!config.opencti.callbackUrl && settings.host !== DEFAULT_LOCAL_SETTINGS.host) {
    log.warn(`HOST is ${settings.host}: set CONNECTOR_CALLBACK_URL to the URL OpenCTI's worker must call`);
  } else if (!config.opencti.callbackUrl) {
    log.info(
      `OpenCTI will be told to send enrichment requests to ${runtime.callbackUrl} (set CONNECTOR_CALLBACK_URL to change it)`,
    );
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals === 1) {
        log.info(`${signal}: stopping; jobs in flight may finish (press Ctrl-C again to stop at once)`);
        runtime.stop({ graceMs: 30_000 }).then(
          () => {
            log.info('Stopped; queue and ledger are saved');
            resolve(EXIT.ok);
          },
          (error: unknown) => {
            io.stderr(`${errorLine(error).line}\n`);
            resolve(EXIT.upstream);
          },
        );
      } else {
        log.info('Stopping at once: jobs in flight go back to the queue');
        void runtime.stop({ graceMs: 0 });
      }
    };
    (io.onSignal ?? defaultSignals)(onSignal);
  });
}

function defaultSignals(handler: (signal: NodeJS.Signals) => void): void {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** One budget window as `credits` prints it. */
function windowLine(w: WindowSpend): string {
  const name = w.window === 'day' ? `today (${w.period} UTC)` : `this month (${w.period})`;
  if (w.budget === 0) return `  ${name}: ${w.spent} calls spent, no cap`;
  return (
    `  ${name}: ${w.spent} of ${w.budget} calls spent, ${w.reserved} reserved for manual and playbook requests; ` +
    `automatic work may spend ${w.remainingBackground ?? 0} more, analysts ${w.remainingPriority ?? 0} (until ${w.endsAt})`
  );
}

async function credits(env: Env, io: CliIo): Promise<number> {
  const config = loadConfig(env, { criminalIp: false, opencti: false });
  const file = path.join(config.dataDir, STATE_FILES.ledger);
  const ledger = new LocalLedger({ location: file });
  try {
    const budget = new CallBudget({ store: ledger, settings: config.budget, clock: systemClock });
    io.stdout(`Criminal IP calls counted in ${file}:\n`);
    for (const w of await budget.status()) io.stdout(`${windowLine(w)}\n`);
    if (config.criminalIp.apiKey) {
      const account = await criminalIpAccount(config, { log: consoleLog(config, env, io) })();
      const left = asNumber(account.max_search);
      io.stdout(
        `Criminal IP account: ${left === undefined ? 'credits not stated' : `${left} credits left`} (asked now)\n`,
      );
      return EXIT.ok;
    }
    const recorded = await ledger.getCredits();
    io.stdout(
      recorded
        ? `Criminal IP account: ${recorded.credits} credits left at ${recorded.checkedAt} (read by the last ping; set CRIMINALIP_API_KEY to ask now)\n`
        : 'Criminal IP account: not asked (set CRIMINALIP_API_KEY to ask now)\n',
    );
    return EXIT.ok;
  } finally {
    ledger.close();
  }
}

async function demo(env: Env, io: CliIo): Promise<number> {
  const result = await runDemo({
    env,
    print: (line) => io.stdout(`${line}\n`),
    logLine: (line) => io.stderr(`${line}\n`),
  });
  if (result.ok) return EXIT.ok;
  io.stderr(`Demo failed: ${result.problems.join('; ')}\n`);
  return EXIT.upstream;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        type: { type: 'string', short: 't' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      io.stdout(USAGE);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    if (command !== 'enrich' && (values.type !== undefined || values['dry-run'])) {
      throw new UsageError('--type and --dry-run belong to the enrich command');
    }
    if (rest.length > (command === 'enrich' ? 1 : 0)) {
      throw new UsageError(
        `Unexpected argument "${(command === 'enrich' ? rest[1] : rest[0])?.slice(0, 40)}"`,
      );
    }
    switch (command) {
      case 'enrich': {
        const observable = readTarget(rest[0], values.type);
        return values['dry-run']
          ? await dryRun(observable, io.env, io)
          : await enrichNow(observable, io.env, io);
      }
      case 'serve':
        return await serve(io.env, io);
      case 'demo':
        return await demo(io.env, io);
      case 'register':
      case 'ping':
      case 'reenrich':
        return await scheduleTask(command, io.env, io);
      case 'credits':
        return await credits(io.env, io);
      default:
        throw new UsageError(`Unknown command "${command.slice(0, 40)}"`);
    }
  } catch (error) {
    // parseArgs rejects unknown options with a TypeError carrying an ERR_PARSE_ARGS_* code.
    const code = (error as { code?: unknown }).code;
    const usage = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
    const { code: exit, line } = usage
      ? { code: EXIT.usage, line: `${(error as Error).message} (see criminalip-opencti --help)` }
      : errorLine(error);
    io.stderr(`${line}\n`);
    return exit;
  }
}

/** Loads ./.env into the environment, leaving variables already set alone. */
function loadDotEnv(): void {
  const file = path.resolve('.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

function isEntryPoint(): boolean {
  const entry = require.main?.filename ?? '';
  return require.main === module || path.basename(entry) === 'criminalip-opencti.cjs';
}

if (isEntryPoint()) {
  let code: number = EXIT.upstream;
  void (async () => {
    try {
      loadDotEnv();
    } catch (error) {
      process.stderr.write(`Cannot read .env: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT.usage;
    }
    return main(process.argv.slice(2), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      env: process.env,
    });
  })()
    .then((exit) => (code = exit))
    .finally(() => {
      // Keep-alive sockets would hold the process open for seconds: exit once output is flushed.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    });
}
