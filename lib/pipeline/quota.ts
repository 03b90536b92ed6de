/**
 * The Criminal IP credits circuit. When the service answers "limit exceeded", the pipeline
 * records a pause in the ledger (every consumer reads it) and jobs wait in the queue instead of
 * burning their deliveries into the dead-letter queue. The pause ends at its configured time
 * (CRIMINALIP_QUOTA_PAUSE_SECONDS), or earlier when `checkQuota`, run from the schedule, finds
 * credits on the account again.
 *
 * `gatedAcquire` closes the circuit at the last moment, right before each HTTP call: a call that
 * was already waiting for its slot when the pause began is not made, so the product stops
 * calling at once rather than after the calls in flight.
 */
import { CriminalIpError } from '../criminalip/errors';
import type { Release } from '../criminalip/limiter';
import { asNumber } from '../criminalip/parse';
import type { Account } from '../criminalip/types';
import { type Clock, type Ledger, type Log, type MetricsSink, systemClock } from './ports';

/** Metric names of the circuit (QuotaExhausted is counted by the pipeline when a pause starts). */
export const QUOTA_METRICS = { exhausted: 'QuotaExhausted', resumed: 'QuotaResumed' } as const;

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

/**
 * Wraps the client's per-call `acquire` (call slots, or nothing) so that, once a slot is held, a
 * call is refused with QuotaPausedError while the ledger's pause is on. Give it to the clients
 * that look observables up, not to the one `checkQuota` uses, or the check could never run.
 */
export function gatedAcquire(
  ledger: Pick<Ledger, 'getQuotaPause'>,
  acquire?: () => Promise<Release>,
  clock: Clock = systemClock,
): () => Promise<Release> {
  return async () => {
    const release: Release = acquire ? await acquire() : () => undefined;
    try {
      const pausedUntil = await ledger.getQuotaPause();
      const now = clock.now().getTime();
      if (pausedUntil !== undefined && pausedUntil > now) throw new QuotaPausedError(pausedUntil, now);
    } catch (error) {
      await release();
      throw error;
    }
    return release;
  };
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
        'checkQuota was given a Criminal IP client gated by the quota pause: give it one without gatedAcquire',
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
  metrics.count(QUOTA_METRICS.resumed, 1);
  log.info('Criminal IP credits are back: calls resume', { credits, pausedUntil: until });
  return { state: 'resumed', credits };
}
