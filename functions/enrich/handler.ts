/**
 * The queue consumer: each SQS record is one EnrichmentJob, handed to lib/pipeline enrichJob.
 * What the outcome means for the message:
 *   written / skipped / failed (permanent)  → done, the message is deleted;
 *   retry-later                             → the updated job is queued again with its delay,
 *                                             and this message is deleted;
 *   thrown (transient)                      → the record is reported failed: SQS delivers it
 *                                             again, and after maxReceiveCount moves it to the
 *                                             dead-letter queue.
 * Only the failed records are reported (ReportBatchItemFailures), so one bad job never makes a
 * whole batch run again.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeEnvelope, MalformedEnvelopeError, type JobRef } from '../../lib/jobs/envelope';
import { jobLogKeys, recordDuration, withKeys } from '../../lib/aws/observability';
import { METRIC } from '../../lib/core/metrics';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { enrichJob, type PipelineDeps } from '../../lib/pipeline/enrich-job';
import type { Attempt, JobOutcome } from '../../lib/pipeline/outcome';
import type { JobQueue } from '../../lib/pipeline/ports';
import { Semaphore } from '../../lib/core/limiter';
import { errorSummary } from '../../lib/core/log';

export interface EnrichDeps extends PipelineDeps {
  /** Where retry-later jobs go back to. */
  queue: JobQueue;
  /** The queue's redrive maxReceiveCount: the last delivery before the dead-letter queue. */
  maxReceiveCount: number;
  /** Jobs of one batch processed at once. */
  concurrency: number;
  /**
   * Deletes a message at once (SQS DeleteMessage). Used for a job finished on its last delivery:
   * if the process died before the batch is answered, SQS would move the message of a finished
   * job to the dead-letter queue on its next receive, without asking us.
   */
  acknowledge?: (record: SQSRecord) => Promise<void>;
  /** Reads a job stored aside (S3) when the message carries a reference. */
  loadJob?: (ref: JobRef) => Promise<EnrichmentJob>;
}

/** A message carrying a reference, on a consumer that cannot read references. */
export class JobStoreMissingError extends Error {
  constructor(ref: JobRef) {
    super(
      `Message refers to s3://${ref.bucket}/${ref.key} but this consumer has no job store (loadJob) configured`,
    );
    this.name = 'JobStoreMissingError';
  }
}

function attemptOf(record: SQSRecord, maxReceiveCount: number): Attempt {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return { receiveCount: Number.isFinite(count) && count >= 1 ? count : 1, maxReceiveCount };
}

/** What the job log line says about an outcome, beyond its kind. */
function outcomeDetail(outcome: JobOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'written':
      return {
        objects: outcome.objects,
        relationships: outcome.relationships,
        score: outcome.score,
        cached: outcome.cached,
      };
    case 'skipped':
      return { reason: outcome.reason, detail: outcome.detail };
    case 'retry-later':
      return { reason: outcome.reason, delaySeconds: outcome.delaySeconds };
    case 'failed':
      return { reason: outcome.reason };
  }
}

export type EnrichHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createEnrichHandler(deps: EnrichDeps): EnrichHandler {
  const limit = new Semaphore(deps.concurrency);

  async function loadJob(record: SQSRecord): Promise<EnrichmentJob> {
    try {
      const envelope = decodeEnvelope(record.body);
      if ('job' in envelope) return envelope.job;
      if (!deps.loadJob) throw new JobStoreMissingError(envelope.ref);
      return await deps.loadJob(envelope.ref);
    } catch (error) {
      if (error instanceof MalformedEnvelopeError || error instanceof JobStoreMissingError) {
        // Such a message can never succeed, but it must not vanish either: failing it sends it
        // to the dead-letter queue (after maxReceiveCount deliveries), where it is alarmed and
        // can be inspected.
        deps.log.error('Queue message is not a job; it will go to the dead-letter queue', {
          messageId: record.messageId,
          ...errorSummary(error),
        });
        deps.metrics.count(METRIC.malformedMessages, 1);
      }
      throw error;
    }
  }

  async function processRecord(record: SQSRecord, context: Context | undefined): Promise<void> {
    const job = await loadJob(record);
    const attempt = attemptOf(record, deps.maxReceiveCount);
    const log = withKeys(deps.log, {
      ...jobLogKeys(job),
      messageId: record.messageId,
      attempt: attempt.receiveCount,
    });
    const started = deps.clock.now().getTime();
    const elapsed = () => deps.clock.now().getTime() - started;

    let outcome: JobOutcome;
    try {
      outcome = await enrichJob(job, attempt, {
        ...deps,
        log,
        // In-place retries (the playbook answer) stop before the invocation's time runs out.
        ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
      });
    } catch (error) {
      const last = attempt.receiveCount >= attempt.maxReceiveCount;
      log.error(
        last
          ? 'Job failed on its last delivery; it goes to the dead-letter queue'
          : 'Job failed; SQS will deliver it again',
        {
          outcome: 'error',
          ms: elapsed(),
          maxReceiveCount: attempt.maxReceiveCount,
          ...errorSummary(error),
        },
      );
      deps.metrics.count(METRIC.jobs, 1, { Outcome: 'error' });
      throw error;
    }

    if (outcome.kind === 'retry-later') {
      // Sent before this message is acknowledged: if sending fails, the record fails and the
      // job is delivered again rather than lost.
      await deps.queue.send([outcome.job], outcome.delaySeconds);
    }
    if (deps.acknowledge && attempt.receiveCount >= attempt.maxReceiveCount) {
      // Best effort: the batch answer deletes it anyway unless the process dies first.
      await deps.acknowledge(record).catch((error: unknown) =>
        log.warn('Deleting the message of a finished job failed; the batch answer deletes it', {
          ...errorSummary(error),
        }),
      );
    }
    const ms = elapsed();
    log.info('Job finished', { outcome: outcome.kind, calls: outcome.calls, ms, ...outcomeDetail(outcome) });
    deps.metrics.count(METRIC.jobs, 1, { Outcome: outcome.kind });
    if (outcome.kind === 'skipped' && outcome.reason === 'duplicate-delivery') {
      // Acknowledged, never dead-lettered: a copy of a finished job, or a redrive of one.
      deps.metrics.count(METRIC.duplicateDeliveries, 1);
    }
    recordDuration(deps.metrics, METRIC.jobLatency, ms);
  }

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    // One processor per invocation: it keeps per-batch state, and the local runtime may call
    // this handler for two batches at once.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(
      event,
      (record: SQSRecord) => limit.run(() => processRecord(record, context)),
      processor,
      {
        ...(context ? { context } : {}),
        // A batch where every record failed is still answered record by record.
        throwOnFullBatchFailure: false,
      },
    );
  };
}
