import { HttpResponse, delay, http } from 'msw';
import {
  ConcurrentCallError,
  CriminalIpApi,
  CriminalIpClient,
  type CriminalIpError,
  InvalidApiKeyError,
  InvalidTargetError,
  NetworkError,
  QuotaExhaustedError,
  RateLimitedError,
  ScanBusyError,
  Semaphore,
  ServerError,
  TimeoutError,
  UnexpectedResponseError,
  type CallRecord,
  type ClientOptions,
  type ClientSettings,
} from '../../lib/criminalip';
import { type Loopback, recordingSleep, serveHandlers, testAgent } from './loopback';

const API_KEY = 'Zk3xQ9TESTKEYvalue0123456789abcdefABCDEF0123456789abcdefXYZ';

const agent = testAgent(2000);
afterAll(() => agent.close());

/** Requests the server saw, in order. */
interface Seen {
  method: string;
  path: string;
  search: string;
  key: string | null;
  contentType: string | null;
  body: string;
}

let server: Loopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves one path with a queue of responses (the last one repeats) and records requests. */
async function serve(path: string, responses: Array<() => Response | Promise<Response>>) {
  const seen: Seen[] = [];
  const answer = async ({ request }: { request: Request }) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname,
      search: url.search,
      key: request.headers.get('x-api-key'),
      contentType: request.headers.get('content-type'),
      body: request.method === 'POST' ? await request.text() : '',
    });
    const next = responses[Math.min(seen.length - 1, responses.length - 1)];
    if (!next) throw new Error('no response configured');
    return next();
  };
  server = await serveHandlers(http.get(path, answer), http.post(path, answer));
  return { seen, url: server.url };
}

function makeClient(url: string, overrides: Partial<ClientSettings> = {}, options: ClientOptions = {}) {
  const { sleep, delays } = recordingSleep();
  const calls: CallRecord[] = [];
  const client = new CriminalIpClient(
    { apiKey: API_KEY, apiUrl: url, concurrency: 1, timeoutMs: 2000, maxRetries: 2, ...overrides },
    {
      dispatcher: agent,
      limiter: new Semaphore(overrides.concurrency ?? 1),
      sleep,
      random: () => 0.5,
      onCall: (c) => calls.push(c),
      ...options,
    },
  );
  return { client, delays, calls };
}

async function failure(promise: Promise<unknown>): Promise<CriminalIpError> {
  try {
    await promise;
  } catch (error) {
    return error as CriminalIpError;
  }
  throw new Error('expected the call to fail');
}

const json =
  (body: unknown, status = 200, headers?: Record<string, string>) =>
  () =>
    HttpResponse.json(body as Record<string, unknown>, { status, headers });

describe('CriminalIpClient requests', () => {
  it('sends GET parameters in the query string with the x-api-key header', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [json({ ip: '8.8.4.4', status: 200 })]);
    const { client } = makeClient(url);
    const body = await client.send({
      method: 'GET',
      path: '/v1/asset/ip/report',
      query: { ip: '8.8.4.4', full: true, skipped: undefined },
    });
    expect(body).toEqual({ ip: '8.8.4.4', status: 200 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', key: API_KEY, search: '?ip=8.8.4.4&full=true' });
  });

  it('form-encodes POST bodies', async () => {
    const { seen, url } = await serve('/v1/domain/scan', [
      json({ status: 200, message: 'api success', data: { scan_id: 1 } }),
    ]);
    const { client } = makeClient(url);
    await client.send({
      method: 'POST',
      path: '/v1/domain/scan',
      form: { query: 'https://a.example.com/x?y=1' },
    });
    expect(seen[0]?.contentType).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(seen[0]?.body).get('query')).toBe('https://a.example.com/x?y=1');
  });

  it('joins a base URL with a trailing slash or a path prefix correctly', async () => {
    const { seen, url } = await serve('/prefix/v1/user/me', [json({ status: 200, data: {} })]);
    const { client } = makeClient(`${url}/prefix/`);
    await client.send({ method: 'POST', path: '/v1/user/me' });
    expect(seen[0]?.path).toBe('/prefix/v1/user/me');
  });
});

