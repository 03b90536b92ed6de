/**
 * What the suite reconciles once the queue has drained: what became of every accepted job (from
 * the ledger's finished-job marks, the dead-letter queue and what the OpenCTI stand-in recorded),
 * and where every Criminal IP call went (the stand-in's record, the clients' call records, the
 * lookups they were made in). Each function returns figures plus the list of violations, so a
 * failing run says which job or call broke which rule.
 */
import { decodeEnvelope } from '../../../lib/jobs/envelope';
import type { EnrichmentJob } from '../../../lib/jobs/types';
import { observableId } from '../../../lib/stix/ids';
import { OBSERVABLE_STIX_TYPES, type ObservableStixType } from '../../../lib/stix/core';
import type { LookupTrace, World } from './world';

export interface JobFigures {
  accepted: number;
  acceptances: number;
  written: number;
  skipped: Record<string, number>;
  /** Permanent failures: the error is on the OpenCTI work, or the playbook got its bundle back. */
  failed: number;
  deadLettered: number;
  playbooksAnswered: number;
  pushes: number;
  duplicateDeliveries: number;
  violations: string[];
}

function deadLetteredJobs(world: World): Map<string, number> {
  const dead = new Map<string, number>();
  for (const letter of world.consumers[0]!.queue.deadLetters(100_000)) {
    const envelope = decodeEnvelope(letter.body);
    if ('job' in envelope) dead.set(envelope.job.jobId, (dead.get(envelope.job.jobId) ?? 0) + 1);
  }
  return dead;
}

/** The last delivery line of each job that finished it (a duplicate delivery only echoes it). */
function finalLines(world: World) {
  const final = new Map<string, { outcome: string; reason: string | undefined }>();
  for (const line of world.trace.deliveries) {
    if (line.outcome === 'retry-later' || line.outcome === 'error') continue;
    if (line.reason === 'duplicate-delivery') continue;
    final.set(line.jobId, { outcome: line.outcome, reason: line.reason });
  }
  return final;
}

/**
 * Every accepted job ends in exactly one of: finished (written, skipped or failed with the error
 * on its work / the playbook answered) or dead-lettered; none lost, none finished twice, and
 * OpenCTI shows exactly that: one push per written job, one answer per playbook step.
 */
