import { Agent, request } from 'undici';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  Semaphore,
  TimeoutError,
  scanUntilDone,
} from '../../lib/criminalip';
import {
  type CriminalIpStandIn,
  DEMO_OBSERVABLES,
  type FaultSettings,
  PHISHING_URL,
  type StandInOptions,
  startCriminalIpStandIn,
} from '../../lib/standins/criminalip';

const agent = new Agent({ keepAliveTimeout: 1000, headersTimeout: 2000, bodyTimeout: 2000 });
afterAll(() => agent.close());

const started: CriminalIpStandIn[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function start(options: StandInOptions = {}): Promise<CriminalIpStandIn> {
  const standIn = await startCriminalIpStandIn(options);
  started.push(standIn);
  return standIn;
}

interface Raw {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown> | string;
}

/** One raw HTTP call; a dropped connection resolves to 'dropped'. */
async function raw(
  standIn: CriminalIpStandIn,
  path: string,
  init: { method?: 'GET' | 'POST'; key?: string; form?: Record<string, string> } = {},
): Promise<Raw | 'dropped'> {
  try {
    const res = await request(`${standIn.url}${path}`, {
      method: init.method ?? 'GET',
      dispatcher: agent,
      headers: {
        'x-api-key': init.key ?? standIn.apiKey,
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    const text = await res.body.text();
    let body: Raw['body'] = text;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // an HTML error page stays text
    }
    return { status: res.statusCode, headers: res.headers, body };
  } catch {
    return 'dropped';
  }
}

async function ok(standIn: CriminalIpStandIn, path: string, init?: Parameters<typeof raw>[2]) {
  const r = await raw(standIn, path, init);
  if (r === 'dropped' || typeof r.body === 'string')
    throw new Error(`unexpected answer ${JSON.stringify(r)}`);
  return { status: r.status, body: r.body, headers: r.headers };
}

describe('the API surface', () => {
  it('refuses a wrong x-api-key with HTTP 401 and an "invalid api key" body', async () => {
    const standIn = await start();
    const r = await ok(standIn, '/v1/asset/ip/report?ip=8.8.4.4', { key: 'wrong' });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ status: 401, message: 'invalid api key' });
    expect(standIn.calls[0]).toMatchObject({ outcome: 'invalid-api-key', path: '/v1/asset/ip/report' });
  });

  it('serves a recorded answer for every demo observable', async () => {
    const standIn = await start({ scanProgress: [100] });
    for (const o of DEMO_OBSERVABLES) {
      if (o.type === 'ipv4-addr' || o.type === 'ipv6-addr') {
        const r = await ok(standIn, `/v1/asset/ip/report?ip=${encodeURIComponent(o.value)}&full=true`);
        expect(r.body).toMatchObject({ ip: o.value, status: 200 });
        expect(r.body.score).toBeDefined();
      } else {
        const scan = await ok(standIn, '/v1/domain/scan', { method: 'POST', form: { query: o.value } });
        const scanId = String((scan.body.data as { scan_id: number }).scan_id);
        await ok(standIn, `/v1/domain/status/${scanId}`);
        const report = await ok(standIn, `/v2/domain/report/${scanId}`);
        const info = (report.body.data as { main_domain_info: Record<string, unknown> }).main_domain_info;
        expect(info.inserted_url).toBe(o.type === 'url' ? o.value : `http://${o.value}`);
      }
    }
    expect(DEMO_OBSERVABLES.some((o) => o.tlp === 'TLP:RED')).toBe(true);
    expect(new Set(DEMO_OBSERVABLES.map((o) => o.type))).toEqual(
      new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url']),
    );
  });

  it('makes the demo IPs tell different stories', async () => {
    const standIn = await start();
    const report = async (ip: string) => (await ok(standIn, `/v1/asset/ip/report?ip=${ip}&full=true`)).body;
    const services = await report('64.62.197.76');
    expect((services.vulnerability as { count: number }).count).toBeGreaterThan(1);
    expect((services.port as { count: number }).count).toBeGreaterThan(1);
    const vpn = await report('179.61.228.2');
    expect(vpn.issues).toMatchObject({ is_vpn: true, is_anonymous_vpn: true });
    const clean = await report('2606:4700:4700::1111');
    expect(clean.score).toEqual({ inbound: 'Safe', outbound: 'Safe' });
  });

  it('answers unknown public IPs with a plain report and private ones with "Invalid IP Address."', async () => {
    const standIn = await start();
    const unknown = await ok(standIn, '/v1/asset/ip/report?ip=9.9.9.9&full=true');
    expect(unknown.body).toMatchObject({ ip: '9.9.9.9', score: { inbound: 'Safe' }, status: 200 });
    const invalid = await ok(standIn, '/v1/asset/ip/report?ip=10.0.0.1');
    expect(invalid).toMatchObject({ status: 200, body: { status: 400, message: 'Invalid IP Address.' } });
    const missing = await ok(standIn, '/v1/feature/ip/malicious-info');
    expect(missing.body).toMatchObject({ status: 412, message: 'Missing parameter.' });
  });

  it('derives malicious-info and suspicious-info from the same report', async () => {
    const standIn = await start();
    const malicious = (await ok(standIn, '/v1/feature/ip/malicious-info?ip=64.62.197.76')).body;
    expect(malicious).toMatchObject({ is_malicious: true, can_remote_access: true, status: 200 });
    const suspicious = (await ok(standIn, '/v2/feature/ip/suspicious-info?ip=179.61.228.2')).body;
    expect(suspicious).toMatchObject({ issues: { is_anonymous_vpn: true }, score: { inbound: 'Dangerous' } });
  });

  it('advances a scan one step per poll and lists it once finished', async () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const standIn = await start({ scanProgress: [30, 70, 100], recordedScans: [], now: () => now });
    const scan = await ok(standIn, '/v1/domain/scan', {
      method: 'POST',
      form: { query: 'shop-example.com' },
    });
    expect(scan.body).toMatchObject({ status: 200, data: { query: 'http://shop-example.com' } });
    const id = String((scan.body.data as { scan_id: number }).scan_id);
    const empty = await ok(standIn, `/v2/domain/report/${id}`);
    expect(empty.body.data).toEqual({});
    const percentages = [];
    for (let i = 0; i < 4; i += 1) {
      const status = await ok(standIn, `/v1/domain/status/${id}`);
      percentages.push((status.body.data as { scan_percentage: number }).scan_percentage);
    }
    expect(percentages).toEqual([30, 70, 100, 100]);
    const listing = await ok(standIn, '/v1/domain/reports?query=shop-example.com&offset=0');
    expect(listing.body.data).toMatchObject({
      count: 1,
      reports: [{ scan_id: Number(id), reg_dtime: '2026-03-10 12:00:00', url: 'http://shop-example.com' }],
    });
  });

  it('answers lite scans with 32-hex ids and a "NN% (Label)" score', async () => {
    const standIn = await start();
    const scan = await ok(standIn, `/v1/domain/lite/scan?query=${encodeURIComponent(PHISHING_URL)}`);
    const id = (scan.body.data as { scan_id: string }).scan_id;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await ok(standIn, `/v1/domain/lite/progress?scan_id=${id}`);
    const report = await ok(standIn, `/v1/domain/lite/report/${id}`);
    expect(report.body.data).toMatchObject({ domain_score: '95% (Critical)' });
    expect(
      (report.body.data as { dns_record: { dns_record_type_a: { ipv4: unknown[] } } }).dns_record
        .dns_record_type_a.ipv4,
    ).toEqual(['64.62.197.76']);
  });

  it('refuses a second full scan while one runs when oneScanAtATime is set', async () => {
    const standIn = await start({ oneScanAtATime: true });
    await ok(standIn, '/v1/domain/scan', { method: 'POST', form: { query: 'a-example.com' } });
    const busy = await ok(standIn, '/v1/domain/scan', { method: 'POST', form: { query: 'b-example.com' } });
    expect(busy.body).toEqual({
      status: 400,
      message: 'We are still scanning for your previous request. Please wait.',
    });
  });

  it('records method, path, query, form and time of every call, never the key', async () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const standIn = await start({ now: () => now });
    await ok(standIn, '/v1/domain/reports?query=google.com&offset=0');
    await ok(standIn, '/v1/domain/scan', { method: 'POST', form: { query: 'https://a-example.com/x' } });
    await ok(standIn, '/nowhere');
    expect(standIn.calls).toEqual([
      expect.objectContaining({
        seq: 1,
        method: 'GET',
        path: '/v1/domain/reports',
        endpoint: 'domain-reports',
        query: { query: 'google.com', offset: '0' },
        time: now.toISOString(),
        outcome: 'ok',
        httpStatus: 200,
        apiStatus: 200,
      }),
      expect.objectContaining({ method: 'POST', form: { query: 'https://a-example.com/x' }, outcome: 'ok' }),
      expect.objectContaining({ path: '/nowhere', outcome: 'unknown-endpoint', httpStatus: 404 }),
    ]);
    expect(JSON.stringify(standIn.calls)).not.toContain(standIn.apiKey);
    expect(standIn.stats().byEndpoint).toEqual({ 'domain-reports': 1, 'domain-scan': 1 });
  });
});

