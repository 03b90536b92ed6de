/**
 * The local API Gateway over loopback: the ingest function's routes answer through it exactly as
 * in AWS, and what API Gateway does before the function (unknown routes, the payload limit) is
 * done by the server itself.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createIngestHandler } from '../../functions/ingest/handler';
import { localJobQueue } from '../../lib/local/compose';
import { OBSERVABLE_ENTITY_TYPES } from '../../lib/config';
import { decodeEnvelope } from '../../lib/jobs/envelope';
import { listenMessage } from '../../lib/local/demo-messages';
import { LocalQueue } from '../../lib/local/queue';
import { startLocalServer, type LocalServer } from '../../lib/local/server';
import { noMetrics } from '../../lib/core/metrics';
import { silentLog } from '../../lib/core/log';
import { systemClock } from '../../lib/core/clock';

const OPENCTI_TOKEN = 'octi-token-for-server-tests';
const WEBHOOK_TOKEN = 'webhook-token-for-server-tests';

let queue: LocalQueue;
let server: LocalServer;

beforeEach(async () => {
  queue = new LocalQueue({ location: ':memory:', maxReceiveCount: 5 });
  const handler = createIngestHandler({
    connectorTokens: async () => ({ openctiToken: OPENCTI_TOKEN, webhookToken: WEBHOOK_TOKEN }),
    queue: localJobQueue(queue, '/nonexistent-never-written'),
    scope: OBSERVABLE_ENTITY_TYPES,
    log: silentLog,
    metrics: noMetrics,
    clock: systemClock,
  });
  server = await startLocalServer({ handler, port: 0, log: silentLog });
});

afterEach(async () => {
  await server.close();
  queue.close();
});

const queued = () => {
  const stats = queue.stats();
  return stats.visible + stats.inFlight + stats.delayed;
};

function callback(token: string | undefined, body: unknown) {
  return fetch(`${server.url}/opencti/callback`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const message = () =>
  listenMessage({ workId: 'work_test_1', type: 'ipv4-addr', value: '64.62.197.76', tlp: 'TLP:GREEN' });

describe('local server routes', () => {
  it('answers GET /health with 200', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('queues a listen message posted with the connector token and answers 202', async () => {
    const response = await callback(OPENCTI_TOKEN, message());
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ queued: 1 });
    const [delivered] = queue.receive(10, 30);
    const envelope = decodeEnvelope(delivered!.body);
    expect('job' in envelope && envelope.job.observable).toMatchObject({
      type: 'ipv4-addr',
      value: '64.62.197.76',
    });
    expect('job' in envelope && envelope.job.origin).toMatchObject({
      kind: 'enrichment',
      workId: 'work_test_1',
    });
  });

  it('refuses a wrong or missing bearer token with 401 and queues nothing', async () => {
    const wrong = await callback('not-the-token', message());
    const missing = await callback(undefined, message());
    expect(wrong.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(queued()).toBe(0);
  });

  it('answers a malformed webhook body with 400 and a JSON error, queuing nothing', async () => {
    const response = await fetch(`${server.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-token': WEBHOOK_TOKEN },
      body: '{"events": [',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error?: unknown; detail?: unknown };
    expect(typeof body.error).toBe('string');
    expect(typeof body.detail).toBe('string');
    expect(queued()).toBe(0);
  });

  it('answers 413 for a webhook body over the route limit', async () => {
    const response = await fetch(`${server.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-token': WEBHOOK_TOKEN },
      body: JSON.stringify({ padding: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(response.status).toBe(413);
    expect(queued()).toBe(0);
  });

  it('answers 404 for a route the API does not define and 405 for a wrong method', async () => {
    const unknown = await fetch(`${server.url}/admin`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    const wrongMethod = await fetch(`${server.url}/webhook`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});

describe('what the handler receives', () => {
  let captured: APIGatewayProxyEvent[];
  let capturing: LocalServer;
  let called: number;

  beforeEach(async () => {
    captured = [];
    called = 0;
    capturing = await startLocalServer({
      port: 0,
      log: silentLog,
      maxBodyBytes: 1024,
      handler: async (event) => {
        called += 1;
        captured.push(event);
        return { statusCode: 202, headers: { 'x-answer': 'yes' }, body: '{"queued":1}' };
      },
    });
  });

  afterEach(() => capturing.close());

  it('builds the API Gateway proxy event: route, headers as sent, text body, request id', async () => {
    const response = await fetch(`${capturing.url}/opencti/callback?x=1&x=2`, {
      method: 'POST',
      headers: { Authorization: 'Bearer abc', 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-answer')).toBe('yes');
    expect(await response.json()).toEqual({ queued: 1 });
    const event = captured[0]!;
    expect(event).toMatchObject({
      resource: '/opencti/callback',
      path: '/opencti/callback',
      httpMethod: 'POST',
      body: '{"a":1}',
      isBase64Encoded: false,
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
    });
    const authorization = Object.entries(event.headers).find(
      ([name]) => name.toLowerCase() === 'authorization',
    );
    expect(authorization?.[1]).toBe('Bearer abc');
    expect(Object.values(event.multiValueHeaders).some((values) => values?.includes('Bearer abc'))).toBe(
      true,
    );
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.resourcePath).toBe('/opencti/callback');
  });

  it('passes a binary body base64-encoded', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await fetch(`${capturing.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(captured[0]).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
  });

  it('refuses a streamed body (no Content-Length) once it passes the gateway limit', async () => {
    const chunks = [Buffer.alloc(700, 'a'), Buffer.alloc(700, 'b')];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(new Uint8Array(next));
        else controller.close();
      },
    });
    const response = await fetch(`${capturing.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    });
    expect(response.status).toBe(413);
    expect(called).toBe(0);
  });

  it('refuses a body over the gateway limit with 413 without calling the handler', async () => {
    const response = await fetch(`${capturing.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2048),
    });
    expect(response.status).toBe(413);
    expect(called).toBe(0);
  });
});
