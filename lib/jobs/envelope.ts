/**
 * The body of a queue message, written and read here for every queue (SQS, the local one). A job
 * normally travels inline; one too large for a queue message (a playbook bundle can be big) is
 * stored aside and the message carries a reference to it. A body that does not decode can never
 * be processed: the consumer lets it fail so that it reaches the dead-letter queue, where it can
 * be inspected.
 */
import { OBSERVABLE_STIX_TYPES } from '../stix/core';
import type { EnrichmentJob } from './types';

export type QueueEnvelope = { v: 1; job: EnrichmentJob } | { v: 1; ref: JobRef };

/** SQS accepts 1 MiB per message; keep a margin for attributes and encoding. */
export const MAX_INLINE_BYTES = 900 * 1024;

/**
 * The message body for `job`: the job itself when it fits MAX_INLINE_BYTES, else a reference to
 * where `storeAside` put its JSON (S3 in AWS, DATA_DIR/jobs locally).
 */
export async function envelopeBody(
  job: EnrichmentJob,
  storeAside: (json: string) => Promise<JobRef>,
): Promise<{ body: string; bytes: number }> {
  const inline = encodeEnvelope({ v: 1, job });
  const inlineBytes = Buffer.byteLength(inline, 'utf8');
  if (inlineBytes <= MAX_INLINE_BYTES) return { body: inline, bytes: inlineBytes };
  const body = encodeEnvelope({ v: 1, ref: await storeAside(JSON.stringify(job)) });
  return { body, bytes: Buffer.byteLength(body, 'utf8') };
}

/** A queue message or stored job that is not a QueueEnvelope / EnrichmentJob. */
export class MalformedEnvelopeError extends Error {
  constructor(readonly detail: string) {
    super(`Malformed queue message: ${detail}; the message goes to the dead-letter queue for inspection`);
    this.name = 'MalformedEnvelopeError';
  }
}

export type JobRef = { bucket: string; key: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the fields every consumer relies on. The job was written by this product, so a deeper
 * check would only repeat the producer's; this one catches truncation, hand-edited redrives and
 * messages from another sender.
 */
export function assertJob(value: unknown, where: string): EnrichmentJob {
  if (!isRecord(value)) throw new MalformedEnvelopeError(`${where} is not a JSON object`);
  if (typeof value.jobId !== 'string' || value.jobId === '') {
    throw new MalformedEnvelopeError(`${where} has no jobId`);
  }
  const observable = value.observable;
  if (
    !isRecord(observable) ||
    typeof observable.value !== 'string' ||
    !(OBSERVABLE_STIX_TYPES as readonly unknown[]).includes(observable.type)
  ) {
    throw new MalformedEnvelopeError(`${where} (job ${value.jobId}) has no valid observable`);
  }
  if (!isRecord(value.origin) || typeof value.origin.kind !== 'string') {
    throw new MalformedEnvelopeError(`${where} (job ${value.jobId}) has no origin`);
  }
  if (typeof value.receivedAt !== 'string') {
    throw new MalformedEnvelopeError(`${where} (job ${value.jobId}) has no receivedAt`);
  }
  return value as unknown as EnrichmentJob;
}

/** Parses a message body into an envelope: an inline job or a reference to a stored one. */
export function decodeEnvelope(body: string): QueueEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedEnvelopeError(`body is not JSON (${body.length} characters)`);
  }
  if (!isRecord(parsed)) throw new MalformedEnvelopeError('body is not a JSON object');
  if (parsed.v !== 1)
    throw new MalformedEnvelopeError(`unknown envelope version ${JSON.stringify(parsed.v)}`);
  if ('ref' in parsed) {
    const ref = parsed.ref;
    if (
      !isRecord(ref) ||
      typeof ref.bucket !== 'string' ||
      typeof ref.key !== 'string' ||
      !ref.bucket ||
      !ref.key
    ) {
      throw new MalformedEnvelopeError('ref must name a bucket and a key');
    }
    return { v: 1, ref: { bucket: ref.bucket, key: ref.key } };
  }
  return { v: 1, job: assertJob(parsed.job, 'job') };
}

export function encodeEnvelope(envelope: QueueEnvelope): string {
  return JSON.stringify(envelope);
}