describe('concurrency and quota', () => {
  const ips = ['8.8.4.1', '8.8.4.2', '8.8.4.3', '8.8.4.4'];

  it('answers calls beyond the allowed concurrency with "unable to call api at the same time"', async () => {
    const standIn = await start({ concurrency: 1, latencyMs: 100 });
    const answers = await Promise.all(ips.map((ip) => ok(standIn, `/v1/asset/ip/report?ip=${ip}`)));
    const rejected = answers.filter((a) => a.body.message === 'unable to call api at the same time');
    expect(rejected).toHaveLength(3);
    expect(answers.filter((a) => a.body.ip)).toHaveLength(1);
    expect(standIn.stats()).toMatchObject({
      maxInFlight: 1,
      byOutcome: { ok: 1, 'concurrency-rejected': 3 },
    });
  });

  it('serves as many at once as allowed', async () => {
    const standIn = await start({ concurrency: 4, latencyMs: 50 });
    const answers = await Promise.all(ips.map((ip) => ok(standIn, `/v1/asset/ip/report?ip=${ip}`)));
    expect(answers.map((a) => a.body.ip)).toEqual(ips);
    expect(standIn.stats().maxInFlight).toBe(4);
  });

  it('lets a client with the same limit use it without a single rejection', async () => {
    const standIn = await start({ concurrency: 1, latencyMs: 20 });
    const client = new CriminalIpClient(
      { apiKey: standIn.apiKey, apiUrl: standIn.url, concurrency: 1, timeoutMs: 2000, maxRetries: 0 },
      { dispatcher: agent, limiter: new Semaphore(1) },
    );
    const api = new CriminalIpApi(client);
    await Promise.all(ips.map((ip) => api.ipReport(ip)));
    expect(standIn.stats().byOutcome).toEqual({ ok: 4 });
  });

  it('spends credits, answers "limit exceeded" once they are gone and reports what is left', async () => {
    const standIn = await start({ credits: 2, scanProgress: [100] });
    await ok(standIn, '/v1/asset/ip/report?ip=8.8.4.4');
    const me = await ok(standIn, '/v1/user/me', { method: 'POST' });
    expect(me.body.data).toMatchObject({ max_search: 1 });
    await ok(standIn, '/v1/domain/scan', { method: 'POST', form: { query: 'shop-example.com' } });
    const spent = await ok(standIn, '/v1/asset/ip/report?ip=8.8.4.4');
    expect(spent).toMatchObject({ status: 200, body: { status: 403, message: 'limit exceeded' } });
    const account = (await ok(standIn, '/v1/user/me', { method: 'POST' })).body.data as {
      max_search: number;
    };
    expect(account.max_search).toBe(0);
    expect(standIn.stats()).toMatchObject({
      creditsUsed: 2,
      creditsLeft: 0,
      byOutcome: { 'quota-exhausted': 1 },
    });
    standIn.setCredits(5);
    expect((await ok(standIn, '/v1/asset/ip/report?ip=8.8.4.4')).body.ip).toBe('8.8.4.4');
  });
});

