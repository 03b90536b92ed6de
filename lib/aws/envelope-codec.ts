/**
 * Reading and writing queue message bodies (lib/jobs/envelope.ts QueueEnvelope). A body that does
 * not decode can never be processed: the consumer lets it fail so that it reaches the dead-letter
 * queue, where it can be inspected.
 */
import type { QueueEnvelope } from '../jobs/envelope';
import type { EnrichmentJob } from '../jobs/types';
import { OBSERVABLE_STIX_TYPES } from '../stix/core';

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
