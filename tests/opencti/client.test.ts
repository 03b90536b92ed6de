import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kind, parse } from 'graphql';
import { Agent } from 'undici';
import { createOpenCtiClient } from '../../lib/opencti/client';
import {
  READ_CONNECTOR,
  WORK_ADD,
  WORK_TO_RECEIVED,
  type GraphQlDocument,
} from '../../lib/opencti/documents';
import {
  AuthenticationError,
  ForbiddenError,
  NetworkError,
  NotFoundError,
  OpenCtiError,
  ServerError,
  TimeoutError,
  ValidationError,
} from '../../lib/opencti/errors';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../../lib/standins/opencti';
import { testClient } from './support';

const TOKEN = 'a3c1f8de-0b7e-4b55-9f0e-6f0d3e1b2c4d';
const agent = new Agent();
afterAll(() => agent.close());

/** Every error message seen in this file: none may contain the token. */
const seenMessages: string[] = [];
async function failure(promise: Promise<unknown>): Promise<OpenCtiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenCtiError) {
      seenMessages.push(error.message, String(error.stack));
      return error;
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

const readConnector = { id: 'c-1' };

describe('OpenCTI client against the stand-in', () => {
  let standIn: OpenCtiStandIn;
  const settings = () => ({ url: standIn.url, token: TOKEN, timeoutMs: 5000 });
  beforeEach(async () => {
    standIn = await startOpenCtiStandIn({ token: TOKEN, seed: 3 });
  });
  afterEach(() => standIn.close());

  it('POSTs one operation per request with the Bearer token and returns data', async () => {
    const { client } = testClient(settings(), agent);
    const work = await client.execute(WORK_ADD, { connectorId: 'c-1', friendlyName: 'first' });
    await client.execute(WORK_TO_RECEIVED, { id: work.workAdd.id, message: 'started' });
    expect(standIn.requests.map((r) => [r.operationName, r.authorized, r.outcome])).toEqual([
      ['WorkAdd', true, 'ok'],
      ['WorkToReceived', true, 'ok'],
    ]);
    for (const r of standIn.requests) {
      const operations = parse(r.query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations).toHaveLength(1);
    }
    expect(standIn.works().get(work.workAdd.id)?.status).toBe('progress');
  });

  it('tolerates a trailing slash in OPENCTI_URL', async () => {
    const { client } = testClient({ ...settings(), url: `${standIn.url}/` }, agent);
    await expect(client.execute(READ_CONNECTOR, readConnector)).resolves.toHaveProperty(
      'connector.id',
      'c-1',
    );
  });

  it('sends opencti-draft-id only from a draft client', async () => {
    const { client } = testClient(settings(), agent);
    await client.execute(READ_CONNECTOR, readConnector);
    await client.withDraft('draft-1').execute(READ_CONNECTOR, readConnector);
    expect(standIn.requests.map((r) => r.draftId)).toEqual([undefined, 'draft-1']);
  });

  it('works with the default module-scope Agent', async () => {
    const client = createOpenCtiClient(settings());
    await expect(client.execute(READ_CONNECTOR, readConnector)).resolves.toHaveProperty(
      'connector.id',
      'c-1',
    );
  });

  it('turns a refused token into AuthenticationError, not retried, without the token in the message', async () => {
    const wrong = '0e9f8a7b-1111-2222-3333-444455556666';
    const { client, sleeps } = testClient({ ...settings(), token: wrong }, agent);
    const error = await failure(client.execute(READ_CONNECTOR, readConnector));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ kind: 'authentication', retryable: false, code: 'AUTH_REQUIRED' });
    expect(error.message).toMatch(/OPENCTI_TOKEN/);
    expect(error.message).not.toContain(wrong);
    expect(sleeps).toEqual([]);
    expect(standIn.requests).toHaveLength(1);
  });

  it.each([
    ['FORBIDDEN_ACCESS', ForbiddenError, 'forbidden'],
    ['FUNCTIONAL_ERROR', ValidationError, 'validation'],
    ['BAD_USER_INPUT', ValidationError, 'validation'],
    ['RESOURCE_NOT_FOUND', NotFoundError, 'not-found'],
    ['MISSING_REFERENCE_ERROR', NotFoundError, 'not-found'],
  ] as const)('turns GraphQL error %s into a %p, not retried', async (code, type, kind) => {
    standIn.setFaults({ graphqlError: 1, graphqlErrorCode: code });
    const { client, sleeps } = testClient(settings(), agent);
    const error = await failure(client.execute(READ_CONNECTOR, readConnector));
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ kind, retryable: false, code, operation: 'ReadConnector' });
    expect(sleeps).toEqual([]);
    expect(standIn.requests).toHaveLength(1);
  });

  it.each(['DATABASE_ERROR', 'LOCK_ERROR', 'INTERNAL_SERVER_ERROR', 'UNKNOWN_ERROR'])(
    'retries GraphQL error %s (ServerError) with growing jittered delays, then gives up',
    async (code) => {
      standIn.setFaults({ graphqlError: 1, graphqlErrorCode: code });
      const { client, sleeps } = testClient(settings(), agent, {
        maxRetries: 3,
        baseDelayMs: 100,
        maxDelayMs: 300,
      });
      const error = await failure(client.execute(READ_CONNECTOR, readConnector));
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ kind: 'server', retryable: true, code });
      expect(standIn.requests).toHaveLength(4);
      // random() = 0.5 of a ceiling of 100, 200, then 300 (capped).
      expect(sleeps).toEqual([50, 100, 150]);
    },
  );

  it('recovers when a retryable failure passes', async () => {
    standIn.setFaults({ http5xx: 1, limit: 2 });
    const { client, sleeps } = testClient(settings(), agent);
    await expect(client.execute(READ_CONNECTOR, readConnector)).resolves.toHaveProperty(
      'connector.id',
      'c-1',
    );
    expect(standIn.requests.map((r) => r.outcome)).toEqual(['fault-http', 'fault-http', 'ok']);
    expect(sleeps).toHaveLength(2);
  });

  it('does not resend a non-idempotent operation after a 5xx: it may have been processed', async () => {
    standIn.setFaults({ http5xx: 1, limit: 1 });
    const { client, sleeps } = testClient(settings(), agent);
    const error = await failure(client.execute(WORK_ADD, { connectorId: 'c-1', friendlyName: 'once' }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.status === 502 || error.status === 503).toBe(true);
    expect(error.retryable).toBe(true);
    expect(sleeps).toEqual([]);
    expect(standIn.requests).toHaveLength(1);
  });

  it('turns a hung request into TimeoutError and retries an idempotent one', async () => {
    standIn.setFaults({ hang: 1, limit: 1 });
    const { client } = testClient({ ...settings(), timeoutMs: 300 }, agent);
    await expect(client.execute(READ_CONNECTOR, readConnector)).resolves.toHaveProperty(
      'connector.id',
      'c-1',
    );
    expect(standIn.requests.map((r) => r.outcome)).toEqual(['fault-hang', 'ok']);
  });

  it('does not resend a non-idempotent operation after a timeout', async () => {
    standIn.setFaults({ hang: 1, limit: 1 });
    const { client } = testClient({ ...settings(), timeoutMs: 300 }, agent);
    const error = await failure(client.execute(WORK_ADD, { connectorId: 'c-1', friendlyName: 'once' }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(error.message).toMatch(/OPENCTI_TIMEOUT_MS/);
    expect(standIn.requests).toHaveLength(1);
  });

  it('turns a document OpenCTI rejects into ValidationError with the server message', async () => {
    const broken: GraphQlDocument<unknown, { id: string }> = {
      operationName: 'Broken',
      idempotent: true,
      query: 'query Broken($id: String!) { connector(id: $id) { notAField } }',
    };
    const { client, sleeps } = testClient(settings(), agent);
    const error = await failure(client.execute(broken, readConnector));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, code: 'GRAPHQL_VALIDATION_FAILED', retryable: false });
    expect(error.message).toMatch(/notAField/);
    expect(sleeps).toEqual([]);
  });
});

