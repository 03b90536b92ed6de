import { HttpResponse, http } from 'msw';
import type { IntelSourceSettings } from '../../lib/criminalip';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  InvalidTargetError,
  QuotaExhaustedError,
  ScanBusyError,
  ScanFailedError,
  Semaphore,
  scanUntilDone,
} from '../../lib/criminalip';
import type { Observable, ScanProgress } from '../../lib/jobs/types';
import type { Intel, LookupResult } from '../../lib/criminalip/intel';
import {
  type CriminalIpStandIn,
  PHISHING_URL,
  type StandInOptions,
  startCriminalIpStandIn,
} from '../../lib/standins/criminalip';
import { intelSourceAt, recordingSleep, serveHandlers, testAgent } from './loopback';

const NOW = new Date('2026-03-10T12:00:00Z');
const clock = { now: () => NOW };

const agent = testAgent();
afterAll(() => agent.close());

let standIn: CriminalIpStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

const defaults: IntelSourceSettings = {
  extraIpEndpoints: [],
  scanMode: 'full',
  scanMaxAgeDays: 7,
  scanPollSeconds: 15,
  scanMaxPolls: 10,
};

async function setup(
  options: StandInOptions = {},
  settings: Partial<IntelSourceSettings> = {},
  maxRetries = 2,
) {
  standIn = await startCriminalIpStandIn({ now: () => NOW, ...options });
  const { source, client } = intelSourceAt(
    standIn,
    { ...defaults, ...settings },
    { dispatcher: agent, clock, maxRetries },
  );
  return { source, standIn, client };
}

const obs = (type: Observable['type'], value: string): Observable => ({ type, value });

