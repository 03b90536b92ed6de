import 'aws-sdk-client-mock-jest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeEnvelope, MalformedEnvelopeError } from '../../lib/jobs/envelope';
import { chunkForBatch, QueueSendError, SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { MAX_INLINE_BYTES } from '../../lib/jobs/envelope';
import { makeJob, makePlaybookJob, s3Body } from './fixtures';

const sqsMock = mockClient(SQSClient);
const s3Mock = mockClient(S3Client);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/jobs';
const BUCKET = 'payloads-bucket';

function newQueue(maxAttempts = 3) {
  return new SqsJobQueue({
    sqs: new SQSClient({}),
    s3: new S3Client({}),
    queueUrl: QUEUE_URL,
    bucket: BUCKET,
    maxAttempts,
    retryDelayMs: 0,
  });
}

/** Every entry SQS received, in order, decoded. */
function sentEntries() {
  return sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
}

beforeEach(() => {
  sqsMock.reset();
  s3Mock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `msg-${e.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
});

describe('SqsJobQueue.send', () => {
  it('sends 23 jobs in 3 batches of at most 10, each job once as an inline envelope', async () => {
    const jobs = Array.from({ length: 23 }, (_, i) => makeJob(i));
    await newQueue().send(jobs);

    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.every((c) => c.args[0].input.QueueUrl === QUEUE_URL)).toBe(true);
    const decoded = sentEntries().map((e) => decodeEnvelope(e.MessageBody ?? ''));
    expect(decoded.map((env) => ('job' in env ? env.job.jobId : 'ref'))).toEqual(jobs.map((j) => j.jobId));
    expect(decoded[5]).toEqual({ v: 1, job: jobs[5] });
    for (const call of calls) {
      const ids = (call.args[0].input.Entries ?? []).map((e) => e.Id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 0);
  });

  it('does nothing for no jobs', async () => {
    await newQueue().send([]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('sets DelaySeconds on every entry, rounded up and capped at 900', async () => {
    await newQueue().send([makeJob(1), makeJob(2)], 30.2);
    await newQueue().send([makeJob(3)], 3600);
    const delays = sentEntries().map((e) => e.DelaySeconds);
    expect(delays).toEqual([31, 31, 900]);
  });

  it('sends no DelaySeconds without a delay', async () => {
    await newQueue().send([makeJob(1)], 0);
    expect(sentEntries()[0]).not.toHaveProperty('DelaySeconds');
  });

  it('stores a job too large for a message in S3 and queues a reference to it', async () => {
    const big = makePlaybookJob(7, MAX_INLINE_BYTES + 50_000);
    const small = makeJob(8);
    s3Mock.on(PutObjectCommand).resolves({});
    await newQueue().send([big, small]);

    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Bucket).toBe(BUCKET);
    expect(put.Key).toBe('jobs/job-7.json');
    expect(JSON.parse(String(put.Body as string))).toEqual(big);

    const envelopes = sentEntries().map((e) => decodeEnvelope(e.MessageBody ?? ''));
    expect(envelopes[0]).toEqual({ v: 1, ref: { bucket: BUCKET, key: 'jobs/job-7.json' } });
    expect(envelopes[1]).toEqual({ v: 1, job: small });
    for (const e of sentEntries())
      expect(Buffer.byteLength(e.MessageBody ?? '')).toBeLessThan(MAX_INLINE_BYTES);
  });

  it('keeps each batch under 1 MiB', async () => {
    // Five jobs of ~400 KB each: at most two fit in one SendMessageBatch.
    const jobs = Array.from({ length: 5 }, (_, i) => makePlaybookJob(i, 400_000));
    await newQueue().send(jobs);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([2, 2, 1]);
    for (const call of calls) {
      const bytes = (call.args[0].input.Entries ?? []).reduce(
        (n, e) => n + Buffer.byteLength(e.MessageBody ?? ''),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    }
  });

  it('sends again the entries of a partially failed batch', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'm0', MessageId: 'a', MD5OfMessageBody: 'x' }],
        Failed: [
          { Id: 'm1', Code: 'InternalError', SenderFault: false },
          { Id: 'm2', Code: 'ServiceUnavailable', SenderFault: false },
        ],
      })
      .resolves({ Successful: [], Failed: [] });
    await newQueue().send([makeJob(0), makeJob(1), makeJob(2)]);

    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    const retried = (calls[1]!.args[0].input.Entries ?? []).map((e) => decodeEnvelope(e.MessageBody ?? ''));
    expect(retried.map((env) => ('job' in env ? env.job.jobId : ''))).toEqual(['job-1', 'job-2']);
  });

  it('throws QueueSendError naming the jobs still refused after the retries', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.filter((e) => e.Id !== 'm1').map((e) => ({
        Id: e.Id,
        MessageId: 'a',
        MD5OfMessageBody: 'x',
      })),
      Failed: input.Entries.filter((e) => e.Id === 'm1').map((e) => ({
        Id: e.Id,
        Code: 'InternalError',
        SenderFault: false,
      })),
    }));
    const error = await newQueue(3)
      .send([makeJob(0), makeJob(1)])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueSendError);
    expect((error as QueueSendError).failures).toEqual([
      { jobId: 'job-1', code: 'InternalError', senderFault: false },
    ]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });

  it('does not retry an entry refused as the sender fault', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'm0', Code: 'InvalidMessageContents', SenderFault: true }],
    });
    await expect(newQueue().send([makeJob(0)])).rejects.toThrow(/job-0 \(InvalidMessageContents\)/);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('lets an SQS outage surface', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('socket hang up'));
    await expect(newQueue().send([makeJob(0)])).rejects.toThrow('socket hang up');
  });
});

describe('SqsJobQueue.loadJob', () => {
  it('returns an inline job as is', async () => {
    const job = makeJob(1);
    await expect(newQueue().loadJob({ v: 1, job })).resolves.toEqual(job);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('reads a referenced job from S3', async () => {
    const job = makePlaybookJob(3, 2000);
    s3Mock
      .on(GetObjectCommand, { Bucket: BUCKET, Key: 'jobs/job-3.json' })
      .resolves({ Body: s3Body(JSON.stringify(job)) });
    await expect(
      newQueue().loadJob({ v: 1, ref: { bucket: BUCKET, key: 'jobs/job-3.json' } }),
    ).resolves.toEqual(job);
  });

  it('refuses a reference outside the payload bucket without reading it', async () => {
    await expect(
      newQueue().loadJob({ v: 1, ref: { bucket: 'someone-else', key: 'jobs/x.json' } }),
    ).rejects.toThrow(MalformedEnvelopeError);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('refuses a stored object that is not a job', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: s3Body('{"hello":"world"}') });
    await expect(
      newQueue().loadJob({ v: 1, ref: { bucket: BUCKET, key: 'jobs/job-9.json' } }),
    ).rejects.toThrow(/no jobId/);
  });
});

describe('decodeEnvelope', () => {
  it.each([
    ['not JSON', 'hello'],
    ['an array', '[1]'],
    ['an unknown version', '{"v":2,"job":{}}'],
    ['a job without observable', '{"v":1,"job":{"jobId":"a","origin":{"kind":"cli"},"receivedAt":"x"}}'],
    [
      'a job with an unknown observable type',
      '{"v":1,"job":{"jobId":"a","observable":{"type":"file","value":"x"},"origin":{"kind":"cli"},"receivedAt":"x"}}',
    ],
    ['a ref without key', '{"v":1,"ref":{"bucket":"b"}}'],
  ])('refuses %s', (_, body) => {
    expect(() => decodeEnvelope(body)).toThrow(MalformedEnvelopeError);
  });
});

describe('chunkForBatch', () => {
  it('starts a new batch at 10 entries or when the next one would pass 1 MiB', () => {
    const sizes = [600_000, 500_000, 10, 10];
    expect(chunkForBatch(sizes.map((bytes) => ({ bytes }))).map((c) => c.length)).toEqual([1, 3]);
    expect(chunkForBatch(Array.from({ length: 21 }, () => ({ bytes: 1 }))).map((c) => c.length)).toEqual([
      10, 10, 1,
    ]);
  });
});