describe('error channels and the error taxonomy', () => {
  type Case = {
    name: string;
    response: () => Response;
    type: new (...args: never[]) => CriminalIpError;
    kind: string;
    retryable: boolean;
  };
  const cases: Case[] = [
    {
      name: 'HTTP 401',
      response: json({ status: 401, message: 'invalid api key' }, 401),
      type: InvalidApiKeyError,
      kind: 'invalid-api-key',
      retryable: false,
    },
    {
      name: 'body 401 in HTTP 200',
      response: json({ status: 401, message: 'invalid api key' }),
      type: InvalidApiKeyError,
      kind: 'invalid-api-key',
      retryable: false,
    },
    {
      name: 'body 403 "limit exceeded" in HTTP 200',
      response: json({ status: 403, message: 'limit exceeded' }),
      type: QuotaExhaustedError,
      kind: 'quota-exhausted',
      retryable: false,
    },
    {
      name: 'HTTP 403 with a text body',
      response: () => new HttpResponse('Forbidden', { status: 403 }),
      type: QuotaExhaustedError,
      kind: 'quota-exhausted',
      retryable: false,
    },
    {
      name: '"unable to call api at the same time" (code undocumented)',
      response: json({ status: 403, message: 'unable to call api at the same time' }),
      type: ConcurrentCallError,
      kind: 'concurrent-call',
      retryable: true,
    },
    {
      name: 'HTTP 429',
      response: json({ message: 'Too many requests' }, 429),
      type: RateLimitedError,
      kind: 'rate-limited',
      retryable: true,
    },
    {
      name: '"Invalid IP Address." in HTTP 200',
      response: json({ status: 400, message: 'Invalid IP Address.' }),
      type: InvalidTargetError,
      kind: 'invalid-target',
      retryable: false,
    },
    {
      name: 'body 412 "Missing parameter."',
      response: json({ status: 412, message: 'Missing parameter.' }),
      type: InvalidTargetError,
      kind: 'invalid-target',
      retryable: false,
    },
    {
      name: 'body 420 "Invalid parameter."',
      response: json({ status: 420, message: 'Invalid parameter.' }),
      type: InvalidTargetError,
      kind: 'invalid-target',
      retryable: false,
    },
    {
      name: 'body 400 "still scanning for your previous request"',
      response: json({
        status: 400,
        message: 'We are still scanning for your previous request. Please wait.',
      }),
      type: ScanBusyError,
      kind: 'scan-busy',
      retryable: true,
    },
    {
      name: 'HTTP 500',
      response: json({ status: 500, message: 'An unexpected error occurred' }, 500),
      type: ServerError,
      kind: 'server-error',
      retryable: true,
    },
    {
      name: 'body 500 in HTTP 200',
      response: json({ status: 500, message: 'An unexpected error occurred' }),
      type: ServerError,
      kind: 'server-error',
      retryable: true,
    },
    {
      name: 'HTTP 502 with an HTML page',
      response: () =>
        new HttpResponse('<html>502 Bad Gateway</html>', {
          status: 502,
          headers: { 'content-type': 'text/html' },
        }),
      type: ServerError,
      kind: 'server-error',
      retryable: true,
    },
    {
      name: 'HTTP 404',
      response: json({ message: 'Not Found' }, 404),
      type: UnexpectedResponseError,
      kind: 'unexpected-response',
      retryable: false,
    },
    {
      name: 'HTTP 200 that is not JSON',
      response: () => new HttpResponse('<html>maintenance</html>', { status: 200 }),
      type: UnexpectedResponseError,
      kind: 'unexpected-response',
      retryable: false,
    },
  ];

  it.each(cases)('$name → $kind (retried: $retryable)', async ({ response, type, kind, retryable }) => {
    const { seen, url } = await serve('/v1/feature/ip/malicious-info', [response]);
    const { client, delays, calls } = makeClient(url, { maxRetries: 2 });
    const error = await failure(
      client.send({ method: 'GET', path: '/v1/feature/ip/malicious-info', query: { ip: '8.8.4.4' } }),
    );
    expect(error).toBeInstanceOf(type);
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(retryable);
    expect(error.message).not.toContain(API_KEY);
    // Retryable errors: first try + 2 retries; the others: exactly one call.
    expect(seen).toHaveLength(retryable ? 3 : 1);
    expect(delays).toHaveLength(retryable ? 2 : 0);
    expect(calls.map((c) => c.outcome)).toEqual(Array(seen.length).fill(kind));
    expect(client.calls).toBe(seen.length);
  });

  it('accepts a body status written as a string, and bodies without a status', async () => {
    const { url } = await serve('/v1/domain/reports', [
      json({ status: '200', data: { count: 0 } }),
      json({ data: { count: 1, reports: [{ scan_id: 'SCAN123' }] } }),
      json({ status: '403', message: 'limit exceeded' }),
    ]);
    const { client } = makeClient(url);
    const spec = { method: 'GET' as const, path: '/v1/domain/reports', query: { query: 'a.com' } };
    await expect(client.send(spec)).resolves.toEqual({ status: '200', data: { count: 0 } });
    await expect(client.send(spec)).resolves.toMatchObject({ data: { count: 1 } });
    await expect(client.send(spec)).rejects.toBeInstanceOf(QuotaExhaustedError);
  });

  it('keeps the API key out of error messages even when the server echoes it', async () => {
    const { url } = await serve('/v1/user/me', [
      json({ status: 401, message: `invalid api key ${API_KEY}` }, 401),
    ]);
    const { client } = makeClient(url);
    const error = await failure(client.send({ method: 'POST', path: '/v1/user/me' }));
    expect(error).toBeInstanceOf(InvalidApiKeyError);
    expect(error.apiMessage).toBe('invalid api key [redacted]');
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(API_KEY);
  });
});