export function reconcileJobs(world: World): JobFigures {
  const { trace, octi } = world;
  const violations: string[] = [];
  const dead = deadLetteredJobs(world);
  const final = finalLines(world);
  const works = octi.works();
  const answers = octi.playbookAnswers();
  const pushes = octi.pushes();
  const figures: JobFigures = {
    accepted: trace.accepted.size,
    acceptances: trace.acceptances,
    written: 0,
    skipped: {},
    failed: 0,
    deadLettered: 0,
    playbooksAnswered: answers.length,
    pushes: pushes.length,
    duplicateDeliveries: trace.deliveries.filter((l) => l.reason === 'duplicate-delivery').length,
    violations,
  };

  // Webhook and sweep jobs push into works they create, named after the observable.
  const writtenWebhookJobs = new Map<string, number>();
  for (const [jobId, job] of trace.accepted) {
    const marks = trace.marks.get(jobId) ?? 0;
    const deadCount = dead.get(jobId) ?? 0;
    const line = final.get(jobId);
    const where = `job ${jobId} (${job.origin.kind} ${job.observable.type} ${job.observable.value})`;
    // Two copies of one job (a crash leaves one) may both run out of deliveries: still one end
    // state, and a redrive of both finishes the job once (the second copy is a duplicate).
    if (marks > 1) violations.push(`${where} was finished ${marks} times`);
    if (marks === 0 && deadCount === 0)
      violations.push(`${where} was lost: neither finished nor dead-lettered`);
    if (marks === 1 && deadCount > 0) violations.push(`${where} was finished and also dead-lettered`);
    if (marks === 1 && !line) violations.push(`${where} was finished without a job line`);

    if (deadCount > 0 && marks === 0) figures.deadLettered += 1;
    else if (line?.outcome === 'written') figures.written += 1;
    else if (line?.outcome === 'failed') figures.failed += 1;
    else if (line?.outcome === 'skipped') {
      const reason = line.reason ?? 'unknown';
      figures.skipped[reason] = (figures.skipped[reason] ?? 0) + 1;
    }

    checkOpenCti(job, marks === 1 ? line?.outcome : 'dead-lettered', violations, where);
    if ((job.origin.kind === 'webhook' || job.origin.kind === 'reenrich') && line?.outcome === 'written') {
      writtenWebhookJobs.set(job.observable.value, (writtenWebhookJobs.get(job.observable.value) ?? 0) + 1);
    }
  }

  function checkOpenCti(job: EnrichmentJob, outcome: string | undefined, out: string[], where: string) {
    if (job.origin.kind === 'enrichment') {
      const work = works.get(job.origin.workId);
      if (!work) return out.push(`${where}: its work is unknown to OpenCTI`);
      if (outcome === 'dead-lettered') {
        if (work.status === 'complete') out.push(`${where} is dead-lettered but its work says complete`);
        if (work.bundles > 1) out.push(`${where} pushed ${work.bundles} bundles into its work`);
        return;
      }
      if (work.status !== 'complete') out.push(`${where} finished but its work is ${work.status}`);
      const expected = outcome === 'written' ? 1 : 0;
      if (work.bundles !== expected) {
        out.push(`${where} ended ${outcome} with ${work.bundles} bundles pushed into its work`);
      }
      if (outcome === 'failed' && !work.inError) out.push(`${where} failed but its work is not in error`);
    } else if (job.origin.kind === 'playbook') {
      const executionId = job.origin.playbook.executionId;
      const mine = answers.filter((a) => a.answer.executionId === executionId);
      const expected = outcome === 'dead-lettered' ? 0 : 1;
      if (mine.length !== expected) {
        return out.push(`${where} ended ${outcome} with ${mine.length} playbook answers`);
      }
      const answer = mine[0];
      if (!answer) return;
      const original = job.origin.bundle.objects.length;
      if (outcome === 'written' && answer.bundle.objects.length <= original) {
        out.push(`${where} was written but the playbook got no new object`);
      }
      if (outcome !== 'written' && answer.bundle.objects.length !== original) {
        out.push(`${where} ended ${outcome} but the playbook did not get its own bundle back`);
      }
    }
  }

  const webhookPushes = new Map<string, number>();
  for (const push of pushes) {
    const work = push.workId ? works.get(push.workId) : undefined;
    const match = work && /^Criminal IP enrichment \((.*)\)$/.exec(work.name);
    if (match?.[1] !== undefined) webhookPushes.set(match[1], (webhookPushes.get(match[1]) ?? 0) + 1);
  }
  for (const value of new Set([...webhookPushes.keys(), ...writtenWebhookJobs.keys()])) {
    const pushed = webhookPushes.get(value) ?? 0;
    const written = writtenWebhookJobs.get(value) ?? 0;
    if (pushed !== written) {
      violations.push(`${value}: ${pushed} webhook pushes for ${written} written webhook jobs`);
    }
  }

  // Deterministic ids: every observable object pushed carries the id of its value, so repeated
  // pushes of one observable update one object instead of creating another.
  for (const push of pushes) {
    const ids = new Set<string>();
    for (const object of push.bundle.objects) {
      if (ids.has(object.id)) violations.push(`a pushed bundle holds ${object.id} twice`);
      ids.add(object.id);
      if (
        (OBSERVABLE_STIX_TYPES as readonly string[]).includes(object.type) &&
        typeof object.value === 'string'
      ) {
        const expected = observableId(object.type as ObservableStixType, object.value);
        if (object.id !== expected) violations.push(`${object.type} ${object.value} pushed as ${object.id}`);
      }
    }
  }
  const rejected = octi.requests.filter((r) => r.outcome === 'rejected');
  for (const r of rejected.slice(0, 5)) {
    violations.push(`OpenCTI refused a ${r.operationName ?? 'request'} (${r.errorCode ?? r.status})`);
  }
  return figures;
}

export interface CallFigures {
  /** Calls the Criminal IP stand-in received. */
  calls: number;
  /** Calls that failed (fault, refusal, timeout, drop). */
  failed: number;
  /** Calls of the first lookup of each step (what a run without failures makes). */
  needed: number;
  /** In-place retries by the client, each after a failed call. */
  clientRetries: number;
  /** Calls of lookups that repeated a step after a failed lookup or a crash. */
  reruns: number;
  /** Distinct observables looked up, and jobs whose deliveries made calls. */
  observables: number;
  lookups: number;
  /** Observables with no failed call whose calls equal the fault-free minimum. */
  cleanObservables: number;
  byOutcome: Record<string, number>;
  violations: string[];
}

