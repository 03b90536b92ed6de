import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createIngestHandler, type IngestDeps } from '../../functions/ingest/handler';
import { decodeEnvelope } from '../../lib/jobs/envelope';
import { SqsJobQueue } from '../../lib/aws/sqs-job-queue';
import { MAX_INLINE_BYTES } from '../../lib/jobs/envelope';
import { MAX_BODY_BYTES } from '../../lib/jobs/limits';
import type { QueueEnvelope } from '../../lib/jobs/envelope';
import { apiEvent, IPV4_STIX_ID, manualEnrichmentMessage, playbookMessage } from './events';
import { fixedClock, recordingLog, recordingMetrics } from './helpers';

const sqsMock = mockClient(SQSClient);
const s3Mock = mockClient(S3Client);
const OPENCTI_TOKEN = 'c5a2e6a4-1b3d-4f5e-9a8b-7c6d5e4f3a2b';
const WEBHOOK_TOKEN = 'hook-secret-3f9a';
const BUCKET = 'payloads';

/** SQS accepting every entry. */
const acceptAll = (input: { Entries: { Id: string }[] }) => ({
  Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: 'x' })),
  Failed: [],
});

beforeEach(() => {
  sqsMock.reset();
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
});

function setup(overrides: Partial<IngestDeps> = {}) {
  const log = recordingLog();
  const metrics = recordingMetrics();
  const deps: IngestDeps = {
    connectorTokens: async () => ({ openctiToken: OPENCTI_TOKEN, webhookToken: WEBHOOK_TOKEN }),
    queue: new SqsJobQueue({
      sqs: new SQSClient({}),
      s3: new S3Client({}),
      queueUrl: 'https://sqs/q',
      bucket: BUCKET,
      retryDelayMs: 0,
    }),
    scope: ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'],
    log,
    metrics,
    clock: fixedClock(),
    ...overrides,
  };
  return { ingest: createIngestHandler(deps), log, metrics };
}

const bodyOf = (result: { body: string }) => JSON.parse(result.body) as Record<string, unknown>;
const sentEnvelopes = (): QueueEnvelope[] =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((e) => decodeEnvelope(e.MessageBody ?? ''));
const sentJobs = () => sentEnvelopes().flatMap((env) => ('job' in env ? [env.job] : []));

const callback = (
  body: unknown,
  headers: Record<string, string> = { Authorization: `Bearer ${OPENCTI_TOKEN}` },
  base64 = false,
) =>
  apiEvent('POST', '/opencti/callback', {
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    base64,
  });

const webhook = (body: unknown, headers: Record<string, string> = {}, base64 = false) =>
  apiEvent('POST', '/webhook', {
    headers: { 'Content-Type': 'application/json', 'X-Webhook-Token': WEBHOOK_TOKEN, ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    base64,
  });

const minimal = (n: number) => ({
  source: 'script',
  request_id: 'req-1',
  observables: Array.from({ length: n }, (_, i) => ({ type: 'ipv4-addr', value: `198.51.100.${i + 1}` })),
});

describe('routes', () => {
  it('answers GET /health with 200 and no credentials', async () => {
    const result = await setup().ingest(apiEvent('GET', '/health'));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ status: 'ok' });
  });

  it('answers 404 for an unknown path and 405 for a wrong method, in JSON', async () => {
    const { ingest } = setup();
    const missing = await ingest(apiEvent('GET', '/nope'));
    expect(missing.statusCode).toBe(404);
    expect(bodyOf(missing)).toMatchObject({ error: 'not-found' });
    const wrong = await ingest(apiEvent('GET', '/webhook'));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers).toMatchObject({ allow: 'POST' });
    expect(bodyOf(wrong)).toMatchObject({ error: 'method-not-allowed' });
  });

  it('routes by path under a catch-all resource', async () => {
    const event = { ...apiEvent('GET', '/health/'), resource: '/{proxy+}' };
    expect((await setup().ingest(event)).statusCode).toBe(200);
  });
});

