/**
 * The scheduled use cases, shared by the schedule Lambda, the local runtime's timers and the CLI:
 *   register  registers (or updates) the connector in OpenCTI;
 *   ping      keeps it "active" (OpenCTI only sends auto-enrichment to connectors seen in the
 *             last 5 minutes), registering first when this configuration was never registered or
 *             OpenCTI no longer knows the connector;
 *   reenrich  queues a job for each observable not enriched for REENRICH_STALE_DAYS, at most
 *             REENRICH_BUDGET per run and never more than the call budget leaves automatic work;
 *             with REENRICH_SCOPE=own (the default) only observables this connector enriched
 *             before (authored by Criminal IP, or written by the connector per its ledger).
 * Each task answers with counts, which land in the invocation result and the log.
 */
import { createHash } from 'node:crypto';
import { METRIC, type MetricsSink } from '../core/metrics';
import type { Config } from '../config';
import { newSweepJob } from '../jobs/job-id';
import type { EnrichmentJob } from '../jobs/types';
import type { OpenCtiClient } from '../opencti/client';
import {
  ConnectorNotRegisteredError,
  pingConnector,
  registerConnector,
  registrationInput,
} from '../opencti/connector';
import {
  detectPlatform,
  hasConnectorJwks,
  readConnectorJwks,
  type PlatformFacts,
} from '../opencti/platform-version';
import { findStaleObservables, type StaleObservable } from '../opencti/sweep';
import { CRIMINAL_IP_AUTHOR } from '../stix/author';
import { asNumber } from '../criminalip/parse';
import type { Account } from '../criminalip/types';
import type { Clock } from '../core/clock';
import { errorSummary, type Log } from '../core/log';
import type { CallBudget } from './budget';
import type { CreditsStore, JobQueue, Ledger, PlatformRecord, PlatformStore } from './ports';
import { recordedPlatformVersion } from './platform';
import { checkQuota } from './quota';

export const SCHEDULE_TASKS = ['register', 'ping', 'reenrich'] as const;
export type ScheduleTask = (typeof SCHEDULE_TASKS)[number];

export interface ScheduleDeps {
  config: Config;
  /** OpenCTI GraphQL client authenticated as the connector user. */
  opencti: OpenCtiClient;
  /**
   * Remembers that this registration was made (see registrationMark), and, when it can, what the
   * platform is (version, 7.x JWKS) for the ingest and enrich functions.
   */
  ledger: Ledger & Partial<PlatformStore> & Partial<CreditsStore>;
  queue: JobQueue;
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
  /**
   * Criminal IP's account endpoint, on a client the quota pause does not gate: while the pause is
   * on, each ping asks it and lifts the pause as soon as credits are back. Without it the pause
   * simply runs its course (CRIMINALIP_QUOTA_PAUSE_SECONDS).
   */
  account?: () => Promise<Account>;
  /** The Criminal IP call budget: the sweep queues no more jobs than automatic work may still spend. */
  budget?: CallBudget;
}

export type ScheduleResult = { task: ScheduleTask; [k: string]: unknown };

export class UnknownTaskError extends Error {
  constructor(task: unknown) {
    super(`Unknown schedule task ${JSON.stringify(task)}: expected one of ${SCHEDULE_TASKS.join(', ')}`);
    this.name = 'UnknownTaskError';
  }
}

/**
 * The ledger mark of one registration. It is keyed on what is registered (scope, callback URL,
 * auto...), so that a changed configuration is registered again at the next ping; it expires
 * daily so that a registration lost on the OpenCTI side is repaired even if pings pass.
 */
export function registrationMark(config: Config): string {
  const input = JSON.stringify(registrationInput(config.opencti));
  return `connector-registered#${createHash('sha256').update(input).digest('hex').slice(0, 32)}`;
}
export const REGISTRATION_MARK_TTL_SECONDS = 24 * 3600;

/**
 * How old the stored platform record may get before a ping asks again: an upgrade of OpenCTI
 * (6.9 → 7.x, or a new 7.x release) is seen within this time.
 */
export const PLATFORM_RECHECK_MS = 15 * 60 * 1000;

/**
 * The account's credits are asked again after this long (a ping every few minutes would take a
 * call slot each time): the work messages show them with the time they were read.
 */
export const CREDITS_RECHECK_MS = 15 * 60 * 1000;

/** Jobs are queued in groups of this many while the sweep pages through OpenCTI. */
const SWEEP_SEND_CHUNK = 100;

/**
 * REENRICH_SCOPE=own reads stale observables oldest first and keeps the connector's own: it looks
 * at up to this many per job it may queue (at least OWN_SCAN_MIN), so a platform full of other
 * tools' observables costs a bounded number of pages per run.
 */
