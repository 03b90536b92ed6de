/**
 * How a job's result reaches OpenCTI depends only on where the job came from:
 * - an OpenCTI work (listen message): push the bundle into that work, then close it;
 * - a playbook step: always answer playbookStepExecution, with the step's bundle unchanged when
 *   there is nothing to add, so that a playbook never stalls;
 * - a webhook, the CLI or the sweep: a work is created for the push, so analysts see it in OpenCTI.
 */
import type { EnrichmentJob } from '../jobs/types';
import { BundleBuilder } from '../stix/bundle';
import type { StixBundle, StixObject } from '../stix/core';
import type { Ledger, OpenCtiPort } from './ports';

export interface WriteBack {
  /** Writes our objects and closes the request with `message`. */
  deliver(objects: StixObject[], message: string): Promise<void>;
  /** Closes the request without new objects (skipped, not found, failed). */
  close(message: string, inError: boolean): Promise<void>;
  /** Tells the analyst something without closing the request (only a work has room for it). */
  note(message: string): Promise<void>;
}

function bundleOf(objects: StixObject[]): StixBundle {
  return new BundleBuilder().add(...objects).build();
}

/** How long a job's push is remembered: as long as the job itself (enrich-job.ts). */
const PUSH_MARK_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Pushes the job's bundle unless an earlier delivery of the job already did. A delivery that
 * fails after its push (closing the work failed) is delivered again: it closes the work without
 * pushing the same bundle twice.
 */
async function pushOnce(
  job: EnrichmentJob,
  marks: Pick<Ledger, 'isDone' | 'markDone'> | undefined,
  push: () => Promise<void>,
): Promise<void> {
  const mark = `${job.jobId}#pushed`;
  if (marks && (await marks.isDone(mark))) return;
  await push();
  await marks?.markDone(mark, PUSH_MARK_TTL_SECONDS);
}

function workName(job: EnrichmentJob): string {
  return `Criminal IP enrichment (${job.observable.value || job.observable.type})`.slice(0, 200);
}

export function writeBackFor(
  job: EnrichmentJob,
  opencti: OpenCtiPort,
  executionStart: Date,
  marks?: Pick<Ledger, 'isDone' | 'markDone'>,
): WriteBack {
  const origin = job.origin;
  switch (origin.kind) {
    case 'enrichment':
      return {
        async deliver(objects, message) {
          await pushOnce(job, marks, () => opencti.pushBundle(bundleOf(objects), origin.workId));
          await opencti.workToProcessed(origin.workId, message, false);
        },
        close: (message, inError) => opencti.workToProcessed(origin.workId, message, inError),
        note: (message) => opencti.workToReceived(origin.workId, message),
      };
    case 'playbook': {
      const answer = (bundle: StixBundle) =>
        opencti.playbookStepExecution({
          executionId: origin.playbook.executionId,
          eventId: origin.playbook.eventId,
          executionStart: executionStart.toISOString(),
          dataInstanceId: origin.playbook.dataInstanceId,
          playbookId: origin.playbook.playbookId,
          previousStepId: origin.playbook.previousStepId,
          stepId: origin.playbook.stepId,
          previousBundle: JSON.stringify(origin.bundle),
          bundle: JSON.stringify(bundle),
        });
      return {
        // The step's own objects first, ours after. Ours replace the step's version of an object
        // (the enriched observable is laid over it already): merged, its stale labels would return.
        deliver: (objects) => {
          const ours = new Set(objects.map((o) => o.id));
          const theirs = origin.bundle.objects.filter((o) => !ours.has(o.id));
          return answer({ ...bundleOf([...theirs, ...objects]), id: origin.bundle.id });
        },
        close: () => answer(origin.bundle),
        note: async () => {},
      };
    }
    case 'webhook':
    case 'cli':
    case 'reenrich':
      return {
        async deliver(objects, message) {
          const workId = await opencti.workAdd(workName(job));
          await opencti.workToReceived(workId, 'Criminal IP enrichment started');
          await pushOnce(job, marks, () => opencti.pushBundle(bundleOf(objects), workId));
          await opencti.workToProcessed(workId, message, false);
        },
        async close(message, inError) {
          // Nothing was asked of a work here: only an error is worth a work the analyst can see.
          if (!inError) return;
          const workId = await opencti.workAdd(workName(job));
          await opencti.workToProcessed(workId, message, true);
        },
        note: async () => {},
      };
  }
}
