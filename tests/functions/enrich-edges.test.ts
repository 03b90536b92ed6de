/**
 * The enrich Lambda handler over SQS events with the DynamoDB ledger and lease (the real AWS SDK
 * behind aws-sdk-client-mock, a small in-memory table) at the edges of its promises: a finished
 * job is acknowledged on every delivery, the last one included, and a redrive of it is a no-op;
 * a webhook job's work is reused by its next delivery; a playbook answer kept by a failed delivery
 * is re-sent by the next one without a new Criminal IP call.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createEnrichHandler } from '../../functions/enrich/handler';
import { DynamoLease } from '../../lib/aws/dynamo-lease';
import { DynamoLedger } from '../../lib/aws/dynamo-ledger';
import { METRIC } from '../../lib/core/metrics';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { CriminalIpApi, CriminalIpClient, CriminalIpIntelSource } from '../../lib/criminalip';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { createOpenCtiClient } from '../../lib/opencti/client';
import { createOpenCtiPort } from '../../lib/opencti/port';
import { jobClaimName } from '../../lib/pipeline/claims';
import {
  startCriminalIpStandIn,
  STANDIN_API_KEY,
  type CriminalIpStandIn,
} from '../../lib/standins/criminalip';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import { fakeDynamo } from '../aws/fake-dynamo';
import { recordingLog, recordingMetrics, testConfig } from './helpers';

const MAX_RECEIVE = 3;
const TABLE = 'ledger';
const sqsMock = mockClient(SQSClient);
let table: ReturnType<typeof fakeDynamo>;
let cip: CriminalIpStandIn;
let octi: OpenCtiStandIn;

beforeAll(async () => {
  cip = await startCriminalIpStandIn({ credits: 10_000 });
  octi = await startOpenCtiStandIn({ token: 'octi-token-edges' });
});
afterAll(async () => {
  table?.mock.restore();
  await cip.close();
  await octi.close();
});
beforeEach(() => {
  table?.mock.restore();
  table = fakeDynamo();
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  sqsMock.on(DeleteMessageCommand).resolves({});
  octi.setFaults({});
});

function setup() {
  const config = testConfig({
    CRIMINALIP_API_URL: cip.url,
    CRIMINALIP_API_KEY: STANDIN_API_KEY,
    OPENCTI_URL: octi.url,
    OPENCTI_TOKEN: 'octi-token-edges',
    QUEUE_MAX_RECEIVE_COUNT: String(MAX_RECEIVE),
    CACHE_TTL_HOURS: '0',
  });
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const ledger = new DynamoLedger({ doc, tableName: TABLE });
  const lease = new DynamoLease({ doc, tableName: TABLE });
  const queue = new SqsJobQueue({
    sqs: new SQSClient({}),
    s3: new S3Client({}),
    queueUrl: 'https://sqs/q',
    bucket: 'payloads',
    retryDelayMs: 0,
  });
  const client = new CriminalIpClient(config.criminalIp, { sleep: async () => {} });
  const intel = new CriminalIpIntelSource(new CriminalIpApi(client), config.criminalIp);
  const log = recordingLog();
  const metrics = recordingMetrics();
  const sleeps: number[] = [];
  const enrich = createEnrichHandler({
    config,
    intel,
    opencti: createOpenCtiPort(createOpenCtiClient(config.opencti, { maxRetries: 0 }), config.opencti),
    ledger,
    lease,
    clock: { now: () => new Date() },
    log,
    metrics,
    queue,
    maxReceiveCount: MAX_RECEIVE,
    concurrency: 4,
    loadJob: (ref) => queue.loadRef(ref),
    acknowledge: (record) => queue.acknowledge(record.receiptHandle),
    // In-place retries record their waits instead of sleeping.
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { enrich, ledger, log, metrics, sleeps };
}

/** A Lambda context whose remaining time the test sets. */
function contextWith(remainingMs: () => number): Context {
  return { getRemainingTimeInMillis: remainingMs } as unknown as Context;
}
const ample = contextWith(() => 25_000);

