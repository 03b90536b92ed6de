/**
 * Jobs too large for a queue message (a playbook step carries its whole bundle) are kept in S3
 * and the message carries a reference. Objects are written once per job and expire with the
 * bucket's lifecycle rule; the queue never loses a job to the message size limit.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EnrichmentJob } from '../jobs/types';
import { assertJob, MalformedEnvelopeError, type JobRef } from './envelope-codec';

/** Prefix of the stored jobs: the bucket's expiry rule targets it. */
export const JOB_KEY_PREFIX = 'jobs/';

export class S3JobStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Stores `json` (the job, serialised by the caller) and returns the reference to queue. */
  async put(job: EnrichmentJob, json: string): Promise<JobRef> {
    const key = `${JOB_KEY_PREFIX}${encodeURIComponent(job.jobId)}.json`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: json,
        ContentType: 'application/json',
      }),
    );
    return { bucket: this.bucket, key };
  }

  /** Reads back a job stored by `put`. Only this store's bucket is read. */
  async load(ref: JobRef): Promise<EnrichmentJob> {
    if (ref.bucket !== this.bucket || !ref.key.startsWith(JOB_KEY_PREFIX)) {
      throw new MalformedEnvelopeError(`ref s3://${ref.bucket}/${ref.key} is outside the payload bucket`);
    }
    const object = await this.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    if (!object.Body) throw new MalformedEnvelopeError(`s3://${ref.bucket}/${ref.key} is empty`);
    const text = await object.Body.transformToString('utf-8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new MalformedEnvelopeError(`s3://${ref.bucket}/${ref.key} is not JSON`);
    }
    return assertJob(parsed, `s3://${ref.bucket}/${ref.key}`);
  }
}
