/**
 * Scan mode auto, the default: the cheapest path to a verdict for domains and URLs, counted in
 * calls against the Criminal IP stand-in (and msw handlers for an undecided lite report), over
 * loopback.
 */
import { HttpResponse, http } from 'msw';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  Semaphore,
  scanUntilDone,
  type IntelSourceSettings,
} from '../../lib/criminalip';
import type { Observable } from '../../lib/jobs/types';
import { type CriminalIpStandIn, PHISHING_URL, startCriminalIpStandIn } from '../../lib/standins/criminalip';
import { recordingSleep, serveHandlers, testAgent } from './loopback';

const NOW = new Date('2026-03-10T12:00:00Z');
const clock = { now: () => NOW };
const agent = testAgent();
afterAll(() => agent.close());

let standIn: CriminalIpStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

const AUTO: IntelSourceSettings = {
  extraIpEndpoints: [],
  scanMode: 'auto',
  scanMaxAgeDays: 7,
  scanPollSeconds: 15,
  scanMaxPolls: 10,
};

function sourceAt(url: string, apiKey: string): CriminalIpIntelSource {
  const client = new CriminalIpClient(
    { apiKey, apiUrl: url, concurrency: 1, timeoutMs: 2000, maxRetries: 0 },
    { dispatcher: agent, limiter: new Semaphore(1), sleep: recordingSleep().sleep },
  );
  return new CriminalIpIntelSource(new CriminalIpApi(client), AUTO, clock);
}

async function lookupAll(observable: Observable, fullScan = false) {
  standIn = await startCriminalIpStandIn({ now: () => NOW, scanProgress: [100] });
  const result = await scanUntilDone(sourceAt(standIn.url, standIn.apiKey), observable, {
    sleep: async () => {},
    ...(fullScan ? { lookup: { fullScan } } : {}),
  });
  return { result, endpoints: standIn.calls.map((c) => c.endpoint) };
}

const domain = (value: string): Observable => ({ type: 'domain-name', value, markingRefs: [] });

describe('scan mode auto', () => {
  it.each([
    ['safe', 'example.com'],
    ['malicious', 'secure-signin.xyz'],
  ])('answers a domain the quick verdict calls %s in one call, without a scan', async (result, value) => {
    const { result: lookup, endpoints } = await lookupAll(domain(value));
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
    const result = await scanUntilDone(sourceAt(standIn.url, standIn.apiKey), domain('status-page.net'), {
      sleep: async () => {},
    });
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
    const { result, endpoints } = await lookupAll(domain('status-page.net'));
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
    const { endpoints } = await lookupAll(domain('example.com'), true);
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
      const step = await sourceAt(server.url, 'test-key').lookup(domain('undecided.example.net'), {
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
