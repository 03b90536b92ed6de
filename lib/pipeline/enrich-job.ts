/**
 * The enrich-one-job use case: gate → freshness cache → Criminal IP → STIX mapping → write-back.
 *
 * It returns what became of the job (lib/pipeline/outcome.ts) and throws only for a transient
 * failure that a redelivery may cure; the queue then redelivers the job and, after its receive
 * count runs out, dead-letters it. A playbook step is answered on the last attempt instead, so
 * that a playbook never stalls waiting for us.
 */
import { randomUUID } from 'node:crypto';
import { METRIC, type MetricsSink } from '../core/metrics';
import type { Config } from '../config';
import { CriminalIpError } from '../criminalip/errors';
import { queueDelaySeconds } from '../jobs/limits';
import type { EnrichmentJob } from '../jobs/types';
import { mapIntel } from '../mapping';
import { idRulesFor } from '../opencti/platform-version';
import { ID_RULES_6_9 } from '../stix/id-rules';
import { tlpMarkingId } from '../stix/markings';
import type { CallLease } from '../core/lease';
import type { Clock } from '../core/clock';
import type { IntelSource, LookupResult } from '../criminalip/intel';
import type { Log } from '../core/log';
import type { OpenCtiPort } from '../opencti/port';
import {
  claimTtlMs,
  JOB_CLAIM_WAIT_SECONDS,
  jobClaimName,
  lookupClaimName,
  lookupClaimWaitSeconds,
  takeClaim,
  type Claim,
} from './claims';
import { BudgetReachedError, spendOriginOf, type CallBudget } from './budget';
import { gate } from './gate';
import { recordedPlatformVersion } from './platform';
import type { Attempt, JobOutcome } from './outcome';
import type { CachedIntel, Ledger, PlatformStore, CreditsStore } from './ports';
import { pauseCalls, QuotaPausedError } from './quota';
import { linkInputIndicator } from './indicator-input';
import { respectNeighbours } from './neighbours';
import { respectAnalysts } from './respect';
import { spendNote } from './spend-note';
import { writeBackFor, type WriteBack } from './write-back';

export interface PipelineDeps {
  config: Config;
  intel: IntelSource;
  opencti: OpenCtiPort;
  /** With the platform record (both ledgers have it), ids follow the connected version's rules. */
  ledger: Ledger & Partial<PlatformStore> & Partial<CreditsStore>;
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
  /** The OpenCTI port bound to a draft workspace, for listen messages sent from a draft. */
  openctiForDraft?: (draftId: string) => OpenCtiPort;
  /**
   * The lease shared by every consumer (DynamoDB, the local ledger): with it, one delivery of a
   * job and one lookup of an observable run at a time (claims.ts), so duplicates cost nothing.
   */
  lease?: CallLease;
  /**
   * Milliseconds the current delivery may still take (the Lambda's remaining time); the
   * visibility timeout bounds it in any case. In-place retries stop before it runs out.
   */
  remainingMs?: () => number;
  /** Waits between in-place retries (tests move their clock instead of waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1): the jitter of in-place retries. */
  random?: () => number;
  /**
   * The connector's Criminal IP budget (budget.ts): every call of a lookup is counted against it
   * first. Without it calls are neither counted nor capped.
   */
  budget?: CallBudget;
}

/** How long a finished job id is remembered to recognise a duplicate delivery. */
const DONE_TTL_SECONDS = 7 * 24 * 3600;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const duplicateDelivery = (): JobOutcome => ({
  kind: 'skipped',
  reason: 'duplicate-delivery',
  detail: 'this request was already completed',
  calls: 0,
});

export function intelCacheKey(job: EnrichmentJob): string {
  return `${job.observable.type}:${job.observable.value}`;
}

/** A wait as one hop through the queue: at least a second, at most the queue's longest delay. */
function clampDelay(seconds: number): number {
  return Math.max(1, queueDelaySeconds(seconds));
}

/** Criminal IP failures that are worth waiting for rather than retrying at once. */
function waitFor(error: CriminalIpError): number | undefined {
  switch (error.kind) {
    case 'rate-limited':
    case 'concurrent-call':
    case 'scan-busy':
      return (error.retryAfterMs ?? 30_000) / 1000;
    default:
      return undefined;
  }
}