describe('POST /opencti/callback', () => {
  it('queues one job for a manual enrichment message and answers 202', async () => {
    const { ingest, metrics } = setup();
    const result = await ingest(callback(manualEnrichmentMessage('8.8.8.8', 'work_42')));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ queued: 1 });
    const [job] = sentJobs();
    expect(job).toMatchObject({
      observable: { type: 'ipv4-addr', value: '8.8.8.8', stixId: IPV4_STIX_ID },
      origin: { kind: 'enrichment', workId: 'work_42', mode: 'manual' },
      receivedAt: '2026-11-20T10:00:00.000Z',
    });
    expect(metrics.total('JobsQueued')).toBe(1);
  });

  it.each([
    ['no Authorization header', {}],
    ['a wrong bearer token', { Authorization: 'Bearer 00000000-0000-0000-0000-000000000000' }],
    ['the right token with another scheme', { Authorization: `Basic ${OPENCTI_TOKEN}` }],
    ['the webhook token', { Authorization: `Bearer ${WEBHOOK_TOKEN}` }],
  ])('answers 401 and queues nothing for %s', async (_, headers) => {
    const { ingest, metrics, log } = setup();
    const result = await ingest(callback(manualEnrichmentMessage(), headers));
    expect(result.statusCode).toBe(401);
    expect(result.headers).toMatchObject({ 'www-authenticate': 'Bearer' });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
    expect(metrics.total('AuthFailures', { Route: '/opencti/callback' })).toBe(1);
    expect(JSON.stringify(log.lines)).not.toContain(OPENCTI_TOKEN);
  });

  it('reads the Authorization header whatever its case, and a lower-case scheme', async () => {
    const result = await setup().ingest(
      callback(manualEnrichmentMessage(), { AUTHORIZATION: `bearer ${OPENCTI_TOKEN}` }),
    );
    expect(result.statusCode).toBe(202);
  });

  it('answers 202 with a logged, counted rejection for a body that is not JSON', async () => {
    const { ingest, metrics, log } = setup();
    const result = await ingest(callback('{"internal": '));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toMatchObject({ queued: 0, rejected: { reason: 'malformed-message' } });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
    expect(
      metrics.total('RequestsRejected', { Route: '/opencti/callback', Reason: 'malformed-message' }),
    ).toBe(1);
    expect(log.lines.some((l) => l.level === 'warn' && l.message === 'OpenCTI callback rejected')).toBe(true);
  });

  it('answers 202 with a rejection for a JSON body that is not a listen message', async () => {
    const result = await setup().ingest(callback({ hello: 'world' }));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toMatchObject({ queued: 0, rejected: { reason: 'malformed-message' } });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('answers 202 with a rejection for an oversize body, without parsing it', async () => {
    const { ingest, metrics } = setup();
    const result = await ingest(callback(Buffer.alloc(MAX_BODY_BYTES.callback + 1, 0x20)));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toMatchObject({ queued: 0, rejected: { reason: 'too-large' } });
    expect(metrics.total('RequestsRejected', { Reason: 'too-large' })).toBe(1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('queues an entity it cannot enrich so that the request is still answered', async () => {
    const message = manualEnrichmentMessage();
    const text = { id: 'text--5c8f0f2e-0000-4000-8000-000000000001', type: 'text', value: 'hello' };
    message.event.entity_id = text.id;
    message.event.entity_type = 'Text';
    message.event.stix_entity = JSON.stringify(text);
    const result = await setup().ingest(callback(message));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ queued: 1 });
    expect(sentJobs()[0]).toMatchObject({
      origin: { kind: 'enrichment', workId: 'work_1234' },
      unprocessable: {},
    });
  });

  it('stores a large playbook bundle in S3 and queues a reference to it', async () => {
    const message = playbookMessage(MAX_INLINE_BYTES + 100_000);
    const result = await setup().ingest(callback(message));
    expect(result.statusCode).toBe(202);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    const stored = JSON.parse(String(put.Body as string));
    expect(stored.origin).toMatchObject({
      kind: 'playbook',
      playbook: { executionId: 'execution-1', stepId: 'step-2' },
    });
    expect(stored.origin.bundle.objects).toHaveLength(message.event.bundle.objects.length);
    expect(sentEnvelopes()).toEqual([{ v: 1, ref: { bucket: BUCKET, key: put.Key } }]);
  });

  it('decodes a base64-encoded body', async () => {
    const result = await setup().ingest(
      callback(JSON.stringify(manualEnrichmentMessage('1.1.1.1')), undefined, true),
    );
    expect(result.statusCode).toBe(202);
    expect(sentJobs()[0]?.observable.value).toBe('1.1.1.1');
  });

  it('answers 503 when the queue refuses, so that the worker sends it again', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('Service unavailable'));
    const result = await setup().ingest(callback(manualEnrichmentMessage()));
    expect(result.statusCode).toBe(503);
  });

  it.each(['REPLACE_ME', '', '<your OpenCTI token>'])(
    'answers 503 to a bearer equal to OPENCTI_TOKEN %j while it is a placeholder, and says why in the log',
    async (placeholder) => {
      const { ingest, log } = setup({ connectorTokens: async () => ({ openctiToken: placeholder }) });
      const result = await ingest(
        callback(manualEnrichmentMessage(), { Authorization: `Bearer ${placeholder}` }),
      );
      expect(result.statusCode).toBe(503);
      expect(result.headers).toMatchObject({ 'retry-after': '30' });
      expect(bodyOf(result)).toEqual({
        error: 'unavailable',
        detail: "the connector's OPENCTI_TOKEN is not configured yet; retry later",
      });
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          message: expect.stringMatching(/^The secret OPENCTI_TOKEN is not set .* answers 503/) as string,
        }),
      );
    },
  );

  it('answers 503 when the credentials cannot be read, and queues nothing', async () => {
    const { ingest } = setup({ connectorTokens: async () => Promise.reject(new Error('AccessDenied')) });
    const result = await ingest(callback(manualEnrichmentMessage()));
    expect(result.statusCode).toBe(503);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });
});

