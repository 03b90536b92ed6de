/**
 * How a job's result reaches OpenCTI depends only on where the job came from:
 * - an OpenCTI work (listen message): push the bundle into that work, then close it;
 * - a playbook step: always answer playbookStepExecution, with the step's bundle unchanged when
 *   there is nothing to add, so that a playbook never stalls;
 * - a webhook, the CLI or the sweep: a work is created for the push, so analysts see it in OpenCTI.
 *
 * A job may take several deliveries to get there (OpenCTI failing in between), so what one
 * delivery did is kept in the ledger for the next: the push (a mark), the work a webhook job
 * opened (reused, never opened twice), the closing of that work (a mark), and a playbook answer
 * (re-sent as built, never rebuilt).
 */
import { v4 as uuidv4 } from 'uuid';
import { METRIC, type MetricsSink } from '../core/metrics';
import type { EnrichmentJob } from '../jobs/types';
import { OpenCtiError } from '../opencti/errors';
import { openCtiBundle } from '../stix/opencti-extensions';
import type { StixBundle, StixObject } from '../stix/core';
import type { Log } from '../core/log';
import type { OpenCtiPort } from '../opencti/port';
import type { JobOutcome } from './outcome';
import type { Ledger } from './ports';

export interface WriteBack {
  /** Writes our objects and closes the request with `message`; `outcome` is what the job ends as. */
  deliver(objects: StixObject[], message: string, outcome: JobOutcome): Promise<void>;
  /** Closes the request without new objects (skipped, not found, failed). */
  close(message: string, inError: boolean, outcome: JobOutcome): Promise<void>;
  /** Tells the analyst something without closing the request (only a work has room for it). */
  note(message: string): Promise<void>;
  /**
   * Finishes what an earlier delivery started and could not complete: a playbook answer it built
   * is sent again as it was (no new lookup, no new mapping). The outcome that answer stood for,
   * or undefined when nothing is pending.
   */
  resume(): Promise<JobOutcome | undefined>;
}

/** The ledger records the write-back keeps between deliveries of a job. */
export type JobRecords = Pick<
  Ledger,
  'isDone' | 'markDone' | 'getJobWork' | 'putJobWork' | 'getStepAnswer' | 'putStepAnswer'
>;

/**
 * In-place retries of the playbook answer: a step left unanswered stalls its playbook for good,
 * so a failed answer is tried again within the delivery's time budget before the delivery is
 * given back to the queue.
 */
export interface AnswerRetry {
  /** Milliseconds the delivery may still spend. */
  remainingMs(): number;
  /** The longest one attempt can take (OPENCTI_TIMEOUT_MS): no attempt is started without it. */
  attemptMs: number;
  sleep(ms: number): Promise<void>;
  /** Uniform [0, 1): the jitter source. */
  random?: () => number;
  log?: Log;
  metrics?: MetricsSink;
}

/** First backoff of the in-place answer retries; it doubles per retry up to the maximum. */
export const ANSWER_RETRY_BASE_MS = 500;
export const ANSWER_RETRY_MAX_MS = 8_000;

/** How long a job's records are remembered: as long as the job itself (enrich-job.ts). */
const RECORD_TTL_SECONDS = 7 * 24 * 3600;

/** The answer a playbook delivery built, as kept in the ledger. */
interface KeptAnswer {
  executionStart: string;
  bundle: string;
  outcome: JobOutcome;
}

function parseKept(text: string | undefined): KeptAnswer | undefined {
  if (text === undefined) return undefined;
  try {
    const kept = JSON.parse(text) as Partial<KeptAnswer>;
    if (typeof kept.bundle === 'string' && typeof kept.executionStart === 'string' && kept.outcome) {
      return kept as KeptAnswer;
    }
  } catch {
    // fall through: an unreadable record only costs building the answer again
  }
  return undefined;
}

/** Runs `step` unless the ledger says an earlier delivery of the job already did. */
async function once(
  job: EnrichmentJob,
  name: string,
  records: JobRecords | undefined,
  step: () => Promise<void>,
): Promise<void> {
  const mark = `${job.jobId}#${name}`;
  if (records && (await records.isDone(mark))) return;
  await step();
  await records?.markDone(mark, RECORD_TTL_SECONDS);
}

/**
 * Sends the answer, retrying OpenCTI failures that can pass (5xx, INTERNAL_SERVER_ERROR and other
 * server errors, timeouts, broken connections) with jittered exponential backoff while the
 * budget allows another attempt. The last failure is thrown: the queue delivers the job again.
 */
async function answerInPlace(send: () => Promise<void>, retry: AnswerRetry | undefined): Promise<void> {
  const random = retry?.random ?? Math.random;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await send();
      return;
    } catch (error) {
      if (!retry || !(error instanceof OpenCtiError) || !error.retryable) throw error;
      const ceiling = Math.min(ANSWER_RETRY_MAX_MS, ANSWER_RETRY_BASE_MS * 2 ** attempt);
      const delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      if (retry.remainingMs() < delayMs + retry.attemptMs) throw error;
      retry.log?.warn('Answering the playbook step failed; trying again in place', {
        kind: error.kind,
        status: error.status,
        code: error.code,
        retry: attempt + 1,
        delayMs,
      });
      retry.metrics?.count(METRIC.playbookAnswerRetries, 1);
      await retry.sleep(delayMs);
    }
  }
}