/**
 * The budget is spent for this job's class of request: automatic work waits in the queue until
 * the window turns (never the dead-letter queue); an analyst's request (manual, playbook, CLI) is
 * answered at once, its work closed or its step answered with its bundle unchanged.
 */
async function budgetReached(
  error: BudgetReachedError,
  job: EnrichmentJob,
  writeBack: WriteBack,
  deps: PipelineDeps,
  calls: number,
): Promise<JobOutcome> {
  const where = { jobId: job.jobId, origin: job.origin.kind, window: error.window, until: error.until };
  if (error.spendClass === 'background') {
    deps.log.info('Criminal IP budget reached: the job waits in the queue', where);
    // Until the window turns, in hops of at most 15 minutes (the queue's longest delay).
    const wait = (error.retryAfterMs ?? 0) / 1000;
    return { kind: 'retry-later', reason: error.message, delaySeconds: clampDelay(wait), job, calls };
  }
  deps.log.warn('Criminal IP budget reached: the request is answered without enrichment', where);
  const outcome: JobOutcome = { kind: 'skipped', reason: 'budget-reached', detail: error.message, calls };
  await writeBack.close(`Not enriched: ${error.message}`, false, outcome);
  return outcome;
}

/** A job that waits in the queue for a claim someone else holds. */
function waitForClaim(job: EnrichmentJob, reason: string, delaySeconds: number): JobOutcome {
  return { kind: 'retry-later', reason, delaySeconds, job, calls: 0 };
}

/**
 * The cached answer for the job, if it may use one. `force` (a manual enrichment) asks for data
 * fresher than the request: an answer fetched after the job was received (by an earlier delivery
 * of the same job, or a duplicate of it) is that, and fetching it again would waste a credit.
 */
async function usableCache(
  job: EnrichmentJob,
  key: string,
  ledger: Ledger,
): Promise<CachedIntel | undefined> {
  const cached = await ledger.getIntel(key);
  if (cached && job.force && cached.fetchedAt < job.receivedAt) return undefined;
  return cached;
}

export async function enrichJob(
  job: EnrichmentJob,
  attempt: Attempt,
  deps: PipelineDeps,
): Promise<JobOutcome> {
  // A finished job is acknowledged whatever else holds: even on its last delivery, even when a
  // copy that died left its claim behind, it never goes back to the queue or to the dead letters.
  if (await deps.ledger.isDone(job.jobId)) return duplicateDelivery();
  if (!deps.lease) return enrichClaimedJob(job, attempt, deps);
  const claim = await takeClaim(deps.lease, jobClaimName(job.jobId), randomUUID(), claimTtlMs(deps.config));
  if (!claim) {
    return waitForClaim(job, 'another delivery of this job is in progress', JOB_CLAIM_WAIT_SECONDS);
  }
  try {
    return await enrichClaimedJob(job, attempt, deps);
  } finally {
    await claim.release();
  }
}

async function enrichClaimedJob(
  job: EnrichmentJob,
  attempt: Attempt,
  deps: PipelineDeps,
): Promise<JobOutcome> {
  try {
    return await enrichOnce(job, attempt, deps);
  } catch (error) {
    // Another copy of the job may have finished it meanwhile (its claim expired while this
    // delivery ran, or there are no claims): then this delivery has nothing left to do.
    if (await deps.ledger.isDone(job.jobId).catch(() => false)) return duplicateDelivery();
    throw error;
  }
}