describe('retries and backoff', () => {
  const spec = { method: 'GET' as const, path: '/v1/asset/ip/report', query: { ip: '8.8.4.4' } };

  it('retries transient failures with growing, jittered delays and returns the eventual answer', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [
      json({ status: 500, message: 'An unexpected error occurred' }, 503),
      json({ status: 500, message: 'An unexpected error occurred' }),
      json({ ip: '8.8.4.4', status: 200 }),
    ]);
    const { client, delays, calls } = makeClient(url, { maxRetries: 3 });
    await expect(client.send(spec)).resolves.toMatchObject({ ip: '8.8.4.4' });
    expect(seen).toHaveLength(3);
    // random() = 0.5: equal jitter gives 3/4 of 500 ms, then 3/4 of 1000 ms.
    expect(delays).toEqual([375, 750]);
    expect(calls.map((c) => [c.attempt, c.outcome])).toEqual([
      [0, 'server-error'],
      [1, 'server-error'],
      [2, 'ok'],
    ]);
  });

  it('keeps every delay within the configured cap', async () => {
    const { url } = await serve('/v1/asset/ip/report', [json({ status: 500 }, 500)]);
    const { client, delays } = makeClient(
      url,
      { maxRetries: 6 },
      { backoff: { baseDelayMs: 100, maxDelayMs: 400 }, random: () => 1 },
    );
    await expect(client.send(spec)).rejects.toBeInstanceOf(ServerError);
    expect(delays).toEqual([100, 200, 400, 400, 400, 400]);
  });

  it('honours Retry-After in seconds', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [
      json({ message: 'Too many requests' }, 429, { 'Retry-After': '3' }),
      json({ ip: '8.8.4.4', status: 200 }),
    ]);
    const { client, delays } = makeClient(url);
    await expect(client.send(spec)).resolves.toMatchObject({ ip: '8.8.4.4' });
    expect(seen).toHaveLength(2);
    expect(delays).toEqual([3000]);
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const { url } = await serve('/v1/asset/ip/report', [
      json({}, 429, { 'Retry-After': new Date(now + 4000).toUTCString() }),
      json({ ip: '8.8.4.4', status: 200 }),
    ]);
    const { client, delays } = makeClient(url, {}, { now: () => now });
    await client.send(spec);
    expect(delays).toEqual([4000]);
  });

  it('does not sleep through a Retry-After longer than the wait budget: the caller re-enqueues', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [json({}, 429, { 'Retry-After': '120' })]);
    const { client, delays } = makeClient(url);
    const error = await failure(client.send(spec));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfterMs).toBe(120_000);
    expect(error.message).toContain('120 s');
    expect(seen).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('throws the last error once maxRetries is spent', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [
      json({ status: 500 }, 500),
      json({ message: 'unable to call api at the same time', status: 400 }),
      json({}, 429),
    ]);
    const { client } = makeClient(url, { maxRetries: 2 });
    const error = await failure(client.send(spec));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(seen).toHaveLength(3);
  });

  it('makes no retry when maxRetries is 0', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [json({ status: 500 }, 500)]);
    const { client } = makeClient(url, { maxRetries: 0 });
    await expect(client.send(spec)).rejects.toBeInstanceOf(ServerError);
    expect(seen).toHaveLength(1);
  });

  it('starts no retry that cannot finish in the remaining invocation time', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [json({ status: 500 }, 500)]);
    const { client } = makeClient(url, { maxRetries: 3, timeoutMs: 2000 }, { remainingMs: () => 2100 });
    await expect(client.send(spec)).rejects.toBeInstanceOf(ServerError);
    expect(seen).toHaveLength(1);
  });
});