const OWN_SCAN_FACTOR = 10;
const OWN_SCAN_MIN = 1000;

/** The tasks bound to their dependencies. */
export function createScheduleTasks(deps: ScheduleDeps) {
  const { config, opencti, ledger, queue, clock, log, metrics } = deps;
  const connectorId = config.opencti.connectorId;

  /** The platform's version and registration input, or undefined when it cannot be told (logged). */
  async function platformFacts(): Promise<PlatformFacts | undefined> {
    try {
      return await detectPlatform(opencti);
    } catch (error) {
      log.warn('Cannot tell the OpenCTI version; registering as for 6.9.x', {
        errorMessage: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }

  async function storePlatform(facts: PlatformFacts, jwks: string | undefined): Promise<void> {
    if (!ledger.putPlatform) return;
    const record: PlatformRecord = {
      version: facts.version.raw,
      registerInputFields: facts.registerInputFields,
      checkedAt: clock.now().toISOString(),
      ...(jwks ? { jwks } : {}),
    };
    await ledger.putPlatform(record);
    log.info('OpenCTI platform recorded', {
      version: record.version,
      callbackAuth: jwks ? 'platform JWT (JWKS stored)' : 'connector token',
    });
  }

  async function register(): Promise<{ active: boolean }> {
    const facts = await platformFacts();
    const record = await registerConnector(opencti, config.opencti, facts);
    await ledger.markDone(registrationMark(config), REGISTRATION_MARK_TTL_SECONDS);
    if (facts) await storePlatform(facts, record.jwks);
    log.info('Connector registered in OpenCTI', {
      connectorId,
      scope: config.opencti.scope,
      callbackUrl: config.opencti.callbackUrl ?? null,
      platformVersion: facts?.version.raw ?? null,
    });
    return { active: record.active === true };
  }

  /** Re-reads the platform (version, JWKS) when the stored record is missing or old. */
  async function refreshPlatform(): Promise<void> {
    if (!ledger.getPlatform || !ledger.putPlatform) return;
    const stored = await ledger.getPlatform();
    const age = stored ? clock.now().getTime() - Date.parse(stored.checkedAt) : Infinity;
    if (!(age >= PLATFORM_RECHECK_MS || (stored && Number.isNaN(age)))) return;
    const facts = await platformFacts();
    if (!facts) return;
    const jwks = hasConnectorJwks(facts.version) ? await readConnectorJwks(opencti, connectorId) : undefined;
    await storePlatform(facts, jwks);
  }

  async function ping(): Promise<ScheduleResult> {
    let registered = false;
    if (!(await ledger.isDone(registrationMark(config)))) {
      await register();
      registered = true;
    }
    try {
      const result = await pingConnector(opencti, config.opencti);
      await refreshPlatformQuietly();
      return { task: 'ping', connectorId, registered, active: result.active, quota: await afterPing() };
    } catch (error) {
      if (!(error instanceof ConnectorNotRegisteredError) || registered) throw error;
    }
    // Deleted in the OpenCTI UI since the last registration: register again, then ping.
    log.warn('OpenCTI no longer knows the connector; registering it again', { connectorId });
    await register();
    const result = await pingConnector(opencti, config.opencti);
    return { task: 'ping', connectorId, registered: true, active: result.active, quota: await afterPing() };
  }

  /** The ping succeeded whatever happens here: a failed refresh keeps the stored record. */
  async function refreshPlatformQuietly(): Promise<void> {
    try {
      await refreshPlatform();
    } catch (error) {
      log.warn('Cannot refresh the OpenCTI platform record (version, JWKS); the stored one stays', {
        errorMessage: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** What rides on a successful ping: the quota check, then the spend it records; the quota state. */
  async function afterPing(): Promise<string> {
    const check = await quota();
    await recordSpend(check.credits);
    return check.state;
  }

  /**
   * The share of the monthly budget spent (the metric the budget alarm watches), and the
   * account's credits: `known` when the quota check has just read them, else asked every
   * CREDITS_RECHECK_MS. A failure here never fails the ping.
   */
  async function recordSpend(known: number | undefined): Promise<void> {
    try {
      const month = (await deps.budget?.status())?.find((w) => w.window === 'month');
      if (month && month.budget > 0) {
        metrics.count(METRIC.monthlyBudgetUsedPercent, Math.round((month.spent / month.budget) * 100));
      }
      if (!deps.account || !ledger.getCredits || !ledger.putCredits) return;
      let credits = known;
      if (credits === undefined) {
        const stored = await ledger.getCredits();
        const age = stored ? clock.now().getTime() - Date.parse(stored.checkedAt) : Infinity;
        if (age < CREDITS_RECHECK_MS) return;
        credits = asNumber((await deps.account()).max_search);
      }
      if (credits !== undefined) await ledger.putCredits({ credits, checkedAt: clock.now().toISOString() });
    } catch (error) {
      log.warn('Cannot record the Criminal IP spend or credits; the ping stands', errorSummary(error));
    }
  }

  /** The credits check rides on the ping: it asks the account only while the pause is on. */
  async function quota(): Promise<{ state: string; credits?: number }> {
    if (!deps.account) return { state: 'not checked' };
    try {
      const check = await checkQuota({ account: deps.account, ledger, clock, log, metrics });
      return 'credits' in check && check.credits !== undefined
        ? { state: check.state, credits: check.credits }
        : { state: check.state };
    } catch (error) {
      // The ping succeeded; a failed credits check only means the pause runs its course.
      log.warn('Criminal IP credits check failed', {
        errorMessage: error instanceof Error ? error.message : String(error),
      });
      return { state: 'check failed' };
    }
  }

  /** Jobs the sweep may queue now: REENRICH_BUDGET, and no more than automatic work may still spend. */
  async function sweepRoom(): Promise<number> {
    if (!deps.budget) return config.reenrich.budget;
    const left = (await deps.budget.status()).flatMap((w) =>
      w.remainingBackground === undefined ? [] : [w.remainingBackground],
    );
    return Math.min(config.reenrich.budget, ...left);
  }

  /** REENRICH_SCOPE=own: authored by Criminal IP, or written by the connector (its ledger). */
  async function enrichedByUs(stale: StaleObservable): Promise<boolean> {
    if (stale.createdByRef === CRIMINAL_IP_AUTHOR.id) return true;
    return (await ledger.getWritten(stale.stixId)) !== undefined;
  }

  async function reenrich(): Promise<ScheduleResult> {
    const now = clock.now();
    const staleBefore = new Date(now.getTime() - config.reenrich.staleAfterDays * 24 * 3600 * 1000);
    const own = config.reenrich.scope === 'own';
    const room = await sweepRoom();
    let found = 0;
    let queued = 0;
    let invalid = 0;
    let notOurs = 0;
    let pending: EnrichmentJob[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      await queue.send(pending);
      queued += pending.length;
      pending = [];
    };
    const platform = config.reenrich.filter ? await recordedPlatformVersion(ledger, log) : undefined;
    for await (const stale of findStaleObservables(opencti, {
      types: config.opencti.scope,
      staleBefore,
      budget: own ? Math.max(room * OWN_SCAN_FACTOR, OWN_SCAN_MIN) : room,
      ...(config.reenrich.filter ? { filter: config.reenrich.filter } : {}),
      ...(platform ? { platform } : {}),
    })) {
      if (queued + pending.length >= room) break;
      found += 1;
      if (own && !(await enrichedByUs(stale))) {
        notOurs += 1;
        continue;
      }
      try {
        pending.push(
          newSweepJob(
            { type: stale.type, value: stale.value, stixId: stale.stixId, markingRefs: stale.markingRefs },
            now,
          ),
        );
      } catch (error) {
        // OpenCTI holds a value this product cannot enrich (it was created by another tool).
        invalid += 1;
        log.warn('Stale observable not queued: invalid value', {
          stixId: stale.stixId,
          observableType: stale.type,
          errorMessage: error instanceof Error ? error.message : String(error),
        });
      }
      if (pending.length >= SWEEP_SEND_CHUNK) await flush();
    }
    await flush();
    metrics.count(METRIC.jobsQueued, queued, { Source: 'reenrich' });
    const result = {
      found,
      queued,
      invalid,
      ...(own ? { notOurs } : {}),
      budget: config.reenrich.budget,
      ...(room < config.reenrich.budget ? { callBudgetRoom: room } : {}),
    };
    log.info('Re-enrichment sweep done', {
      ...result,
      scope: config.reenrich.scope,
      staleBefore: staleBefore.toISOString(),
    });
    return { task: 'reenrich', ...result };
  }

  return {
    register: async (): Promise<ScheduleResult> => ({ task: 'register', connectorId, ...(await register()) }),
    ping,
    reenrich,
  };
}

/** Runs one task by name; an unknown name is a typed error naming the valid ones. */
export async function runScheduleTask(
  tasks: ReturnType<typeof createScheduleTasks>,
  task: unknown,
): Promise<ScheduleResult> {
  switch (task) {
    case 'register':
    case 'ping':
    case 'reenrich':
      return tasks[task]();
    default:
      throw new UnknownTaskError(task);
  }
}