async function enrichOnce(job: EnrichmentJob, attempt: Attempt, deps: PipelineDeps): Promise<JobOutcome> {
  const { config, ledger, clock, log } = deps;
  const draftId = job.origin.kind === 'enrichment' ? job.origin.draftId : undefined;
  const opencti = draftId && deps.openctiForDraft ? deps.openctiForDraft(draftId) : deps.opencti;
  const startedAt = clock.now();
  // The delivery must end within the visibility timeout (or a copy runs beside it), and within
  // the function's remaining time when the runtime says.
  const deadline = startedAt.getTime() + config.queue.visibilityTimeoutSeconds * 1000;
  const writeBack = writeBackFor(job, opencti, startedAt, ledger, {
    remainingMs: () =>
      Math.min(deps.remainingMs?.() ?? Number.POSITIVE_INFINITY, deadline - clock.now().getTime()),
    attemptMs: config.opencti.timeoutMs,
    sleep: deps.sleep ?? sleepFor,
    random: deps.random,
    log,
    metrics: deps.metrics,
  });
  const where = { jobId: job.jobId, type: job.observable.type, origin: job.origin.kind };

  if (await ledger.isDone(job.jobId)) return duplicateDelivery();

  const finish = async (outcome: JobOutcome): Promise<JobOutcome> => {
    if (outcome.kind !== 'retry-later') await ledger.markDone(job.jobId, DONE_TTL_SECONDS);
    return outcome;
  };

  // A playbook answer an earlier delivery built: send it again rather than enrich again.
  const resumed = await writeBack.resume();
  if (resumed) {
    log.info('re-sending the playbook answer an earlier delivery built', where);
    return finish(resumed);
  }

  if (job.unprocessable) {
    const outcome: JobOutcome = {
      kind: 'skipped',
      reason: 'invalid-target',
      detail: job.unprocessable.reason,
      calls: 0,
    };
    await writeBack.close(
      `Not enriched: ${job.unprocessable.reason}`,
      job.origin.kind === 'enrichment',
      outcome,
    );
    return finish(outcome);
  }

  const decision = await gate(
    job.observable,
    { scope: config.opencti.scope, maxTlp: config.opencti.maxTlp },
    opencti,
  );
  if (!decision.pass) {
    log.info('job skipped by the gate', { ...where, reason: decision.reason });
    const outcome: JobOutcome = {
      kind: 'skipped',
      reason: decision.reason,
      detail: decision.detail,
      calls: 0,
    };
    await writeBack.close(`Not enriched: ${decision.detail}`, false, outcome);
    return finish(outcome);
  }

  if (job.origin.kind === 'enrichment' && !job.scan && attempt.receiveCount === 1) {
    await opencti.workToReceived(job.origin.workId, 'Criminal IP enrichment started');
  }

  const obtained = await obtainIntel(job, attempt, deps, writeBack, startedAt);
  if (obtained.kind === 'outcome') {
    return obtained.outcome.kind === 'retry-later' ? obtained.outcome : finish(obtained.outcome);
  }
  const { intel, calls, cached } = obtained;

  // Loop safety: an automatic update trigger on an observable we enriched within the freshness
  // window is most likely our own write-back echoing; it costs nothing and writes nothing.
  if (
    cached &&
    job.origin.kind === 'enrichment' &&
    job.origin.mode === 'auto' &&
    job.origin.trigger === 'update'
  ) {
    const outcome: JobOutcome = {
      kind: 'skipped',
      reason: 'fresh',
      detail: `enriched at ${intel.fetchedAt}`,
      calls: 0,
    };
    await writeBack.close(
      `Already enriched at ${intel.fetchedAt} (within the freshness window)`,
      false,
      outcome,
    );
    return finish(outcome);
  }

  const platform = await recordedPlatformVersion(ledger, log);
  const mapped = mapIntel({
    observable: job.observable,
    intel: intel.intel,
    settings: config.mapping,
    markingRefs: decision.tlp ? [tlpMarkingId(decision.tlp)] : [],
    now: startedAt,
    idRules: platform ? idRulesFor(platform) : ID_RULES_6_9,
  });
  for (const warning of mapped.warnings) log.warn('mapping warning', { ...where, warning });

  // What analysts already have decides what is written (respect.ts).
  const respected =
    mapped.objects.length > 0
      ? await respectAnalysts({ job, mapped, settings: config.mapping, opencti, ledger, now: startedAt })
      : undefined;
  if (respected && respected.staleLabels.length > 0) {
    await opencti.removeLabels(
      respected.entityId,
      respected.staleLabels.map((l) => l.id),
    );
  }
  const written = respected?.score.write ?? mapped.score;
  const score =
    mapped.score === undefined
      ? 'no score'
      : respected && respected.score.write === undefined
        ? `score ${mapped.score} not written (${respected.score.reason})`
        : `score ${written}`;
  const neighbours = respected
    ? await respectNeighbours(
        linkInputIndicator(respected.objects, job, respected.entityId, mapped.score, startedAt),
        respected.entityId,
        config.mapping.scoreUpdate,
        opencti,
        ledger,
        startedAt,
      )
    : undefined;
  const outcome: JobOutcome = {
    kind: 'written',
    objects: mapped.objects.length,
    relationships: mapped.counts.relationships,
    calls,
    score: mapped.score,
    labels: mapped.labels,
    cached,
  };
  const spent = await spendNote(calls, deps.budget, ledger);
  await writeBack.deliver(
    neighbours?.objects ?? mapped.objects,
    `Criminal IP: ${score}, ${mapped.counts.entities} entities, ${mapped.counts.relationships} relationships` +
      (respected?.indicatorEnded ? ', Indicator no longer detecting' : '') +
      ` (${spent})`,
    outcome,
  );
  if (respected) await ledger.putWritten(respected.entityId, respected.written);
  for (const [id, value] of neighbours?.written ?? []) await ledger.putWritten(id, value);
  return finish(outcome);
}

