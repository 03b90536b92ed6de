/**
 * The Lambda entry points (`handler`) as deployed: built from the environment the stack sets,
 * with Secrets Manager, SQS, S3 and DynamoDB mocked and OpenCTI / Criminal IP stand-ins on
 * loopback.
 */
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { S3Client } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { awsEnrichHandler } from '../../functions/enrich/aws';
import { handler as ingestHandler } from '../../functions/ingest/lambda';
import { awsScheduleHandler } from '../../functions/schedule/aws';
import { PLACEHOLDER_RECHECK_SECONDS } from '../../lib/aws/secrets';
import {
  startCriminalIpStandIn,
  STANDIN_API_KEY,
  type CriminalIpStandIn,
} from '../../lib/standins/criminalip';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import { fakeDynamo } from '../aws/fake-dynamo';
import { apiEvent, manualEnrichmentMessage } from './events';
import { CONNECTOR_ID } from './helpers';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:cip-AbCdEf';
const OPENCTI_TOKEN = 'octi-wiring-token';
const sm = mockClient(SecretsManagerClient);
const sqsMock = mockClient(SQSClient);
mockClient(S3Client);
let table: ReturnType<typeof fakeDynamo>;
let cip: CriminalIpStandIn;
let octi: OpenCtiStandIn;
const savedEnv = { ...process.env };

const context = {
  functionName: 'test-fn',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:test-fn',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

beforeAll(async () => {
  cip = await startCriminalIpStandIn();
  octi = await startOpenCtiStandIn({ token: OPENCTI_TOKEN, knownConnectors: [] });
  table = fakeDynamo();
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
    SECRET_ARN,
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/jobs',
    PAYLOAD_BUCKET: 'payloads',
    TABLE_NAME: 'ledger',
    OPENCTI_URL: octi.url,
    CRIMINALIP_API_URL: cip.url,
    CONNECTOR_ID,
    CONNECTOR_SCOPE: 'IPv4-Addr,Domain-Name',
    CONNECTOR_CALLBACK_URL: 'https://api.example.com/prod/opencti/callback',
    QUEUE_MAX_RECEIVE_COUNT: '3',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  table.mock.restore();
  await cip.close();
  await octi.close();
});

beforeEach(() => {
  clearCaches();
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
    SecretString: JSON.stringify({
      CRIMINALIP_API_KEY: STANDIN_API_KEY,
      OPENCTI_TOKEN,
      WEBHOOK_TOKEN: 'hook-1',
    }),
  });
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
});

/** OpenCTI's worker POSTing a manual enrichment of 8.8.8.8 to the deployed ingest entry point. */
const post = (token: string) =>
  ingestHandler(
    apiEvent('POST', '/opencti/callback', {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(manualEnrichmentMessage('8.8.8.8')),
    }),
    context,
  );

it('ingest: authenticates with the token from Secrets Manager and queues to QUEUE_URL', async () => {
  expect((await post('wrong')).statusCode).toBe(401);
  expect((await post(OPENCTI_TOKEN)).statusCode).toBe(202);
  expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: process.env.QUEUE_URL });
  // Two requests, one read of the secret (five-minute cache).
  expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
});

it('ingest: while the secret holds the placeholder, `Bearer REPLACE_ME` gets 503, and the real token works within the recheck', async () => {
  sm.reset();
  const placeholder = {
    CRIMINALIP_API_KEY: 'REPLACE_ME',
    OPENCTI_TOKEN: 'REPLACE_ME',
    WEBHOOK_TOKEN: 'REPLACE_ME',
  };
  sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
    SecretString: JSON.stringify(placeholder),
  });
  const webhook = (token: string) =>
    ingestHandler(
      apiEvent('POST', '/webhook', {
        headers: { 'X-Webhook-Token': token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ observable_value: '8.8.8.8', entity_type: 'IPv4-Addr' }),
      }),
      context,
    );
  const start = Date.now();
  const now = jest.spyOn(Date, 'now').mockReturnValue(start);
  try {
    expect((await post('REPLACE_ME')).statusCode).toBe(503);
    expect((await webhook('REPLACE_ME')).statusCode).toBe(503);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);

    // The operator stores the real values; a warm function reads them again within the recheck.
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
      SecretString: JSON.stringify({
        CRIMINALIP_API_KEY: STANDIN_API_KEY,
        OPENCTI_TOKEN,
        WEBHOOK_TOKEN: 'hook-1',
      }),
    });
    now.mockReturnValue(start + (PLACEHOLDER_RECHECK_SECONDS + 1) * 1000);
    expect((await post('REPLACE_ME')).statusCode).toBe(401);
    expect((await post(OPENCTI_TOKEN)).statusCode).toBe(202);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  } finally {
    now.mockRestore();
  }
});

