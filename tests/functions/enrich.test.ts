import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createEnrichHandler, type EnrichDeps } from '../../functions/enrich/handler';
import { decodeEnvelope } from '../../lib/jobs/envelope';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  ServerError as CriminalIpServerError,
} from '../../lib/criminalip';
import type { EnrichmentJob, Observable, ScanProgress } from '../../lib/jobs/types';
import { createOpenCtiClient } from '../../lib/opencti/client';
import { createOpenCtiPort } from '../../lib/opencti/port';
import type { IntelSource } from '../../lib/criminalip/intel';
import {
  startCriminalIpStandIn,
  STANDIN_API_KEY,
  type CriminalIpStandIn,
} from '../../lib/standins/criminalip';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import { s3Body } from '../aws/fixtures';
import { CONNECTOR_ID, MemoryLedger, recordingLog, recordingMetrics, testConfig } from './helpers';

const sqsMock = mockClient(SQSClient);
const s3Mock = mockClient(S3Client);
const BUCKET = 'payloads';
const MAX_RECEIVE = 3;

let cip: CriminalIpStandIn;
let octi: OpenCtiStandIn;

beforeAll(async () => {
  cip = await startCriminalIpStandIn({ credits: 10_000 });
  octi = await startOpenCtiStandIn({ token: 'octi-token-enrich' });
});
afterAll(async () => {
  await cip.close();
  await octi.close();
});

beforeEach(() => {
  sqsMock.reset();
  s3Mock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
});

/** The real Criminal IP source, with a hook to fail chosen lookups (as a 503 would) and a watch on concurrency. */
class WatchedIntel implements IntelSource {
  inFlight = 0;
  maxInFlight = 0;
  failFor = new Set<string>();
  constructor(private readonly inner: IntelSource) {}
  async lookup(observable: Observable, scan?: ScanProgress) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 5));
      if (this.failFor.has(observable.value)) {
        throw new CriminalIpServerError({ httpStatus: 503, endpoint: '/v1/asset/ip/report' });
      }
      return await this.inner.lookup(observable, scan);
    } finally {
      this.inFlight--;
    }
  }
}

function setup(overrides: Partial<EnrichDeps> = {}) {
  const config = testConfig({
    CRIMINALIP_API_URL: cip.url,
    CRIMINALIP_API_KEY: STANDIN_API_KEY,
    OPENCTI_URL: octi.url,
    OPENCTI_TOKEN: 'octi-token-enrich',
    QUEUE_MAX_RECEIVE_COUNT: String(MAX_RECEIVE),
    CACHE_TTL_HOURS: '0',
  });
  const client = new CriminalIpClient(config.criminalIp, { sleep: async () => {} });
  const intel = new WatchedIntel(new CriminalIpIntelSource(new CriminalIpApi(client), config.criminalIp));
  const octiClient = createOpenCtiClient(config.opencti, { maxRetries: 0 });
  const queue = new SqsJobQueue({
    sqs: new SQSClient({}),
    s3: new S3Client({}),
    queueUrl: 'https://sqs/q',
    bucket: BUCKET,
    retryDelayMs: 0,
  });
  const log = recordingLog();
  const metrics = recordingMetrics();
  const ledger = new MemoryLedger();
  const deps: EnrichDeps = {
    config,
    intel,
    opencti: createOpenCtiPort(octiClient, config.opencti),
    ledger,
    clock: { now: () => new Date() },
    log,
    metrics,
    queue,
    maxReceiveCount: MAX_RECEIVE,
    concurrency: 4,
    loadJob: (ref) => queue.loadRef(ref),
    ...overrides,
  };
  return { enrich: createEnrichHandler(deps), intel, log, metrics, ledger };
}

let seq = 0;
function ipJob(value: string, overrides: Partial<EnrichmentJob> = {}): EnrichmentJob {
  seq += 1;
  return {
    jobId: `job-${seq}`,
    observable: { type: 'ipv4-addr', value, markingRefs: [] },
    origin: { kind: 'enrichment', workId: octi.createWork(CONNECTOR_ID, `Enrich ${value}`), mode: 'manual' },
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

function record(body: string, receiveCount = 1, messageId = `msg-${++seq}`): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1763632800000',
      SenderId: 'sender',
      ApproximateFirstReceiveTimestamp: '1763632800000',
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:jobs',
    awsRegion: 'eu-west-1',
  };
}