type Obtained =
  | { kind: 'intel'; intel: CachedIntel; calls: number; cached: boolean }
  /** The job ends (or waits) without intel: not found, a failure, a scan still running... */
  | { kind: 'outcome'; outcome: JobOutcome };

/**
 * Criminal IP's answer for the job: from the freshness cache, or looked up. With a lease, one
 * lookup of an observable runs at a time (the lookup claim); a scan's continuations keep the
 * claim from one delivery to the next, held by the job's id.
 */
async function obtainIntel(
  job: EnrichmentJob,
  attempt: Attempt,
  deps: PipelineDeps,
  writeBack: WriteBack,
  startedAt: Date,
): Promise<Obtained> {
  const { config, ledger, metrics } = deps;
  const key = intelCacheKey(job);
  const cached = await usableCache(job, key, ledger);
  if (cached) return { kind: 'intel', intel: cached, calls: 0, cached: true };

  let claim: Claim | undefined;
  if (deps.lease) {
    const holder = job.scan ? job.jobId : randomUUID();
    claim = await takeClaim(deps.lease, lookupClaimName(key), holder, claimTtlMs(config));
    if (!claim) {
      const wait = lookupClaimWaitSeconds(config);
      return {
        kind: 'outcome',
        outcome: waitForClaim(job, 'another job is looking this observable up', wait),
      };
    }
    // The previous holder may have cached its answer while we were taking the claim.
    const fresh = await usableCache(job, key, ledger);
    if (fresh) {
      await claim.release();
      return { kind: 'intel', intel: fresh, calls: 0, cached: true };
    }
  }

  // Spent already: no claim, no call. The check before each call (below) is the one that holds.
  const origin = spendOriginOf(job.origin);
  const spent = await deps.budget?.blocked(origin);
  if (spent) {
    await claim?.release();
    return { kind: 'outcome', outcome: await budgetReached(spent, job, writeBack, deps, 0) };
  }

  const pausedUntil = await ledger.getQuotaPause();
  if (pausedUntil !== undefined && pausedUntil > startedAt.getTime()) {
    await claim?.release();
    return {
      kind: 'outcome',
      outcome: {
        kind: 'retry-later',
        reason: 'Criminal IP credits exhausted: waiting for the quota pause to end',
        delaySeconds: clampDelay((pausedUntil - startedAt.getTime()) / 1000),
        job,
        calls: 0,
      },
    };
  }

  let result: LookupResult;
  try {
    const budget = deps.budget;
    result = await deps.intel.lookup(job.observable, job.scan, {
      ...(budget ? { beforeCall: () => budget.spend(origin) } : {}),
      // An analyst who asks gets the full scan; automatic work the cheapest verdict (scan.ts).
      ...(origin === 'manual' || origin === 'cli' ? { fullScan: true } : {}),
    });
  } catch (error) {
    // A scan in progress keeps its claim until the job comes back for it; anything else lets go.
    let outcome: JobOutcome;
    try {
      outcome = await handleLookupError(error, job, attempt, deps, writeBack);
    } catch (thrown) {
      await (job.scan ? claim?.extend(claimTtlMs(config)) : claim?.release());
      throw thrown;
    }
    if (job.scan && outcome.kind === 'retry-later')
      await claim?.extend(claimTtlMs(config, outcome.delaySeconds));
    else await claim?.release();
    return { kind: 'outcome', outcome };
  }
  metrics.count(METRIC.criminalIpCalls, result.calls);

  switch (result.status) {
    case 'pending': {
      const ttl = claimTtlMs(config, result.retryAfterSeconds);
      await (job.scan ? claim?.extend(ttl) : claim?.handOver(job.jobId, ttl));
      return {
        kind: 'outcome',
        outcome: {
          kind: 'retry-later',
          reason: `scan ${result.scan.scanId} still running`,
          delaySeconds: clampDelay(result.retryAfterSeconds),
          job: { ...job, scan: result.scan },
          calls: result.calls,
        },
      };
    }
    case 'not-found': {
      await claim?.release();
      const outcome: JobOutcome = {
        kind: 'skipped',
        reason: 'not-found',
        detail: result.reason,
        calls: result.calls,
      };
      await writeBack.close(`Criminal IP has no data: ${result.reason}`, false, outcome);
      return { kind: 'outcome', outcome };
    }
    case 'ready': {
      const intel = { intel: result.intel, fetchedAt: startedAt.toISOString() };
      if (config.cacheTtlHours > 0) await ledger.putIntel(key, intel, config.cacheTtlHours * 3600);
      await claim?.release();
      return { kind: 'intel', intel, calls: result.calls, cached: false };
    }
  }
}