describe('POST /webhook', () => {
  it.each([
    ['no token', { 'X-Webhook-Token': '' }],
    ['a wrong token', { 'X-Webhook-Token': 'hook-secret-3f9b' }],
    ['the OpenCTI token', { 'X-Webhook-Token': OPENCTI_TOKEN }],
  ])('answers 401 and queues nothing for %s', async (_, headers) => {
    const { ingest, metrics } = setup();
    const result = await ingest(webhook(minimal(1), headers));
    expect(result.statusCode).toBe(401);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
    expect(metrics.total('AuthFailures', { Route: '/webhook' })).toBe(1);
  });

  it('refuses everything when no webhook token is configured', async () => {
    const { ingest } = setup({ connectorTokens: async () => ({ openctiToken: OPENCTI_TOKEN }) });
    expect((await ingest(webhook(minimal(1), { 'X-Webhook-Token': '' }))).statusCode).toBe(401);
    expect((await ingest(webhook(minimal(1), { 'X-Webhook-Token': 'anything' }))).statusCode).toBe(401);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('checks the token before looking at the body', async () => {
    const result = await setup().ingest(webhook('not json', { 'X-Webhook-Token': 'wrong' }));
    expect(result.statusCode).toBe(401);
  });

  it('answers 413 for a body over the limit', async () => {
    const result = await setup().ingest(webhook(Buffer.alloc(MAX_BODY_BYTES.webhook + 1, 0x20)));
    expect(result.statusCode).toBe(413);
    expect(bodyOf(result)).toMatchObject({ error: 'too-large' });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('answers 415 for a body that is not sent as JSON', async () => {
    const result = await setup().ingest(webhook(minimal(1), { 'Content-Type': 'text/plain' }));
    expect(result.statusCode).toBe(415);
    expect(bodyOf(result)).toMatchObject({ error: 'unsupported-media-type' });
  });

  it('answers 400 with a clear JSON error for malformed JSON', async () => {
    const { ingest, metrics } = setup();
    const result = await ingest(webhook('{"observables": ['));
    expect(result.statusCode).toBe(400);
    const body = bodyOf(result);
    expect(body.error).toBe('invalid-json');
    expect(typeof body.detail).toBe('string');
    expect(metrics.total('RequestsRejected', { Route: '/webhook', Reason: 'invalid-json' })).toBe(1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 0);
  });

  it('answers 400 for JSON that is neither webhook form', async () => {
    const result = await setup().ingest(webhook({ hello: 'world' }));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: 'unrecognised-payload' });
  });

  it('queues 23 observables in 3 SendMessageBatch calls and answers 202', async () => {
    const result = await setup().ingest(webhook(minimal(23)));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ queued: 23 });
    expect(sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length)).toEqual(
      [10, 10, 3],
    );
    expect(sentJobs().map((j) => j.observable.value)).toEqual(minimal(23).observables.map((o) => o.value));
    expect(new Set(sentJobs().map((j) => j.jobId)).size).toBe(23);
  });

  it('sends again the entries SQS failed in a batch and still answers 202', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: Array.from({ length: 8 }, (_, i) => ({
          Id: `m${i}`,
          MessageId: 'x',
          MD5OfMessageBody: 'x',
        })),
        Failed: [
          { Id: 'm8', Code: 'InternalError', SenderFault: false },
          { Id: 'm9', Code: 'InternalError', SenderFault: false },
        ],
      })
      .callsFake(acceptAll);
    const result = await setup().ingest(webhook(minimal(12)));
    expect(result.statusCode).toBe(202);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length);
    expect(calls).toEqual([10, 2, 2]);
    const values = sentJobs().map((j) => j.observable.value);
    expect(values.slice(10, 12)).toEqual(['198.51.100.9', '198.51.100.10']);
  });

  it('answers 503 when SQS keeps refusing entries', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: 'm0', Code: 'InternalError', SenderFault: false }] });
    const result = await setup().ingest(webhook(minimal(1)));
    expect(result.statusCode).toBe(503);
  });

  it('lists what it ignored next to what it queued', async () => {
    const body = {
      observables: [
        { type: 'ipv4-addr', value: '198.51.100.1' },
        { type: 'ipv4-addr', value: 'not-an-ip' },
      ],
    };
    const result = await setup().ingest(webhook(body));
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toMatchObject({ queued: 1, ignored: [{ index: 1, reason: 'invalid-value' }] });
  });

  it('decodes a base64 body and reads headers whatever their case', async () => {
    const event = webhook(JSON.stringify(minimal(2)), {}, true);
    event.headers = { 'content-type': 'application/json; charset=utf-8', 'x-webhook-token': WEBHOOK_TOKEN };
    const result = await setup().ingest(event);
    expect(result.statusCode).toBe(202);
    expect(bodyOf(result)).toEqual({ queued: 2 });
  });
});