describe('fault injection', () => {
  const rates: FaultSettings['rates'] = {
    'rate-limit': 0.1,
    'server-error': 0.1,
    drop: 0.1,
    concurrency: 0.1,
    'body-error': 0.1,
  };

  async function outcomes(seed: number): Promise<string[]> {
    const standIn = await start({ seed, faults: { rates } });
    for (let i = 0; i < 40; i += 1) await raw(standIn, `/v1/asset/ip/report?ip=8.8.4.${i + 1}`);
    return standIn.calls.map((c) => c.outcome);
  }

  it('replays the same faults for the same seed, and others for another seed', async () => {
    const first = await outcomes(42);
    const again = await outcomes(42);
    const other = await outcomes(7);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    // Half the calls carry a fault at these rates: all five kinds show up in 40 calls.
    for (const kind of ['rate-limit', 'server-error', 'drop', 'concurrency', 'body-error']) {
      expect(first).toContain(`fault-${kind}`);
    }
    expect(first).toContain('ok');
  });

  it('shapes each fault as the real service would', async () => {
    const standIn = await start({
      faults: {
        next: ['rate-limit', 'server-error', 'drop', 'concurrency', 'body-error'],
        retryAfterSeconds: 7,
      },
    });
    const path = '/v1/asset/ip/report?ip=8.8.4.4';
    const limited = await raw(standIn, path);
    expect(limited).toMatchObject({ status: 429, headers: { 'retry-after': '7' } });
    const server = await raw(standIn, path);
    expect(server !== 'dropped' && server.status).toBeGreaterThanOrEqual(500);
    expect(await raw(standIn, path)).toBe('dropped');
    expect(await raw(standIn, path)).toMatchObject({
      status: 200,
      body: { message: 'unable to call api at the same time' },
    });
    expect(await raw(standIn, path)).toMatchObject({ status: 200, body: { status: 500 } });
    expect(await raw(standIn, path)).toMatchObject({ status: 200, body: { ip: '8.8.4.4' } });
  });

  it('hangs past the client timeout on a timeout fault, and still closes cleanly', async () => {
    const standIn = await start({ faults: { next: ['timeout'], hangMs: 60_000 } });
    const shortAgent = new Agent({ headersTimeout: 200, bodyTimeout: 200 });
    const client = new CriminalIpClient(
      { apiKey: standIn.apiKey, apiUrl: standIn.url, concurrency: 1, timeoutMs: 200, maxRetries: 0 },
      { dispatcher: shortAgent, limiter: new Semaphore(1) },
    );
    try {
      await expect(new CriminalIpApi(client).ipReport('8.8.4.4')).rejects.toBeInstanceOf(TimeoutError);
      expect(standIn.stats().byOutcome).toEqual({ 'fault-timeout': 1 });
    } finally {
      await shortAgent.close();
    }
  });

  it('rejects rates that do not add up', async () => {
    const standIn = await start();
    expect(() => standIn.setFaults({ rates: { drop: 0.7, 'server-error': 0.5 } })).toThrow(RangeError);
  });

  it('lets the client ride out faults: every lookup succeeds and the call counts agree', async () => {
    const standIn = await start({
      seed: 3,
      scanProgress: [50, 100],
      faults: {
        rates: { 'rate-limit': 0.1, 'server-error': 0.1, drop: 0.05, concurrency: 0.05, 'body-error': 0.1 },
      },
    });
    const client = new CriminalIpClient(
      { apiKey: standIn.apiKey, apiUrl: standIn.url, concurrency: 1, timeoutMs: 2000, maxRetries: 8 },
      { dispatcher: agent, limiter: new Semaphore(1), sleep: async () => undefined },
    );
    const source = new CriminalIpIntelSource(new CriminalIpApi(client), {
      extraIpEndpoints: ['malicious-info'],
      scanMode: 'full',
      scanMaxAgeDays: 7,
      scanPollSeconds: 1,
      scanMaxPolls: 5,
    });
    let total = 0;
    const observables = [
      ...['8.8.4.1', '8.8.4.2', '8.8.4.3', '64.62.197.76', '179.61.228.2'].map((value) => ({
        type: 'ipv4-addr' as const,
        value,
      })),
      { type: 'url' as const, value: PHISHING_URL },
      { type: 'domain-name' as const, value: 'google.com' },
    ];
    for (const observable of observables) {
      const result = await scanUntilDone(source, observable, { sleep: async () => undefined });
      expect(result.status).toBe('ready');
      total += result.calls;
    }
    expect(standIn.stats().byOutcome.ok).toBeLessThan(standIn.calls.length);
    expect(total).toBe(standIn.calls.length);
    expect(client.calls).toBe(standIn.calls.length);
  });
});