const jobRecord = (job: EnrichmentJob, receiveCount = 1) =>
  record(JSON.stringify({ v: 1, job }), receiveCount, `m-${job.jobId}`);
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const workOf = (job: EnrichmentJob) => octi.works().get((job.origin as { workId: string }).workId)!;

describe('enrich handler', () => {
  it('enriches a batch, writes each result to its OpenCTI work and reports no failure', async () => {
    const { enrich, log, metrics } = setup();
    const jobs = [ipJob('8.8.8.8'), ipJob('64.62.197.76'), ipJob('1.1.1.1')];
    const result = await enrich(event(...jobs.map((j) => jobRecord(j))));

    expect(result).toEqual({ batchItemFailures: [] });
    for (const job of jobs) {
      expect(workOf(job)).toMatchObject({ status: 'complete', inError: false, bundles: 1 });
    }
    const finished = log.lines.filter((l) => l.message === 'Job finished');
    expect(finished).toHaveLength(3);
    expect(finished[0]!.extra).toMatchObject({
      jobId: jobs[0]!.jobId,
      observableType: 'ipv4-addr',
      outcome: 'written',
      calls: 1,
    });
    expect(typeof finished[0]!.extra.ms).toBe('number');
    expect(metrics.total('Jobs', { Outcome: 'written' })).toBe(3);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('reports exactly the record that failed transiently among successes', async () => {
    const { enrich, intel, metrics } = setup();
    const jobs = [ipJob('8.8.4.4'), ipJob('9.9.9.9'), ipJob('208.67.222.222')];
    intel.failFor.add('9.9.9.9');
    const result = await enrich(event(...jobs.map((j) => jobRecord(j))));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: `m-${jobs[1]!.jobId}` }] });
    expect(workOf(jobs[0]!).status).toBe('complete');
    expect(workOf(jobs[2]!).status).toBe('complete');
    expect(workOf(jobs[1]!).status).not.toBe('complete');
    expect(metrics.total('Jobs', { Outcome: 'error' })).toBe(1);
  });

  it('answers a batch where every record fails record by record instead of throwing', async () => {
    const { enrich, intel } = setup();
    const jobs = [ipJob('4.4.4.4'), ipJob('4.2.2.2')];
    jobs.forEach((j) => intel.failFor.add(j.observable.value));
    const result = await enrich(event(...jobs.map((j) => jobRecord(j))));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      jobs.map((j) => `m-${j.jobId}`).sort(),
    );
  });

  it('re-queues a job whose domain scan is still running, with the delay, and acknowledges the record', async () => {
    const { enrich } = setup();
    const job = ipJob('', { observable: { type: 'domain-name', value: 'example.org', markingRefs: [] } });
    const result = await enrich(event(jobRecord(job)));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const [entry] = sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries ?? [];
    expect(entry?.DelaySeconds).toBe(15);
    const envelope = decodeEnvelope(entry?.MessageBody ?? '');
    expect('job' in envelope && envelope.job).toMatchObject({
      jobId: job.jobId,
      // Automatic work on a domain the quick verdict does not know: a lite scan (scan mode auto).
      scan: { mode: 'lite', polls: expect.any(Number) },
    });
    expect(workOf(job).status).not.toBe('complete');
  });

  it('fails the record when the re-queue itself fails, so the job is not lost', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('SQS down'));
    const { enrich } = setup();
    const job = ipJob('', { observable: { type: 'domain-name', value: 'example.net', markingRefs: [] } });
    const result = await enrich(event(jobRecord(job)));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: `m-${job.jobId}` }] });
  });

  it('reports a transient failure on every delivery and says when the job goes to the dead-letter queue', async () => {
    const { enrich, intel, log } = setup();
    const job = ipJob('149.112.112.112');
    intel.failFor.add('149.112.112.112');
    for (let delivery = 1; delivery <= MAX_RECEIVE; delivery++) {
      const result = await enrich(event(jobRecord(job, delivery)));
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: `m-${job.jobId}` }] });
    }
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.extra.attempt)).toEqual([1, 2, 3]);
    expect(errors[2]!.message).toMatch(/dead-letter queue/);
    expect(errors[0]!.message).not.toMatch(/dead-letter queue/);
  });

  it('answers a playbook step on the last delivery instead of leaving it to the dead-letter queue', async () => {
    const { enrich, intel } = setup();
    const entity = {
      id: 'ipv4-addr--6c8a4a7e-0000-5000-8000-000000000001',
      type: 'ipv4-addr',
      value: '185.228.168.9',
    };
    const bundle = {
      type: 'bundle' as const,
      id: 'bundle--00000000-0000-4000-8000-00000000000a',
      objects: [entity],
    };
    const job = ipJob('185.228.168.9', {
      origin: {
        kind: 'playbook',
        playbook: {
          eventId: 'e',
          executionId: 'x1',
          playbookId: 'p',
          dataInstanceId: entity.id,
          stepId: 's2',
          previousStepId: 's1',
        },
        bundle,
      },
    });
    intel.failFor.add('185.228.168.9');
    const before = octi.playbookAnswers().length;

    expect((await enrich(event(jobRecord(job, 1)))).batchItemFailures).toHaveLength(1);
    expect(octi.playbookAnswers()).toHaveLength(before);
    expect(await enrich(event(jobRecord(job, MAX_RECEIVE)))).toEqual({ batchItemFailures: [] });
    const answers = octi.playbookAnswers().slice(before);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.answer).toMatchObject({ executionId: 'x1', stepId: 's2' });
    expect(answers[0]!.bundle.objects).toEqual(bundle.objects);
  });

  it('reads a job stored in S3 when the message carries a reference', async () => {
    const { enrich } = setup();
    const job = ipJob('76.76.2.0');
    s3Mock
      .on(GetObjectCommand, { Bucket: BUCKET, Key: `jobs/${job.jobId}.json` })
      .resolves({ Body: s3Body(JSON.stringify(job)) });
    const body = JSON.stringify({ v: 1, ref: { bucket: BUCKET, key: `jobs/${job.jobId}.json` } });
    const result = await enrich(event(record(body, 1, 'ref-1')));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(workOf(job).status).toBe('complete');
  });

  it('fails a message that is not a job, counted, so that it reaches the dead-letter queue', async () => {
    const { enrich, metrics, log } = setup();
    const good = ipJob('94.140.14.14');
    const result = await enrich(event(record('{"v":1,"job":{"jobId":"x"}}', 1, 'bad-1'), jobRecord(good)));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-1' }] });
    expect(metrics.total('MalformedMessages')).toBe(1);
    expect(log.lines.some((l) => l.level === 'error' && l.extra.messageId === 'bad-1')).toBe(true);
    expect(workOf(good).status).toBe('complete');
  });

  it('fails a referenced message when no job store is configured', async () => {
    const { enrich } = setup({ loadJob: undefined });
    const body = JSON.stringify({ v: 1, ref: { bucket: BUCKET, key: 'jobs/x.json' } });
    expect(await enrich(event(record(body, 1, 'ref-2')))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'ref-2' }],
    });
  });

  it('skips a duplicate delivery of a finished job', async () => {
    const { enrich, log } = setup();
    const job = ipJob('8.26.56.26');
    await enrich(event(jobRecord(job)));
    const callsBefore = cip.stats().calls;
    expect(await enrich(event(jobRecord(job, 2)))).toEqual({ batchItemFailures: [] });
    expect(cip.stats().calls).toBe(callsBefore);
    expect(log.lines.filter((l) => l.message === 'Job finished').map((l) => l.extra.outcome)).toEqual([
      'written',
      'skipped',
    ]);
  });

  it('runs at most `concurrency` jobs of a batch at once', async () => {
    const { enrich, intel } = setup({ concurrency: 2 });
    const values = ['31.13.64.35', '31.13.64.36', '31.13.64.37', '31.13.64.38', '31.13.64.39', '31.13.64.40'];
    const result = await enrich(event(...values.map((v) => jobRecord(ipJob(v)))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(intel.maxInFlight).toBe(2);
  });

  it('answers an empty batch with no failures', async () => {
    expect(await setup().enrich(event())).toEqual({ batchItemFailures: [] });
  });
});