describe('OpenCTI client transport failures', () => {
  /** A server answering every request with the given status, content type and body. */
  async function fixedServer(status: number, contentType: string, body: string) {
    let hits = 0;
    const server = http.createServer((req, res) => {
      hits += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': contentType });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url,
      hits: () => hits,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  it.each([
    [401, AuthenticationError, false],
    [403, ForbiddenError, false],
    [404, NotFoundError, false],
    [413, ValidationError, false],
    [429, ServerError, true],
    [504, ServerError, true],
  ] as const)('turns a bare HTTP %d into %p', async (status, type, retryable) => {
    const server = await fixedServer(status, 'text/html', '<html>nope</html>');
    try {
      const { client } = testClient({ url: server.url, token: TOKEN, timeoutMs: 2000 }, agent, {
        maxRetries: 1,
      });
      const error = await failure(client.execute(READ_CONNECTOR, readConnector));
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ status, retryable });
      expect(server.hits()).toBe(retryable ? 2 : 1);
    } finally {
      await server.close();
    }
  });

  it('refuses a 200 that is not a GraphQL answer (wrong URL, login page), without retrying', async () => {
    const server = await fixedServer(200, 'text/html', '<html>login</html>');
    try {
      const { client } = testClient({ url: server.url, token: TOKEN, timeoutMs: 2000 }, agent);
      const error = await failure(client.execute(READ_CONNECTOR, readConnector));
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toMatch(/OPENCTI_URL/);
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('scrubs the token from a server message that echoes it', async () => {
    const echo = JSON.stringify({
      errors: [{ message: `bad header Bearer ${TOKEN}`, extensions: { code: 'BAD_REQUEST' } }],
    });
    const server = await fixedServer(400, 'application/json', echo);
    try {
      const { client } = testClient({ url: server.url, token: TOKEN, timeoutMs: 2000 }, agent);
      const error = await failure(client.execute(READ_CONNECTOR, readConnector));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toContain('[token]');
      expect(error.message).not.toContain(TOKEN);
    } finally {
      await server.close();
    }
  });

  it('turns a refused connection into NetworkError and resends even a non-idempotent operation', async () => {
    const server = await fixedServer(200, 'application/json', '{}');
    const url = server.url;
    await server.close(); // nothing listens on that port any more
    const { client, sleeps } = testClient({ url, token: TOKEN, timeoutMs: 2000 }, agent, { maxRetries: 2 });
    const error = await failure(client.execute(WORK_ADD, { connectorId: 'c-1', friendlyName: 'x' }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      kind: 'network',
      retryable: true,
      neverReachedServer: true,
      code: 'ECONNREFUSED',
    });
    expect(sleeps).toHaveLength(2);
  });

  it('logs retries without the token', async () => {
    const server = await fixedServer(503, 'text/plain', 'busy');
    const lines: string[] = [];
    const log = {
      debug() {},
      info() {},
      warn: (message: string, extra?: Record<string, unknown>) =>
        lines.push(`${message} ${JSON.stringify(extra)}`),
      error() {},
    };
    try {
      const { client } = testClient({ url: server.url, token: TOKEN, timeoutMs: 2000 }, agent, {
        maxRetries: 2,
        log,
      });
      await failure(client.execute(READ_CONNECTOR, readConnector));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/ReadConnector/);
      expect(lines.join('\n')).not.toContain(TOKEN);
    } finally {
      await server.close();
    }
  });
});

afterAll(() => {
  expect(seenMessages.length).toBeGreaterThan(10);
  for (const message of seenMessages) expect(message).not.toContain(TOKEN);
});