const stepOf = (lookup: LookupTrace) => `${lookup.key}|${lookup.scanId ?? 'start'}|${lookup.polls ?? 0}`;
const failedCall = (outcome: string) => outcome !== 'ok';

/**
 * Criminal IP calls = the calls a run without failures needs + retries of failed calls, no more:
 * - every call is accounted for (stand-in = clients = lookups = what the pipeline reported);
 * - every in-place retry follows a failed call of the same request;
 * - a lookup step runs again only after it failed or its consumer crashed (no duplicate lookup);
 * - an observable whose lookups saw no failure costs exactly its fault-free minimum (`minimum`).
 */
export function reconcileCalls(world: World, minimum: Map<string, number>): CallFigures {
  const { trace, cip } = world;
  const violations: string[] = [];
  const stats = cip.stats();
  const lookupCalls = trace.lookups.reduce((n, l) => n + l.http.length, 0);
  const reported = trace.lookups.reduce((n, l) => n + l.reported, 0);
  if (stats.calls !== trace.calls.length) {
    violations.push(`the stand-in received ${stats.calls} calls, the clients made ${trace.calls.length}`);
  }
  if (lookupCalls !== trace.calls.length) {
    violations.push(`${trace.calls.length - lookupCalls} calls were made outside any lookup`);
  }
  if (reported !== lookupCalls) {
    violations.push(`lookups reported ${reported} calls but made ${lookupCalls}`);
  }

  let clientRetries = 0;
  for (const lookup of trace.lookups) {
    lookup.http.forEach((call, index) => {
      if (call.attempt === 0) return;
      clientRetries += 1;
      const previous = lookup.http[index - 1];
      if (!previous || previous.endpoint !== call.endpoint || !failedCall(previous.outcome)) {
        violations.push(`${lookup.key}: a retry of ${call.endpoint} not preceded by a failed call`);
      }
    });
  }

  // Steps: (observable, scan, poll). The first lookup of a step is needed. A later one must come
  // after a failure (or a crash) of a lookup of the same observable since the step last ran (the
  // step itself failed, or the scan it started did), or belong to a scan such a re-run started.
  const lastRunOfStep = new Map<string, number>();
  const lastFailureOfKey = new Map<string, number>();
  const rerunScans = new Set<string>();
  let needed = 0;
  let reruns = 0;
  const troubled = new Set<string>();
  trace.lookups.forEach((lookup, index) => {
    const step = stepOf(lookup);
    const firstTries = lookup.http.filter((c) => c.attempt === 0).length;
    const previous = lastRunOfStep.get(step);
    const fromRerunScan = lookup.scanId !== undefined && rerunScans.has(lookup.scanId);
    if (previous === undefined && !fromRerunScan) {
      needed += firstTries;
    } else {
      reruns += firstTries;
      troubled.add(lookup.key);
      // A scan a re-run started is a re-run too, down to its last poll.
      if (lookup.scanId === undefined && lookup.resultScanId !== undefined)
        rerunScans.add(lookup.resultScanId);
      const failedSince = (lastFailureOfKey.get(lookup.key) ?? -1) >= (previous ?? 0);
      const notFoundBefore = previous !== undefined && trace.lookups[previous]?.status === 'not-found';
      if (previous !== undefined && !failedSince && !notFoundBefore && !fromRerunScan) {
        violations.push(`${step} was looked up again although nothing failed since it last ran`);
      }
    }
    if (lookup.error || lookup.crashed || lookup.http.some((c) => failedCall(c.outcome))) {
      troubled.add(lookup.key);
      lastFailureOfKey.set(lookup.key, index);
    }
    lastRunOfStep.set(step, index);
  });

  let clean = 0;
  const byKey = new Map<string, number>();
  for (const lookup of trace.lookups)
    byKey.set(lookup.key, (byKey.get(lookup.key) ?? 0) + lookup.http.length);
  for (const [key, calls] of byKey) {
    if (troubled.has(key)) continue;
    const expected = minimum.get(key);
    if (expected === undefined) continue;
    clean += 1;
    if (calls !== expected)
      violations.push(`${key} cost ${calls} calls without any failure; the minimum is ${expected}`);
  }

  return {
    calls: stats.calls,
    failed: trace.calls.filter((c) => failedCall(c.outcome)).length,
    needed,
    clientRetries,
    reruns,
    observables: byKey.size,
    lookups: trace.lookups.length,
    cleanObservables: clean,
    byOutcome: stats.byOutcome,
    violations,
  };
}