let seq = 0;
function record(job: EnrichmentJob, receiveCount: number, messageId = `m-${job.jobId}`): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}-${receiveCount}`,
    body: JSON.stringify({ v: 1, job }),
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
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

function webhookJob(value: string): EnrichmentJob {
  seq += 1;
  return {
    jobId: `edge-webhook-${seq}`,
    observable: { type: 'ipv4-addr', value, markingRefs: [] },
    origin: { kind: 'webhook', source: 'edges' },
    receivedAt: new Date().toISOString(),
  };
}

function playbookJob(value: string): EnrichmentJob {
  seq += 1;
  const entity = {
    id: `ipv4-addr--00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type: 'ipv4-addr',
    spec_version: '2.1',
    value,
  };
  return {
    jobId: `edge-playbook-${seq}`,
    observable: { type: 'ipv4-addr', value, markingRefs: [] },
    origin: {
      kind: 'playbook',
      playbook: {
        eventId: `event-${seq}`,
        executionId: `edge-execution-${seq}`,
        playbookId: 'playbook-1',
        dataInstanceId: entity.id,
        stepId: 'step-2',
        previousStepId: 'step-1',
      },
      bundle: { type: 'bundle', id: 'bundle--6e6a1c1e-0000-4000-8000-000000000002', objects: [entity] },
    },
    receivedAt: new Date().toISOString(),
  };
}

const productWork = (value: string) =>
  [...octi.works().values()].filter((w) => w.name === `Criminal IP enrichment (${value})`);

