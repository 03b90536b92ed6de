/**
 * Jobs too large for a queue message (a playbook step carries its whole bundle) are kept in S3
 * and the message carries a reference. Objects are written once per job and expire with the
 * bucket's lifecycle rule; the queue never loses a job to the message size limit.
 */
// A static import: esbuild keeps it a CommonJS `require` of the runtime's SDK, which resolves the same way everywhere.
// A dynamic `import()` stays an ES-module import in the bundle; Lambda's Node happens to resolve it through NODE_PATH,
// stock Node does not (ERR_MODULE_NOT_FOUND), and jobs stored aside depended on it.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { EnrichmentJob } from '../jobs/types';
import { assertJob, MalformedEnvelopeError, type JobRef } from '../jobs/envelope';

/** Prefix of the stored jobs: the bucket's expiry rule targets it. */
export const JOB_KEY_PREFIX = 'jobs/';

/** A client, or how to make one when first needed (most processes never store a job aside). */
export type S3ClientSource = S3Client | (() => Promise<S3Client>);

let shared: S3Client | undefined;

/** The S3 client of this process, made on first use. */
export function lazyS3Client(): Promise<S3Client> {
  shared ??= new S3Client({});
  return Promise.resolve(shared);
}

export class S3JobStore {
  private client: Promise<S3Client> | undefined;

  constructor(
    private readonly s3: S3ClientSource,
    readonly bucket: string,
  ) {}

  private async send(command: 'put' | 'get', input: { Bucket: string; Key: string; Body?: string }) {
    this.client ??= typeof this.s3 === 'function' ? this.s3() : Promise.resolve(this.s3);
    const client = await this.client;
    return command === 'put'
      ? client.send(new PutObjectCommand({ ...input, ContentType: 'application/json' }))
      : client.send(new GetObjectCommand(input));
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