it('schedule: pings OpenCTI with the secret token, registering first, and keeps the mark in DynamoDB', async () => {
  const schedule = awsScheduleHandler();
  expect(await schedule({ task: 'ping' }, context)).toMatchObject({
    task: 'ping',
    registered: true,
    active: true,
  });
  expect(await schedule({ task: 'ping' }, context)).toMatchObject({ task: 'ping', registered: false });
  expect(octi.connectors().get(CONNECTOR_ID)).toMatchObject({
    registrations: 1,
    pings: 2,
    scope: ['IPv4-Addr', 'Domain-Name'],
  });
  expect([...table.items.keys()].some((k) => k.startsWith('done#connector-registered#'))).toBe(true);
});

it('enrich: processes a batch with the DynamoDB ledger and call slots, and releases the slot', async () => {
  const enrich = awsEnrichHandler();
  const workId = octi.createWork(CONNECTOR_ID, 'Enrich 8.8.8.8');
  const job = {
    jobId: 'wired-1',
    observable: { type: 'ipv4-addr', value: '8.8.8.8', markingRefs: [] },
    origin: { kind: 'enrichment', workId, mode: 'manual' },
    receivedAt: new Date().toISOString(),
  };
  const event: SQSEvent = { Records: [sqsRecord('w-1', job)] };
  expect(await enrich(event, context)).toEqual({ batchItemFailures: [] });
  expect(octi.works().get(workId)).toMatchObject({ status: 'complete', inError: false });
  expect(table.items.has('done#wired-1')).toBe(true);
  expect([...table.items.keys()].some((k) => k.startsWith('intel#'))).toBe(true);
  // Every Criminal IP call held the cross-instance slot, and gave it back; so were the job's
  // claims (one delivery of the job, one lookup of the observable at a time).
  const leaseNames = table.mock
    .commandCalls(PutCommand)
    .map((c) => String(c.args[0].input.Item?.pk))
    .filter((pk) => pk.startsWith('lease#'));
  // The account check of the schedule (earlier test) takes no slot: only lookups do.
  const lookups = cip.stats().calls - (cip.stats().byEndpoint['user-me'] ?? 0);
  expect(leaseNames.filter((pk) => pk.startsWith('lease#criminalip#'))).toHaveLength(lookups);
  expect(leaseNames.some((pk) => pk.startsWith('lease#job#'))).toBe(true);
  expect([...table.items.keys()].some((k) => k.startsWith('lease#'))).toBe(false);
  expect(cip.stats().calls).toBeGreaterThan(0);
});

/** An SQS record of a job as the ingest function queues it. */
function sqsRecord(messageId: string, job: Record<string, unknown>): SQSEvent['Records'][number] {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify({ v: 1, job }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:jobs',
    awsRegion: 'eu-west-1',
  };
}

it('enrich: concurrent jobs never pass the daily budget on the DynamoDB ledger; the rest wait in the queue', async () => {
  const today = new Date().toISOString().slice(0, 10);
  const spend = () =>
    (table.items.get(`spend#${today.slice(0, 7)}`)?.[`d${today}`] as number | undefined) ?? 0;
  // The earlier test's call counts too: three more calls today.
  const budget = spend() + 3;
  const enrich = awsEnrichHandler({
    ...process.env,
    CACHE_TTL_HOURS: '0',
    CRIMINALIP_DAILY_CALL_BUDGET: String(budget),
    CRIMINALIP_RESERVED_PERCENT: '0',
    ENRICH_CONCURRENCY: '4',
  });
  const before = cip.stats().calls;
  const records = Array.from({ length: 8 }, (_, i) =>
    sqsRecord(`b-${i}`, {
      jobId: `budget-${i}`,
      observable: { type: 'ipv4-addr', value: `45.33.${i}.20`, markingRefs: [] },
      origin: { kind: 'reenrich' },
      receivedAt: new Date().toISOString(),
    }),
  );
  // Nothing fails: the jobs over budget are sent back with a delay, none goes towards the DLQ.
  expect(await enrich({ Records: records }, context)).toEqual({ batchItemFailures: [] });
  expect(cip.stats().calls - before).toBe(3);
  expect(spend()).toBe(budget);
  const requeued = sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((c) => c.args[0].input.Entries ?? []);
  expect(requeued).toHaveLength(5);
  for (const entry of requeued) expect(entry.DelaySeconds).toBeGreaterThan(0);
});

it('a missing stack variable fails the start with the variable named', async () => {
  const queueUrl = process.env.QUEUE_URL;
  delete process.env.QUEUE_URL;
  try {
    expect(() => awsEnrichHandler()).toThrow(/QUEUE_URL/);
  } finally {
    process.env.QUEUE_URL = queueUrl;
  }
});
