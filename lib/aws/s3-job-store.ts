/**
 * Jobs too large for a queue message (a playbook step carries its whole bundle) are kept in S3
 * and the message carries a reference. Objects are written once per job and expire with the
 * bucket's lifecycle rule; the queue never loses a job to the message size limit.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { EnrichmentJob } from '../jobs/types';
import { assertJob, MalformedEnvelopeError, type JobRef } from './envelope-codec';

/** Prefix of the stored jobs: the bucket's expiry rule targets it. */
export const JOB_KEY_PREFIX = 'jobs/';

/**
 * A client, or how to make one when first needed. Stored jobs are rare, and loading the S3 client
 * is the largest single part of a cold start: the functions pass `lazyS3Client`.
 */
export type S3ClientSource = S3Client | (() => Promise<S3Client>);

let shared: Promise<S3Client> | undefined;

/** The S3 client of this process, loaded on first use. */
export function lazyS3Client(): Promise<S3Client> {
  shared ??= import('@aws-sdk/client-s3').then((sdk) => new sdk.S3Client({}));
  return shared;
}

export class S3JobStore {
  private client: Promise<S3Client> | undefined;

  constructor(
    private readonly s3: S3ClientSource,
    readonly bucket: string,
  ) {}

  private async send(command: 'put' | 'get', input: { Bucket: string; Key: string; Body?: string }) {
    this.client ??= typeof this.s3 === 'function' ? this.s3() : Promise.resolve(this.s3);
    const [client, sdk] = await Promise.all([this.client, import('@aws-sdk/client-s3')]);
    return command === 'put'
      ? client.send(new sdk.PutObjectCommand({ ...input, ContentType: 'application/json' }))
      : client.send(new sdk.GetObjectCommand(input));
  }

  /** Stores `json` (the job, serialised by the caller) and returns the reference to queue. */
  async put(job: EnrichmentJob, json: string): Promise<JobRef> {
    const key = `${JOB_KEY_PREFIX}${encodeURIComponent(job.jobId)}.json`;
    await this.send('put', { Bucket: this.bucket, Key: key, Body: json });
    return { bucket: this.bucket, key };
  }

  /** Reads back a job stored by `put`. Only this store's bucket is read. */
  async load(ref: JobRef): Promise<EnrichmentJob> {
    if (ref.bucket !== this.bucket || !ref.key.startsWith(JOB_KEY_PREFIX)) {
      throw new MalformedEnvelopeError(`ref s3://${ref.bucket}/${ref.key} is outside the payload bucket`);
    }
    const object = (await this.send('get', { Bucket: ref.bucket, Key: ref.key })) as {
      Body?: { transformToString(encoding: string): Promise<string> };
    };
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