function workName(job: EnrichmentJob): string {
  return `Criminal IP enrichment (${job.observable.value || job.observable.type})`.slice(0, 200);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function writeBackFor(
  job: EnrichmentJob,
  opencti: OpenCtiPort,
  executionStart: Date,
  records?: JobRecords,
  retry?: AnswerRetry,
): WriteBack {
  const origin = job.origin;
  switch (origin.kind) {
    case 'enrichment':
      return {
        async deliver(objects, message) {
          // A delivery repeated after a later failure (closing the work failed) does not push again.
          await once(job, 'pushed', records, () => opencti.pushBundle(openCtiBundle(objects), origin.workId));
          await once(job, 'closed', records, () => opencti.workToProcessed(origin.workId, message, false));
        },
        close: (message, inError) =>
          once(job, 'closed', records, () => opencti.workToProcessed(origin.workId, message, inError)),
        note: (message) => opencti.workToReceived(origin.workId, message),
        resume: () => Promise.resolve(undefined),
      };
    case 'playbook': {
      const send = (kept: KeptAnswer) =>
        answerInPlace(
          () =>
            opencti.playbookStepExecution({
              executionId: origin.playbook.executionId,
              eventId: origin.playbook.eventId,
              executionStart: kept.executionStart,
              dataInstanceId: origin.playbook.dataInstanceId,
              playbookId: origin.playbook.playbookId,
              previousStepId: origin.playbook.previousStepId,
              stepId: origin.playbook.stepId,
              previousBundle: JSON.stringify(origin.bundle),
              bundle: kept.bundle,
            }),
          retry,
        );
      const answer = async (bundle: StixBundle, outcome: JobOutcome) => {
        const kept: KeptAnswer = {
          executionStart: executionStart.toISOString(),
          bundle: JSON.stringify(bundle),
          outcome,
        };
        // Kept before the first attempt: a delivery that fails (or dies) after this point leaves
        // the next one nothing to do but send it.
        await records?.putStepAnswer(job.jobId, JSON.stringify(kept), RECORD_TTL_SECONDS);
        await send(kept);
      };
      return {
        // The step's own objects first, ours after. Ours replace the step's version of an object
        // (the enriched observable is laid over it already): merged, its stale labels would return.
        // Each answer is a bundle of its own with a fresh `bundle--<uuid4>` id, as STIX 2.1 requires: the platform's
        // bundle id is often a bare uuid, and OpenCTI never reads the answer's id.
        deliver: (objects, _message, outcome) => {
          const ours = new Set(objects.map((o) => o.id));
          const theirs = origin.bundle.objects.filter((o) => !ours.has(o.id));
          return answer(openCtiBundle([...theirs, ...objects]), outcome);
        },
        close: (_message, _inError, outcome) =>
          answer({ ...origin.bundle, id: `bundle--${uuidv4()}` }, outcome),
        note: async () => {},
        async resume() {
          const kept = parseKept(await records?.getStepAnswer(job.jobId));
          if (!kept) return undefined;
          await send(kept);
          return kept.outcome;
        },
      };
    }
    case 'webhook':
    case 'cli':
    case 'reenrich': {
      /** The job's work: the one an earlier delivery opened, or a new one, recorded at once. */
      const workOf = async (): Promise<{ workId: string; opened: boolean }> => {
        const known = await records?.getJobWork(job.jobId);
        if (known) return { workId: known, opened: false };
        const workId = await opencti.workAdd(workName(job));
        try {
          await records?.putJobWork(job.jobId, workId, RECORD_TTL_SECONDS);
        } catch (error) {
          // The next delivery could not find this work: close it now, with the reason, rather
          // than leave an empty work in progress for ever (best effort: the error is what counts).
          await opencti
            .workToProcessed(workId, `Criminal IP enrichment interrupted: ${messageOf(error)}`, true)
            .catch(() => undefined);
          throw error;
        }
        return { workId, opened: true };
      };
      const closeWork = (workId: string, message: string, inError: boolean) =>
        once(job, 'closed', records, () => opencti.workToProcessed(workId, message, inError));
      return {
        async deliver(objects, message) {
          const { workId, opened } = await workOf();
          if (opened) await opencti.workToReceived(workId, 'Criminal IP enrichment started');
          await once(job, 'pushed', records, () => opencti.pushBundle(openCtiBundle(objects), workId));
          await closeWork(workId, message, false);
        },
        async close(message, inError) {
          // Nothing was asked of a work here: only an error is worth a work the analyst can see,
          // unless an earlier delivery opened one, which is then closed with this message.
          const known = await records?.getJobWork(job.jobId);
          if (!inError && !known) return;
          const workId = known ?? (await workOf()).workId;
          await closeWork(workId, message, inError);
        },
        async note(message) {
          const known = await records?.getJobWork(job.jobId);
          if (known) await opencti.workToReceived(known, message);
        },
        resume: () => Promise.resolve(undefined),
      };
    }
  }
}