function ready(result: LookupResult): Intel {
  if (result.status !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(result)}`);
  return result.intel;
}
function pending(result: LookupResult): ScanProgress {
  if (result.status !== 'pending') throw new Error(`expected pending, got ${JSON.stringify(result)}`);
  return result.scan;
}
const data = (report: unknown) => (report as { data?: Record<string, unknown> }).data ?? {};

describe('IP lookups', () => {
  it('returns the full asset report in one call', async () => {
    const { source, standIn } = await setup();
    const result = await source.lookup(obs('ipv4-addr', '179.61.228.2'));
    const intel = ready(result);
    expect(intel.kind).toBe('ip');
    expect(intel).toMatchObject({
      report: { ip: '179.61.228.2', issues: { is_vpn: true, is_anonymous_vpn: true } },
    });
    expect(result.calls).toBe(1);
    expect(standIn.calls.map((c) => [c.path, c.query])).toEqual([
      ['/v1/asset/ip/report', { ip: '179.61.228.2', full: 'true' }],
    ]);
  });

  it('adds the configured extras, counting each call', async () => {
    const { source } = await setup({}, { extraIpEndpoints: ['malicious-info', 'suspicious-info'] });
    const result = await source.lookup(obs('ipv4-addr', '64.62.197.76'));
    expect(result.calls).toBe(3);
    const intel = ready(result);
    if (intel.kind !== 'ip') throw new Error('expected ip intel');
    expect(intel.maliciousInfo).toMatchObject({ is_malicious: true, can_remote_access: true });
    expect(intel.suspiciousInfo).toMatchObject({ ip: '64.62.197.76', score: { inbound: 'Critical' } });
  });

  it('looks IPv6 addresses up', async () => {
    const { source } = await setup();
    const intel = ready(await source.lookup(obs('ipv6-addr', '2606:4700:4700::1111')));
    expect(intel).toMatchObject({ report: { ip: '2606:4700:4700::1111', score: { inbound: 'Safe' } } });
  });

  it('refuses private addresses without calling Criminal IP', async () => {
    const { source, standIn } = await setup();
    await expect(source.lookup(obs('ipv4-addr', '192.168.10.20'))).rejects.toBeInstanceOf(InvalidTargetError);
    await expect(source.lookup(obs('ipv6-addr', 'fd00::1'))).rejects.toBeInstanceOf(InvalidTargetError);
    await expect(source.lookup(obs('url', 'http://10.1.1.1/admin'))).rejects.toBeInstanceOf(
      InvalidTargetError,
    );
    expect(standIn.calls).toHaveLength(0);
  });

  it('answers not-found when Criminal IP itself refuses the address', async () => {
    const server = await serveHandlers(
      http.get('/v1/asset/ip/report', () =>
        HttpResponse.json({ status: 400, message: 'Invalid IP Address.' }),
      ),
    );
    try {
      const client = new CriminalIpClient(
        { apiKey: 'k', apiUrl: server.url, concurrency: 1, timeoutMs: 2000, maxRetries: 2 },
        { dispatcher: agent, limiter: new Semaphore(1) },
      );
      const source = new CriminalIpIntelSource(new CriminalIpApi(client), defaults, clock);
      const result = await source.lookup(obs('ipv6-addr', '2a00:1450:4001:80b::200e'));
      expect(result).toMatchObject({ status: 'not-found', calls: 1 });
      expect(result.status === 'not-found' && result.reason).toContain('Invalid IP Address.');
    } finally {
      await server.close();
    }
  });

  it('attaches the calls spent to an error', async () => {
    const { source } = await setup({ credits: 1 }, { extraIpEndpoints: ['malicious-info'] });
    const error = await source.lookup(obs('ipv4-addr', '8.8.4.4')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExhaustedError);
    expect((error as QuotaExhaustedError).calls).toBe(2);
  });
});

describe('domain and URL scans', () => {
  it('reuses a recent full scan instead of spending a new one', async () => {
    const { source, standIn } = await setup({ recordedScans: [{ query: 'google.com', ageHours: 48 }] });
    const result = await source.lookup(obs('domain-name', 'Google.com'));
    const intel = ready(result);
    if (intel.kind !== 'domain') throw new Error('expected domain intel');
    expect(intel.scanId).toBe('14341560');
    expect(data(intel.report).main_domain_info).toMatchObject({ inserted_url: 'http://google.com' });
    expect(result.calls).toBe(2);
    expect(standIn.calls.map((c) => c.endpoint)).toEqual(['domain-reports', 'domain-report']);
    expect(standIn.stats().scansStarted.full).toBe(0);
  });

  it('does not reuse a scan older than scanMaxAgeDays', async () => {
    const { source, standIn } = await setup({ recordedScans: [{ query: 'google.com', ageHours: 8 * 24 }] });
    const result = await source.lookup(obs('domain-name', 'google.com'));
    expect(result.status).toBe('pending');
    expect(standIn.stats().scansStarted.full).toBe(1);
  });

  it('scans, then polls once per delivery, then fetches the report', async () => {
    const { source, standIn } = await setup({ scanProgress: [30, 70, 100] }, { scanPollSeconds: 20 });
    const target = obs('domain-name', 'shop-example.com');

    const first = await source.lookup(target);
    expect(first).toMatchObject({ status: 'pending', retryAfterSeconds: 20, calls: 2 });
    const scan = pending(first);
    expect(scan).toEqual({
      mode: 'full',
      scanId: expect.any(String),
      polls: 0,
      startedAt: NOW.toISOString(),
    });
    expect(standIn.calls.map((c) => c.endpoint)).toEqual(['domain-reports', 'domain-scan']);
    expect(standIn.calls[1]?.form).toEqual({ query: 'shop-example.com' });

    // The job travels through a queue: the progress must survive serialisation.
    const second = await source.lookup(target, JSON.parse(JSON.stringify(scan)) as ScanProgress);
    expect(second).toMatchObject({ status: 'pending', calls: 1, scan: { polls: 1, scanId: scan.scanId } });
    const third = await source.lookup(target, pending(second));
    expect(third).toMatchObject({ status: 'pending', calls: 1, scan: { polls: 2 } });
    const fourth = await source.lookup(target, pending(third));
    expect(fourth.calls).toBe(2);
    const intel = ready(fourth);
    expect(intel).toMatchObject({ kind: 'domain', scanId: scan.scanId });
    if (intel.kind !== 'domain') throw new Error('expected domain intel');
    expect(data(intel.report).main_domain_info).toMatchObject({ main_domain: 'shop-example.com' });
    expect(standIn.calls.map((c) => c.endpoint).slice(2)).toEqual([
      'scan-status',
      'scan-status',
      'scan-status',
      'domain-report',
    ]);
  });

  it('resumes with a fresh source instance (no state kept between deliveries)', async () => {
    const { source } = await setup({ scanProgress: [100] });
    const scan = pending(await source.lookup(obs('hostname', 'www.shop-example.com')));
    const other = new CriminalIpIntelSource(new CriminalIpApi(source.api.client), defaults, clock);
    expect(ready(await other.lookup(obs('hostname', 'www.shop-example.com'), scan))).toMatchObject({
      scanId: scan.scanId,
    });
  });

  it('answers not-found when the domain does not exist (-2)', async () => {
    const { source } = await setup({ scans: { 'no-such-host-example.com': { progress: [-2] } } });
    const target = obs('domain-name', 'no-such-host-example.com');
    const result = await source.lookup(target, pending(await source.lookup(target)));
    expect(result).toMatchObject({ status: 'not-found', calls: 1 });
  });

  it('throws ScanFailedError, not retryable, when the scan failed (-1)', async () => {
    const { source } = await setup({ scans: { 'broken-site-example.com': { progress: [20, -1] } } });
    const target = obs('domain-name', 'broken-site-example.com');
    const polled = await source.lookup(target, pending(await source.lookup(target)));
    const error = await source.lookup(target, pending(polled)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanFailedError);
    expect((error as ScanFailedError).retryable).toBe(false);
    expect((error as ScanFailedError).calls).toBe(1);
  });

  it('gives up after scanMaxPolls: one last report fetch, then not-found', async () => {
    const { source, standIn } = await setup({ scanProgress: [10, 20, 30, 40] }, { scanMaxPolls: 2 });
    const target = obs('domain-name', 'slow-site-example.com');
    const once = await source.lookup(target, pending(await source.lookup(target)));
    const last = await source.lookup(target, pending(once));
    expect(last).toMatchObject({ status: 'not-found', calls: 2 });
    expect(last.status === 'not-found' && last.reason).toMatch(/did not finish after 2 polls/);
    expect(standIn.calls.map((c) => c.endpoint).slice(-2)).toEqual(['scan-status', 'domain-report']);
  });

  it('uses the report fetched at give-up time when it has content', async () => {
    const { source } = await setup(
      { scans: { 'slow-site-example.com': { progress: [10], reportBeforeDone: true } } },
      { scanMaxPolls: 1 },
    );
    const target = obs('domain-name', 'slow-site-example.com');
    const result = await source.lookup(target, pending(await source.lookup(target)));
    expect(ready(result)).toMatchObject({ kind: 'domain' });
  });

  it('runs the lite trio in lite mode', async () => {
    const { source, standIn } = await setup({ liteProgress: [50, 100] }, { scanMode: 'lite' });
    const target = obs('domain-name', 'naver.com');
    const scan = pending(await source.lookup(target));
    expect(scan.mode).toBe('lite');
    expect(scan.scanId).toMatch(/^[0-9a-f]{32}$/);
    const intel = ready(await source.lookup(target, pending(await source.lookup(target, scan))));
    if (intel.kind !== 'domain') throw new Error('expected domain intel');
    expect(intel.report).toBeUndefined();
    expect(data(intel.liteReport).domain_score).toBe('20% (Safe)');
    expect(standIn.calls.map((c) => c.endpoint)).toEqual([
      'domain-reports',
      'lite-scan',
      'lite-progress',
      'lite-progress',
      'lite-report',
    ]);
  });

  it('in reuse-only mode, reuses a recent scan or answers not-found without scanning', async () => {
    const { source, standIn } = await setup({}, { scanMode: 'reuse-only' });
    expect(ready(await source.lookup(obs('domain-name', 'google.com')))).toMatchObject({ kind: 'domain' });
    const miss = await source.lookup(obs('domain-name', 'never-scanned-example.com'));
    expect(miss).toMatchObject({ status: 'not-found', calls: 1 });
    expect(standIn.stats().scansStarted).toEqual({ full: 0, lite: 0 });
  });

  it('scans a URL with the full URL and does not reuse scans of other pages', async () => {
    const { source, standIn } = await setup({
      scanProgress: [100],
      recordedScans: [{ query: 'http://account-verify-paypal.com.secure-signin.xyz/other', ageHours: 1 }],
    });
    const target = obs('url', PHISHING_URL);
    const scan = pending(await source.lookup(target));
    expect(standIn.calls.find((c) => c.endpoint === 'domain-scan')?.form).toEqual({ query: PHISHING_URL });
    const intel = ready(await source.lookup(target, scan));
    if (intel.kind !== 'domain') throw new Error('expected domain intel');
    const info = data(intel.report).main_domain_info as Record<string, unknown>;
    expect(info.domain_score).toMatchObject({ score: 'critical' });
    expect(data(intel.report).summary).toMatchObject({ url_phishing_prob: 93.7 });

    // The finished scan is on record now: the next lookup of the same URL reuses it.
    const again = await source.lookup(target);
    expect(ready(again)).toMatchObject({ scanId: scan.scanId });
    expect(standIn.stats().scansStarted.full).toBe(1);
  });

  it('surfaces "still scanning" as a retryable ScanBusyError after the retries', async () => {
    const { source } = await setup({ oneScanAtATime: true }, {}, 1);
    await source.lookup(obs('domain-name', 'first-example.com'));
    const error = await source.lookup(obs('domain-name', 'second-example.com')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanBusyError);
    expect((error as ScanBusyError).retryable).toBe(true);
    expect((error as ScanBusyError).calls).toBe(3);
  });
});

describe('scanUntilDone', () => {
  it('polls until the answer is final, sleeping the poll interval in between', async () => {
    const { source } = await setup({ scanProgress: [40, 80, 100] }, { scanPollSeconds: 7 });
    const { sleep, delays } = recordingSleep();
    const result = await scanUntilDone(source, obs('url', 'https://docs.shop-example.com/help'), { sleep });
    expect(result.status).toBe('ready');
    expect(delays).toEqual([7000, 7000, 7000]);
    // reports + scan, three polls, one report.
    expect(result.calls).toBe(6);
  });

  it('returns an IP answer at once', async () => {
    const { source } = await setup();
    const { sleep, delays } = recordingSleep();
    const result = await scanUntilDone(source, obs('ipv4-addr', '8.8.4.4'), { sleep });
    expect(result).toMatchObject({ status: 'ready', calls: 1 });
    expect(delays).toEqual([]);
  });

  it('ends at scanMaxPolls even if the scan never finishes', async () => {
    const { source } = await setup({ scanProgress: [5] }, { scanMaxPolls: 3 });
    const { sleep, delays } = recordingSleep();
    const result = await scanUntilDone(source, obs('domain-name', 'stuck-example.com'), { sleep });
    expect(result.status).toBe('not-found');
    expect(delays).toHaveLength(3);
  });
});

// Scan mode auto, the default: the cheapest path to a verdict for domains and URLs, in calls.
const AUTO: IntelSourceSettings = {
  extraIpEndpoints: [],
  scanMode: 'auto',
  scanMaxAgeDays: 7,
  scanPollSeconds: 15,
  scanMaxPolls: 10,
};

function autoSourceAt(url: string, apiKey: string): CriminalIpIntelSource {
  return intelSourceAt({ url, apiKey }, AUTO, { dispatcher: agent, clock, maxRetries: 0 }).source;
}

async function lookupAll(observable: Observable, fullScan = false) {
  standIn = await startCriminalIpStandIn({ now: () => NOW, scanProgress: [100] });
  const result = await scanUntilDone(autoSourceAt(standIn.url, standIn.apiKey), observable, {
    sleep: async () => {},
    ...(fullScan ? { lookup: { fullScan } } : {}),
  });
  return { result, endpoints: standIn.calls.map((c) => c.endpoint) };
}

const domainOf = (value: string): Observable => ({ type: 'domain-name', value, markingRefs: [] });

describe('scan mode auto', () => {
  it.each([
    ['safe', 'example.com'],
    ['malicious', 'secure-signin.xyz'],
  ])('answers a domain the quick verdict calls %s in one call, without a scan', async (result, value) => {
    const { result: lookup, endpoints } = await lookupAll(domainOf(value));
    expect(endpoints).toEqual(['quick-verdict']);
    expect(lookup).toMatchObject({
      status: 'ready',
      calls: 1,
      intel: { kind: 'domain', quick: { data: { result } } },
    });
    expect(lookup.status === 'ready' && lookup.intel.kind === 'domain' && lookup.intel.report).toBeFalsy();
  });

  it('reuses a recent full report when the verdict is unknown', async () => {
    standIn = await startCriminalIpStandIn({
      now: () => NOW,
      recordedScans: [{ query: 'status-page.net', ageHours: 24 }],
    });
    const result = await scanUntilDone(
      autoSourceAt(standIn.url, standIn.apiKey),
      domainOf('status-page.net'),
      {
        sleep: async () => {},
      },
    );
    expect(standIn.calls.map((c) => c.endpoint)).toEqual([
      'quick-verdict',
      'domain-reports',
      'domain-report',
    ]);
    expect(result).toMatchObject({
      status: 'ready',
      calls: 3,
      intel: { kind: 'domain', report: {}, quick: {} },
    });
    expect(standIn.stats().scansStarted).toEqual({ full: 0, lite: 0 });
  });

  it('runs a lite scan for an unknown domain with no recent report, not a full one', async () => {
    const { result, endpoints } = await lookupAll(domainOf('status-page.net'));
    expect(endpoints).toEqual([
      'quick-verdict',
      'domain-reports',
      'lite-scan',
      'lite-progress',
      'lite-report',
    ]);
    expect(result).toMatchObject({ status: 'ready', calls: 5, intel: { kind: 'domain', liteReport: {} } });
    expect(standIn!.stats().scansStarted).toEqual({ full: 0, lite: 1 });
  });

  it('does not let a safe domain clear one of its pages: a URL is scanned (lite)', async () => {
    const { endpoints } = await lookupAll({
      type: 'url',
      value: 'https://example.com/login',
      markingRefs: [],
    });
    expect(endpoints.slice(0, 3)).toEqual(['quick-verdict', 'domain-reports', 'lite-scan']);
  });

  it('takes a URL on a domain called malicious at its verdict', async () => {
    const { result, endpoints } = await lookupAll({ type: 'url', value: PHISHING_URL, markingRefs: [] });
    expect(endpoints).toEqual(['quick-verdict']);
    expect(result).toMatchObject({ status: 'ready', intel: { quick: { data: { result: 'malicious' } } } });
  });

  it('gives an analyst who asks the full scan, after the quick verdict', async () => {
    const { endpoints } = await lookupAll(domainOf('example.com'), true);
    expect(endpoints).toEqual([
      'quick-verdict',
      'domain-reports',
      'domain-scan',
      'scan-status',
      'domain-report',
    ]);
  });

  it('escalates to the full scan when the lite report cannot decide', async () => {
    const calls: string[] = [];
    const ok = (data: unknown) => HttpResponse.json({ status: 200, message: 'api success', data });
    const server = await serveHandlers(
      http.get('*/v1/domain/quick/hash/view', () => (calls.push('quick'), ok({ result: 'unknown' }))),
      http.get('*/v1/domain/reports', () => (calls.push('reports'), ok({ count: 0, reports: [] }))),
      http.get('*/v1/domain/lite/scan', () => (calls.push('lite-scan'), ok({ scan_id: 'a'.repeat(32) }))),
      http.get(
        '*/v1/domain/lite/progress',
        () => (calls.push('lite-progress'), ok({ scan_percentage: 100 })),
      ),
      // No score word: the lite scan did not decide.
      http.get('*/v1/domain/lite/report/:id', () => (calls.push('lite-report'), ok({ domain_score: 'N/A' }))),
      http.post('*/v1/domain/scan', () => (calls.push('full-scan'), ok({ scan_id: 77 }))),
    );
    try {
      const step = await autoSourceAt(server.url, 'test-key').lookup(domainOf('undecided.example.net'), {
        mode: 'lite',
        scanId: 'a'.repeat(32),
        polls: 0,
        startedAt: NOW.toISOString(),
      });
      expect(calls).toEqual(['lite-progress', 'lite-report', 'full-scan']);
      expect(step).toMatchObject({ status: 'pending', scan: { mode: 'full', scanId: '77', polls: 0 } });
    } finally {
      await server.close();
    }
  });
});
