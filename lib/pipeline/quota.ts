/**
 * The Criminal IP credits circuit. When the service answers "limit exceeded", the pipeline
 * records a pause in the ledger (every consumer reads it) and jobs wait in the queue instead of
 * burning their deliveries into the dead-letter queue. The pause ends at its configured time
 * (CRIMINALIP_QUOTA_PAUSE_SECONDS), or earlier when `checkQuota`, run from the schedule, finds
 * credits on the account again.
 *
 * QuotaCircuit closes the circuit at the call site, before and after each HTTP call, so that the
 * product stops calling at once rather than after the calls already waiting for a slot.
 */
import { METRIC, type MetricsSink } from '../core/metrics';
import { CriminalIpError } from '../criminalip/errors';
import type { CallRecord } from '../criminalip/client';
import type { Release } from '../criminalip/limiter';
import { asNumber } from '../criminalip/parse';
import type { Account } from '../criminalip/types';
import { type Clock, systemClock } from '../core/clock';
import type { Log } from '../core/log';
import type { Ledger } from './ports';

/**
 * A call not made because the credits pause is on. Of kind 'quota-exhausted' so that it is never
 * retried in place; `retryAfterMs` is the time left until the pause ends.
 */
export class QuotaPausedError extends CriminalIpError {
  readonly kind = 'quota-exhausted';
  readonly retryable = false;

  constructor(
    readonly pausedUntilMs: number,
    nowMs: number,
  ) {
    super(
      `Criminal IP calls are paused until ${new Date(pausedUntilMs).toISOString()} (credits exhausted); the job waits in the queue`,
      {},
      Math.max(0, pausedUntilMs - nowMs),
    );
  }
}

export interface QuotaCircuitOptions {
  ledger: Pick<Ledger, 'getQuotaPause' | 'setQuotaPause'>;
  /** CRIMINALIP_QUOTA_PAUSE_SECONDS: how long a "limit exceeded" answer stops every call. */
  pauseSeconds: number;
  clock?: Clock;
  log?: Log;
  metrics?: MetricsSink;
}

/**
 * The circuit at the call site of a Criminal IP client: `guard` wraps the client's per-call
 * `acquire` (call slots, or nothing) and `observe` is its `onCall` observer.
 *
 * - Once a slot is held, a call is refused with QuotaPausedError while the ledger's pause is on:
 *   a call that was already waiting for its slot when the pause began is not made.
 * - A call answered "limit exceeded" records the pause before its slot is given back, so the
 *   next call, in this process or another, already finds it.
 *
 * Give it to the clients that look observables up, not to the one `checkQuota` uses, or the
 * check could never run.
 */
export class QuotaCircuit {
  private refusals = 0;
  private readonly clock: Clock;

  constructor(private readonly options: QuotaCircuitOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** The client's onCall observer (call it from yours if you have one). */
  readonly observe = (call: Pick<CallRecord, 'outcome'>): void => {
    if (call.outcome === 'quota-exhausted') this.refusals += 1;
  };

  /** The client's per-call `acquire`, wrapped. */
  guard(acquire?: () => Promise<Release>): () => Promise<Release> {
    return async () => {
      const release: Release = acquire ? await acquire() : () => undefined;
      try {
        const pausedUntil = await this.options.ledger.getQuotaPause();
        const now = this.clock.now().getTime();
        if (pausedUntil !== undefined && pausedUntil > now) throw new QuotaPausedError(pausedUntil, now);
      } catch (error) {
        await release();
        throw error;
      }
      const refusalsBefore = this.refusals;
      return async () => {
        try {
          if (this.refusals > refusalsBefore) await pauseCalls(this.options, this.clock);
        } finally {
          await release();
        }
      };
    };
  }
}

/**
 * Starts the pause unless one is on; returns when it ends. A pause already on is never extended:
 * it ends when planned, or earlier when the account shows credits (checkQuota).
 */
export async function pauseCalls(
  options: Omit<QuotaCircuitOptions, 'clock'>,
  clock: Clock = systemClock,
): Promise<number> {
  const now = clock.now().getTime();
  const running = await options.ledger.getQuotaPause();
  if (running !== undefined && running > now) return running;
  const until = now + options.pauseSeconds * 1000;
  await options.ledger.setQuotaPause(until);
  options.metrics?.count(METRIC.quotaExhausted, 1);
  options.log?.warn('Criminal IP credits exhausted: pausing all calls', {
    until: new Date(until).toISOString(),
  });
  return until;
}

export interface QuotaCheckDeps {
  /** POST /v1/user/me, e.g. `() => api.account()` on a client the pause does not gate. */
  account: () => Promise<Account>;
  ledger: Pick<Ledger, 'getQuotaPause' | 'setQuotaPause'>;
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
}

export type QuotaCheck =
  /** No pause: the account is not asked (the check costs nothing while calls run). */
  | { state: 'running' }
  /** Still paused: the account shows no credits, or could not be read (`problem`). */
  | { state: 'paused'; until: string; credits?: number; problem?: string }
  /** The account shows credits again: the pause is lifted and waiting jobs go on at their next delivery. */
  | { state: 'resumed'; credits: number };

/**
 * While the credits pause is on, asks the account endpoint how many searches are left and lifts
 * the pause when there are some. `max_search` is read as the searches left (the stand-in's
 * meaning; no public source says more): were it the plan's size, the next refused call would
 * simply set the pause again, costing one refused call per check and no credit.
 */
export async function checkQuota(deps: QuotaCheckDeps): Promise<QuotaCheck> {
  const { ledger, clock, log, metrics } = deps;
  const pausedUntil = await ledger.getQuotaPause();
  if (pausedUntil === undefined || pausedUntil <= clock.now().getTime()) return { state: 'running' };
  const until = new Date(pausedUntil).toISOString();

  let account: Account;
  try {
    account = await deps.account();
  } catch (error) {
    if (error instanceof QuotaPausedError) {
      throw new Error(
        'checkQuota was given a Criminal IP client guarded by the quota circuit: give it one without QuotaCircuit',
      );
    }
    if (!(error instanceof CriminalIpError)) throw error;
    // Still out of credits ("limit exceeded" on the account call too) or the service is down:
    // the pause runs on, and the next check asks again.
    log.warn('Criminal IP account check failed; calls stay paused', { until, problem: error.message });
    return { state: 'paused', until, problem: error.message };
  }

  const credits = asNumber(account.max_search);
  if (credits === undefined || credits <= 0) {
    log.info('Criminal IP credits still exhausted; calls stay paused', { until, credits: credits ?? null });
    return { state: 'paused', until, ...(credits === undefined ? {} : { credits }) };
  }
  await ledger.setQuotaPause(undefined);
  metrics.count(METRIC.quotaResumed, 1);
  log.info('Criminal IP credits are back: calls resume', { credits, pausedUntil: until });
  return { state: 'resumed', credits };
}