describe('timeouts and dropped connections', () => {
  const spec = { method: 'GET' as const, path: '/v1/asset/ip/report', query: { ip: '8.8.4.4' } };

  it('turns a server that never answers into TimeoutError, retried', async () => {
    // A promise that never settles: unlike delay('infinite') it holds no timer open.
    const { seen, url } = await serve('/v1/asset/ip/report', [() => new Promise<Response>(() => undefined)]);
    const { client, calls } = makeClient(url, { timeoutMs: 200, maxRetries: 1 });
    const error = await failure(client.send(spec));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('200 ms');
    expect(seen).toHaveLength(2);
    expect(calls.map((c) => c.outcome)).toEqual(['timeout', 'timeout']);
  });

  it('recovers from a dropped connection by retrying', async () => {
    const { seen, url } = await serve('/v1/asset/ip/report', [json({ ip: '8.8.4.4', status: 200 })]);
    server?.dropNext(1);
    const { client, calls } = makeClient(url, { maxRetries: 2 });
    await expect(client.send(spec)).resolves.toMatchObject({ ip: '8.8.4.4' });
    expect(seen).toHaveLength(1);
    expect(calls.map((c) => c.outcome)).toEqual(['network', 'ok']);
  });

  it('reports NetworkError when every connection is dropped', async () => {
    const { url } = await serve('/v1/asset/ip/report', [json({})]);
    server?.dropNext(10);
    const { client } = makeClient(url, { maxRetries: 2 });
    const error = await failure(client.send(spec));
    expect(error).toBeInstanceOf(NetworkError);
    expect(client.calls).toBe(3);
  });

  it('reports NetworkError when nothing listens', async () => {
    const { url } = await serve('/unused', [json({})]);
    await server?.close();
    server = undefined;
    const { client } = makeClient(url, { maxRetries: 1 });
    const error = await failure(client.send(spec));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('concurrency limit', () => {
  async function countingServer() {
    let inFlight = 0;
    let maxInFlight = 0;
    server = await serveHandlers(
      http.get('/v1/asset/ip/report', async ({ request }) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await delay(30);
        inFlight -= 1;
        return HttpResponse.json({ ip: new URL(request.url).searchParams.get('ip'), status: 200 });
      }),
    );
    return { url: server.url, max: () => maxInFlight };
  }
  const ips = ['8.8.4.1', '8.8.4.2', '8.8.4.3', '8.8.4.4', '8.8.4.5', '8.8.4.6'];

  it.each([1, 2, 3])('never has more than %i call(s) in flight', async (limit) => {
    const { url, max } = await countingServer();
    const { client } = makeClient(url, { concurrency: limit });
    const api = new CriminalIpApi(client);
    const reports = await Promise.all(ips.map((ip) => api.ipReport(ip)));
    expect(reports.map((r) => r.ip)).toEqual(ips);
    expect(max()).toBe(limit);
  });

  it('shares the default limiter between clients of the same URL and key', async () => {
    const { url, max } = await countingServer();
    const settings = { apiKey: API_KEY, apiUrl: url, concurrency: 1, timeoutMs: 2000, maxRetries: 0 };
    const a = new CriminalIpApi(new CriminalIpClient(settings, { dispatcher: agent }));
    const b = new CriminalIpApi(new CriminalIpClient(settings, { dispatcher: agent }));
    await Promise.all(ips.map((ip, i) => (i % 2 ? a : b).ipReport(ip)));
    expect(max()).toBe(1);
  });

  it('takes a cross-process lease around every HTTP call, retries included', async () => {
    const { url } = await serve('/v1/asset/ip/report', [json({}, 503), json({ ip: '8.8.4.4', status: 200 })]);
    const events: string[] = [];
    const { client } = makeClient(
      url,
      {},
      {
        acquire: async () => {
          events.push('acquire');
          return () => {
            events.push('release');
          };
        },
      },
    );
    await client.send({ method: 'GET', path: '/v1/asset/ip/report', query: { ip: '8.8.4.4' } });
    expect(events).toEqual(['acquire', 'release', 'acquire', 'release']);
  });
});

describe('targets Criminal IP cannot know never reach it', () => {
  const refused = [
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '127.0.0.1',
    '169.254.10.10',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.251',
    '192.0.2.10',
    '198.51.100.7',
    '203.0.113.9',
    '240.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'ff02::1',
    '2001:db8::1',
    '::ffff:10.0.0.1',
    'not-an-ip',
  ];

  it.each(refused)('%s is refused before any call', async (ip) => {
    const { seen, url } = await serve('/v1/asset/ip/report', [json({ ip, status: 200 })]);
    const { client } = makeClient(url);
    const api = new CriminalIpApi(client);
    for (const call of [api.ipReport(ip), api.maliciousInfo(ip), api.suspiciousInfo(ip)]) {
      await expect(call).rejects.toBeInstanceOf(InvalidTargetError);
    }
    expect(seen).toHaveLength(0);
    expect(client.calls).toBe(0);
  });

  it('refuses scans of private hosts and special-use names', async () => {
    const { seen, url } = await serve('/v1/domain/scan', [json({ status: 200, data: { scan_id: 1 } })]);
    const api = new CriminalIpApi(makeClient(url).client);
    for (const query of [
      'http://192.168.0.1/admin',
      'https://[::1]/',
      'printer.local',
      'localhost',
      'ftp://a.com/',
    ]) {
      await expect(api.startScan(query)).rejects.toBeInstanceOf(InvalidTargetError);
    }
    expect(seen).toHaveLength(0);
  });
});
