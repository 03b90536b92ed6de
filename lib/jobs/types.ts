/**
 * The EnrichmentJob: one observable to enrich, where the request came from and how to answer it.
 * Every incoming message shape (listen message, playbook step, webhook, CLI, sweep) becomes one
 * of these per observable; everything downstream works on this type only.
 */
import type { ObservableStixType, StixBundle, StixObject } from '../stix/core';

export interface Observable {
  type: ObservableStixType;
  /** The value exactly as OpenCTI stores it (domain names lower-cased). */
  value: string;
  /** STIX id (OpenCTI standard_id) of the observable, when the request named it. */
  stixId?: string;
  /**
   * STIX ids of the marking definitions on the observable. `undefined` means the message did not
   * say, and the TLP gate has to ask OpenCTI; `[]` means known to carry none (TLP:CLEAR).
   */
  markingRefs?: string[];
  /** The STIX object as OpenCTI sent it, re-emitted in the bundle so that it is updated. */
  original?: StixObject;
  /**
   * The Indicator sent for enrichment, when the request named an Indicator rather than the
   * observable: it gets the score and a based-on link to the observable (jobs/indicator-input.ts).
   */
  indicator?: StixObject;
}

/** Where the job came from decides how the result is written back. */
export type JobOrigin =
  /** OpenCTI listen message (manual button, auto enrichment): work toReceived/push/toProcessed. */
  | {
      kind: 'enrichment';
      workId: string;
      mode: 'manual' | 'auto';
      trigger?: 'create' | 'update';
      draftId?: string;
    }
  /** Playbook "Enrich through connector": always answered with playbookStepExecution. */
  | {
      kind: 'playbook';
      playbook: {
        eventId: string;
        executionId: string;
        playbookId: string;
        dataInstanceId: string;
        stepId: string;
        previousStepId: string;
      };
      /** The bundle the playbook step received, answered back unchanged or with our objects. */
      bundle: StixBundle;
    }
  /** Generic webhook notifier: a work is created with workAdd, then as for enrichment. */
  | { kind: 'webhook'; source: string }
  /** Command line or re-enrichment sweep: a work is created with workAdd. */
  | { kind: 'cli' }
  | { kind: 'reenrich' };

/** Progress of an asynchronous domain/URL scan, carried by the job between deliveries. */
export interface ScanProgress {
  mode: 'full' | 'lite';
  scanId: string;
  polls: number;
  startedAt: string;
}

export interface EnrichmentJob {
  /** Stable id: the same request delivered twice yields the same jobId (idempotency key). */
  jobId: string;
  observable: Observable;
  origin: JobOrigin;
  /** ISO time the request was accepted. */
  receivedAt: string;
  /** Set when a scan is in progress: the next delivery resumes it instead of starting over. */
  scan?: ScanProgress;
  /** Skip the freshness window (manual enrichment asks for fresh data). */
  force?: boolean;
  /**
   * Set when the request can never be enriched (type out of scope, invalid value) but still needs
   * an answer: a playbook step must be answered with its bundle unchanged, an OpenCTI work must be
   * closed with the reason. The pipeline answers without calling Criminal IP. `observable` then
   * holds what could be read of the entity (possibly an empty value).
   */
  unprocessable?: { reason: string };
}

/** A message that can never become a job, with the reason, for logs and the 400/202 answers. */
export class JobRejection extends Error {
  constructor(
    readonly reason: string,
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'JobRejection';
  }
}
