import fs from 'node:fs';
import path from 'node:path';
import { HttpResponse, http } from 'msw';
import { CriminalIpApi, CriminalIpClient, Semaphore, scanIdOf, scanPercentageOf } from '../../lib/criminalip';
import { type Loopback, recordingSleep, serveHandlers, testAgent } from './loopback';

const SAMPLES = path.resolve(__dirname, '../fixtures/reference/criminalip-samples');
const sample = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(SAMPLES, name), 'utf8')) as Record<string, unknown>;

const agent = testAgent();
let server: Loopback;
const seen: Array<{ method: string; path: string; query: Record<string, string>; form?: string }> = [];

/** Recorded sample bodies, served by endpoint. */
const bodies: Record<string, () => unknown> = {
  '/v1/asset/ip/report': () => sample('asset_ip_report.json'),
  '/v1/feature/ip/malicious-info': () => sample('feature_ip_malicious_info_parser_test_fixture.json'),
  '/v2/feature/ip/suspicious-info': () => sample('feature_ip_suspicious_info_v2_test_fixture.json'),
  '/v1/domain/reports': () => sample('domain_reports_xsoar_test_fixture.json'),
  '/v1/domain/scan': () => sample('domain_scan.json'),
  '/v1/domain/status/14341560': () => sample('domain_status.json'),
  '/v2/domain/report/14341560': () => sample('domain_report_v1.json'),
  '/v1/domain/lite/scan': () => sample('domain_lite_scan.json'),
  '/v1/domain/lite/progress': () => sample('domain_lite_progress.json'),
  '/v1/domain/lite/report/ba3c4e1c53404e6485cef625f9df5060': () => sample('domain_lite_report.json'),
  '/v1/user/me': () => ({
    status: 200,
    message: 'api success',
    data: { account_type: 'free', api_key: 'ECHOED-SECRET-KEY', email: 'a@b.c', max_search: 42, name: 'A' },
  }),
};

beforeAll(async () => {
  const answer = async ({ request }: { request: Request }) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      form: request.method === 'POST' ? await request.text() : undefined,
    });
    const body = bodies[url.pathname];
    return body
      ? HttpResponse.json(body() as Record<string, unknown>)
      : HttpResponse.json({}, { status: 404 });
  };
  server = await serveHandlers(http.get('*', answer), http.post('*', answer));
});
afterAll(async () => {
  await server.close();
  await agent.close();
});
beforeEach(() => {
  seen.length = 0;
});

function api() {
  const client = new CriminalIpClient(
    { apiKey: 'k', apiUrl: server.url, concurrency: 1, timeoutMs: 2000, maxRetries: 0 },
    { dispatcher: agent, limiter: new Semaphore(1), sleep: recordingSleep().sleep },
  );
  return new CriminalIpApi(client);
}

describe('endpoint wrappers', () => {
  it('asks for the full IP report', async () => {
    const report = await api().ipReport('1.1.1.1');
    expect(seen).toEqual([
      { method: 'GET', path: '/v1/asset/ip/report', query: { ip: '1.1.1.1', full: 'true' } },
    ]);
    expect(report.score?.inbound).toBe('Critical');
    expect(report.vulnerability?.data?.[0]?.cve_id).toBe('CVE-2021-23017');
  });

  it('calls malicious-info (v1) and suspicious-info (v2)', async () => {
    const malicious = await api().maliciousInfo('1.1.1.1');
    const suspicious = await api().suspiciousInfo('2606:4700:4700::1111');
    expect(seen.map((s) => [s.path, s.query.ip])).toEqual([
      ['/v1/feature/ip/malicious-info', '1.1.1.1'],
      ['/v2/feature/ip/suspicious-info', '2606:4700:4700::1111'],
    ]);
    expect(malicious.can_remote_access).toBe(true);
    expect(suspicious.abuse_record_count).toBe(5);
  });

  it('lists earlier scans with query and offset', async () => {
    const listing = await api().domainReports('google.com');
    expect(seen[0]).toMatchObject({
      path: '/v1/domain/reports',
      query: { query: 'google.com', offset: '0' },
    });
    expect(listing.data?.reports?.[0]?.scan_id).toBe('SCAN123');
  });

  it('starts a full scan by form POST, accepting a full URL', async () => {
    const url = 'https://login.example.net/account/verify?session=1&next=/home';
    const started = await api().startScan(url);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.path).toBe('/v1/domain/scan');
    expect(new URLSearchParams(seen[0]?.form).get('query')).toBe(url);
    expect(scanIdOf(started)).toBe('14341560');
  });

  it('polls status and fetches the v2 report by scan id', async () => {
    expect(scanPercentageOf(await api().scanStatus('14341560'))).toBe(100);
    const report = await api().domainReport('14341560');
    expect(seen.map((s) => s.path)).toEqual(['/v1/domain/status/14341560', '/v2/domain/report/14341560']);
    expect(report.data?.main_domain_info?.domain_score?.score).toBe('low');
  });

  it('runs the lite trio', async () => {
    const started = await api().liteScan('example.com');
    const scanId = scanIdOf(started) ?? '';
    await api().liteProgress(scanId);
    const report = await api().liteReport(scanId);
    expect(seen.map((s) => [s.method, s.path, s.query])).toEqual([
      ['GET', '/v1/domain/lite/scan', { query: 'example.com' }],
      ['GET', '/v1/domain/lite/progress', { scan_id: 'ba3c4e1c53404e6485cef625f9df5060' }],
      ['GET', '/v1/domain/lite/report/ba3c4e1c53404e6485cef625f9df5060', {}],
    ]);
    expect(report.data?.domain_score).toBe('20% (Safe)');
  });

  it('reads the account by POST /v1/user/me and drops the echoed API key', async () => {
    const account = await api().account();
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/v1/user/me' });
    expect(account).toEqual({ account_type: 'free', email: 'a@b.c', max_search: 42, name: 'A' });
    expect(JSON.stringify(account)).not.toContain('ECHOED-SECRET-KEY');
  });
});
