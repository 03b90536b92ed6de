/**
 * JobQueue on SQS. Jobs are sent with SendMessageBatch: at most 10 entries and 1 MiB per call.
 * A job whose JSON exceeds MAX_INLINE_BYTES is stored in S3 and its message carries the
 * reference. Entries SQS refuses for a passing reason are sent again; what still fails raises
 * QueueSendError, so that the caller answers with an error and the sender retries.
 */
import {
  DeleteMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { envelopeBody, type QueueEnvelope, type JobRef } from '../jobs/envelope';
import { queueDelaySeconds } from '../jobs/limits';
import type { EnrichmentJob } from '../jobs/types';
import type { JobQueue } from '../pipeline/ports';
import { S3JobStore, type S3ClientSource } from './s3-job-store';

/** SendMessageBatch limits. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 1024 * 1024;

/** Some jobs could not be queued; `failures` says which and why. */
export class QueueSendError extends Error {
  constructor(readonly failures: ReadonlyArray<{ jobId: string; code: string; senderFault: boolean }>) {
    const shown = failures
      .slice(0, 5)
      .map((f) => `${f.jobId} (${f.code})`)
      .join(', ');
    super(
      `SQS refused ${failures.length} job(s): ${shown}${failures.length > 5 ? ', ...' : ''}; ` +
        'nothing was lost on our side, the sender must retry',
    );
    this.name = 'QueueSendError';
  }
}

export interface SqsJobQueueOptions {
  sqs: SQSClient;
  s3: S3ClientSource;
  queueUrl: string;
  /** Bucket for jobs too large for a message. */
  bucket: string;
  /** Tries per entry that SQS refused for a passing reason (default 3). */
  maxAttempts?: number;
  /** Pause before a retry, doubled each time (default 100 ms). */
  retryDelayMs?: number;
}

interface Pending {
  job: EnrichmentJob;
  body: string;
  bytes: number;
}

/** Groups messages into SendMessageBatch calls within both the entry and the byte limits. */
export function chunkForBatch<T extends { bytes: number }>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && bytes + item.bytes > MAX_BATCH_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SqsJobQueue implements JobQueue {
  private readonly store: S3JobStore;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: SqsJobQueueOptions) {
    this.store = new S3JobStore(options.s3, options.bucket);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  async send(jobs: EnrichmentJob[], delaySeconds?: number): Promise<void> {
    if (jobs.length === 0) return;
    const delay = queueDelaySeconds(delaySeconds);
    const pending: Pending[] = [];
    for (const job of jobs) pending.push(await this.toMessage(job));
    const failures: { jobId: string; code: string; senderFault: boolean }[] = [];
    for (const chunk of chunkForBatch(pending)) {
      failures.push(...(await this.sendChunk(chunk, delay)));
    }
    if (failures.length > 0) throw new QueueSendError(failures);
  }

  /** Resolves a message's envelope to its job, reading S3 for a reference. */
  /**
   * Deletes one received message now rather than when the batch is answered (the enrich handler
   * does so for a job finished on its last delivery: see functions/enrich/handler.ts).
   */
  async acknowledge(receiptHandle: string): Promise<void> {
    await this.options.sqs.send(
      new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: receiptHandle }),
    );
  }

  async loadJob(envelope: QueueEnvelope): Promise<EnrichmentJob> {
    return 'job' in envelope ? envelope.job : this.store.load(envelope.ref);
  }

  /** Reads a job stored aside (the enrich handler's `loadJob`). */
  loadRef(ref: JobRef): Promise<EnrichmentJob> {
    return this.store.load(ref);
  }

  private async toMessage(job: EnrichmentJob): Promise<Pending> {
    const { body, bytes } = await envelopeBody(job, (json) => this.store.put(job, json));
    return { job, body, bytes };
  }

  /** Sends one batch, retrying refused entries; returns those that still failed. */
  private async sendChunk(chunk: Pending[], delay: number) {
    let entries = new Map<string, Pending>(chunk.map((p, i) => [`m${i}`, p]));
    const permanent: { jobId: string; code: string; senderFault: boolean }[] = [];
    let lastTransient: { jobId: string; code: string; senderFault: boolean }[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts && entries.size > 0; attempt++) {
      if (attempt > 1) await sleep(this.retryDelayMs * 2 ** (attempt - 2));
      const request: SendMessageBatchRequestEntry[] = [...entries].map(([id, p]) => ({
        Id: id,
        MessageBody: p.body,
        ...(delay > 0 ? { DelaySeconds: delay } : {}),
      }));
      const result = await this.options.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: request }),
      );
      const retry = new Map<string, Pending>();
      lastTransient = [];
      for (const failed of result.Failed ?? []) {
        const entry = failed.Id === undefined ? undefined : entries.get(failed.Id);
        if (!entry || failed.Id === undefined) continue;
        const failure = {
          jobId: entry.job.jobId,
          code: failed.Code ?? 'Unknown',
          senderFault: failed.SenderFault === true,
        };
        // A sender fault (invalid body, bad attribute) fails the same way every time.
        if (failure.senderFault) permanent.push(failure);
        else {
          retry.set(failed.Id, entry);
          lastTransient.push(failure);
        }
      }
      entries = retry;
    }
    return [...permanent, ...lastTransient];
  }
}