describe('enrich handler, DynamoDB ledger: finished jobs never reach the dead-letter queue', () => {
  it('acknowledges every delivery of a finished job, the last one included, as a duplicate', async () => {
    const { enrich, metrics } = setup();
    const job = webhookJob('64.62.197.76');
    expect(await enrich(event(record(job, 1)), ample)).toEqual({ batchItemFailures: [] });
    const requests = octi.requests.length;
    const calls = cip.stats().calls;

    for (let attempt = 1; attempt <= MAX_RECEIVE; attempt += 1) {
      const copy = record(job, attempt, `copy-${attempt}`);
      expect(await enrich(event(copy), ample)).toEqual({ batchItemFailures: [] });
    }
    expect(metrics.total(METRIC.duplicateDeliveries)).toBe(MAX_RECEIVE);
    expect(metrics.total(METRIC.jobs, { Outcome: 'skipped' })).toBe(MAX_RECEIVE);
    expect(octi.requests.length).toBe(requests);
    expect(cip.stats().calls).toBe(calls);
    // The last delivery's message is deleted at once, not only by the batch answer.
    expect(sqsMock).toHaveReceivedCommandWith(DeleteMessageCommand, {
      ReceiptHandle: `rh-copy-${MAX_RECEIVE}-${MAX_RECEIVE}`,
    });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('a copy finishes the job while the original fails during an OpenCTI outage: the original is acknowledged on its last delivery', async () => {
    const { enrich, metrics } = setup();
    const job = webhookJob('151.101.1.69');
    octi.setFaults({ http5xx: 1 });
    for (const attempt of [1, 2]) {
      const failed = await enrich(event(record(job, attempt)), ample);
      expect(failed.batchItemFailures).toEqual([{ itemIdentifier: `m-${job.jobId}` }]);
    }
    octi.setFaults({});
    expect(await enrich(event(record(job, 1, 'the-copy')), ample)).toEqual({ batchItemFailures: [] });
    expect(await enrich(event(record(job, MAX_RECEIVE)), ample)).toEqual({ batchItemFailures: [] });
    expect(metrics.total(METRIC.duplicateDeliveries)).toBe(1);
    expect(productWork('151.101.1.69')).toMatchObject([{ status: 'complete', bundles: 1 }]);
  });

  it('a finished job whose killed delivery left its claim behind is acknowledged, not re-queued', async () => {
    const { enrich, metrics } = setup();
    const job = webhookJob('179.61.228.2');
    expect(await enrich(event(record(job, 1)), ample)).toEqual({ batchItemFailures: [] });
    // A delivery killed mid-way holds the job claim for the rest of its TTL.
    table.items.set(`lease#${jobClaimName(job.jobId)}`, {
      pk: `lease#${jobClaimName(job.jobId)}`,
      holder: 'killed-delivery',
      leaseUntilMs: Date.now() + 600_000,
      expiresAt: Math.ceil(Date.now() / 1000) + 600,
    });
    expect(await enrich(event(record(job, MAX_RECEIVE, 'after-kill')), ample)).toEqual({
      batchItemFailures: [],
    });
    expect(metrics.total(METRIC.duplicateDeliveries)).toBe(1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('a redrive of a finished job is a no-op', async () => {
    const { enrich, metrics } = setup();
    const job = webhookJob('89.248.165.10');
    expect(await enrich(event(record(job, 1)), ample)).toEqual({ batchItemFailures: [] });
    const requests = octi.requests.length;
    const calls = cip.stats().calls;
    // Redriven: a new message, receive count 1.
    expect(await enrich(event(record(job, 1, 'redriven')), ample)).toEqual({ batchItemFailures: [] });
    expect(octi.requests.length).toBe(requests);
    expect(cip.stats().calls).toBe(calls);
    expect(metrics.total(METRIC.duplicateDeliveries)).toBe(1);
  });
});

describe('enrich handler, DynamoDB ledger: what a delivery hands on to the next', () => {
  it('a webhook job reuses the work its first delivery opened and closes it once', async () => {
    const { enrich } = setup();
    const job = webhookJob('104.16.1.2');
    octi.setFaults({ http5xx: 1, operations: ['WorkToProcessed'] });
    expect((await enrich(event(record(job, 1)), ample)).batchItemFailures).toHaveLength(1);
    const workId = table.items.get(`work#${job.jobId}`)?.workId;
    expect(typeof workId).toBe('string');
    octi.setFaults({});
    expect(await enrich(event(record(job, 2)), ample)).toEqual({ batchItemFailures: [] });

    expect(productWork('104.16.1.2')).toMatchObject([
      { id: workId, status: 'complete', bundles: 1, inError: false },
    ]);
    const closed = octi.requests.filter(
      (r) => r.operationName === 'WorkToProcessed' && r.outcome === 'ok' && r.variables.id === workId,
    );
    expect(closed).toHaveLength(1);
  });

  it('retries a failed playbook answer in place while the function has time for another attempt', async () => {
    const { enrich, metrics, sleeps } = setup();
    const job = playbookJob('185.220.101.4');
    octi.setFaults({
      graphqlError: 1,
      graphqlErrorCode: 'INTERNAL_SERVER_ERROR',
      operations: ['PlaybookStepExecution'],
      limit: 2,
    });
    expect(await enrich(event(record(job, 1)), ample)).toEqual({ batchItemFailures: [] });
    expect(metrics.total(METRIC.playbookAnswerRetries)).toBe(2);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]!).toBeGreaterThan(sleeps[0]! / 2); // backoff: the second wait's ceiling doubled
    const executionId = (job.origin as { playbook: { executionId: string } }).playbook.executionId;
    expect(octi.playbookAnswers().filter((a) => a.answer.executionId === executionId)).toHaveLength(1);
  });

  it('a delivery without time for another attempt gives the job back; the next re-sends the kept answer with no new Criminal IP call', async () => {
    const { enrich, sleeps } = setup();
    const job = playbookJob('45.133.1.20');
    const executionId = (job.origin as { playbook: { executionId: string } }).playbook.executionId;
    octi.setFaults({ http5xx: 1, operations: ['PlaybookStepExecution'], limit: 1 });
    // Less time left than one more attempt needs (OPENCTI_TIMEOUT_MS): no in-place retry.
    const short = contextWith(() => 1_000);
    expect((await enrich(event(record(job, 1)), short)).batchItemFailures).toHaveLength(1);
    expect(sleeps).toHaveLength(0);
    expect(table.items.get(`answer#${job.jobId}`)?.data).toBeInstanceOf(Uint8Array);
    const calls = cip.stats().calls;

    expect(await enrich(event(record(job, 2)), ample)).toEqual({ batchItemFailures: [] });
    expect(cip.stats().calls).toBe(calls);
    const attempts = octi.requests.filter(
      (r) => r.operationName === 'PlaybookStepExecution' && r.variables.execution_id === executionId,
    );
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.variables.bundle).toBe(attempts[0]!.variables.bundle);
    const answers = octi.playbookAnswers().filter((a) => a.answer.executionId === executionId);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.bundle.objects.length).toBeGreaterThan(1);
  });
});