async function handleLookupError(
  error: unknown,
  job: EnrichmentJob,
  attempt: Attempt,
  deps: PipelineDeps,
  writeBack: WriteBack,
): Promise<JobOutcome> {
  const { ledger, clock, config, metrics, log } = deps;
  if (!(error instanceof CriminalIpError)) throw error;
  const calls = error.calls ?? 0;
  if (error instanceof BudgetReachedError) return budgetReached(error, job, writeBack, deps, calls);

  if (error.kind === 'quota-exhausted') {
    const now = clock.now().getTime();
    // The pause may be on already (another job, the client's QuotaCircuit): it is not extended.
    const until =
      error instanceof QuotaPausedError
        ? error.pausedUntilMs
        : await pauseCalls(
            { ledger, pauseSeconds: config.criminalIp.quotaPauseSeconds, metrics, log },
            clock,
          );
    return {
      kind: 'retry-later',
      reason: error.message,
      delaySeconds: clampDelay((until - now) / 1000),
      job,
      calls,
    };
  }

  const wait = waitFor(error);
  if (wait !== undefined) {
    return { kind: 'retry-later', reason: error.message, delaySeconds: clampDelay(wait), job, calls };
  }

  if (!error.retryable) {
    // Retrying cannot help (invalid key, invalid target, failed scan): say so where the analyst looks.
    const outcome: JobOutcome =
      error.kind === 'invalid-target'
        ? { kind: 'skipped', reason: 'invalid-target', detail: error.message, calls }
        : { kind: 'failed', reason: error.message, permanent: true, calls };
    await writeBack.close(`Criminal IP enrichment failed: ${error.message}`, true, outcome);
    return outcome;
  }

  if (job.origin.kind === 'playbook' && attempt.receiveCount >= attempt.maxReceiveCount) {
    // Last delivery: a playbook must get its bundle back rather than wait in the dead-letter queue.
    const outcome: JobOutcome = { kind: 'failed', reason: error.message, permanent: true, calls };
    await writeBack.close(error.message, true, outcome);
    return outcome;
  }
  if (job.origin.kind === 'enrichment' && attempt.receiveCount >= attempt.maxReceiveCount) {
    // The job goes to the dead-letter queue and its work stays open, so that a redrive can still
    // complete it; the analyst is told why it waits. Best effort: the job is dead-lettered anyway.
    await writeBack
      .note(
        `Criminal IP unavailable after ${attempt.receiveCount} attempts (${error.message}); ` +
          'the job is in the dead-letter queue and completes when an operator redrives it',
      )
      .catch(() => undefined);
  }
  throw error;
}
