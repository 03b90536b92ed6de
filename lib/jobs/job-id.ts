/**
 * Job ids, the idempotency keys of the pipeline's ledger.
 *
 * The same request delivered twice must give the same id: the OpenCTI worker re-POSTs a listen
 * message whose answer it did not see, and the webhook notifier sends one notification per target
 * user. So ids are UUID v5 of the request's own identifiers and the observable; only the CLI, where
 * every run is a new request, draws a random id.
 */
import { v4 as uuidv4, v5 as uuidv5 } from 'uuid';
import type { ObservableStixType } from '../stix/core';
import { normaliseObservable } from './observable';
import type { EnrichmentJob, JobOrigin, Observable } from './types';

/** This project's namespace for job ids (fixed: ids must stay stable across releases). */
const JOB_ID_NAMESPACE = 'd1e4c8f5-f777-4a65-b0fc-c8105fd3da7b';

/** Origins that leave OpenCTI waiting for an answer: an open work, a paused playbook. */
export type ListenOrigin = Extract<JobOrigin, { kind: 'enrichment' | 'playbook' }>;

/** What a job is about: the observable, or, when none could be read, the entity OpenCTI named. */
export type JobSubject = { type: ObservableStixType; value: string } | { entityId: string };

/**
 * A UUID that depends on `parts` only. A JSON array keeps the parts apart: no separator inside a
 * value can make two different lists collide.
 */
export function stableUuid(parts: ReadonlyArray<string | null>): string {
  return uuidv5(JSON.stringify(parts), JOB_ID_NAMESPACE);
}

function subjectParts(subject: JobSubject): string[] {
  return 'entityId' in subject ? ['entity', subject.entityId] : ['observable', subject.type, subject.value];
}

/**
 * A listen message: an enrichment is one work (work_id); a playbook step is one step of one
 * execution (execution_id + step_id; a playbook may hold several enrichment steps).
 */
export function listenJobId(origin: ListenOrigin, subject: JobSubject): string {
  const request =
    origin.kind === 'enrichment'
      ? ['enrichment', origin.workId]
      : ['playbook', origin.playbook.executionId, origin.playbook.stepId];
  return stableUuid([...request, ...subjectParts(subject)]);
}

export interface WebhookDelivery {
  form: 'template' | 'minimal';
  /** The notifier's trigger or playbook name, or the script's `source`. */
  sender: string | null;
  /**
   * What makes this event different from the next one about the same object: the object's STIX id
   * and modification time (template form), or the script's `request_id` (minimal form).
   */
  event: string | null;
}

export function webhookJobId(delivery: WebhookDelivery, subject: JobSubject): string {
  return stableUuid(['webhook', delivery.form, delivery.sender, delivery.event, ...subjectParts(subject)]);
}

/** One `enrich` command: always a new request, with fresh data (like a manual enrichment). */
export function newCliJob(observable: Observable, now: Date = new Date()): EnrichmentJob {
  return {
    jobId: uuidv4(),
    observable: { ...observable, value: normaliseObservable(observable.type, observable.value) },
    origin: { kind: 'cli' },
    receivedAt: now.toISOString(),
    force: true,
  };
}

/**
 * One observable picked by the re-enrichment sweep. The id depends on the UTC day, so a sweep that
 * is retried, or runs twice the same day, does not enrich the same observable twice.
 */
export function newSweepJob(observable: Observable, now: Date): EnrichmentJob {
  const value = normaliseObservable(observable.type, observable.value);
  const day = now.toISOString().slice(0, 10);
  return {
    jobId: stableUuid(['reenrich', day, ...subjectParts({ type: observable.type, value })]),
    observable: { ...observable, value },
    origin: { kind: 'reenrich' },
    receivedAt: now.toISOString(),
  };
}
