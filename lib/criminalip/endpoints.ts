/**
 * One method per Criminal IP endpoint the product uses. Each returns the response body as
 * received (typed loosely, see types.ts); errors are thrown by the client. IP targets are checked
 * before the call: a private or reserved address never reaches the service.
 */
import type { CallOptions, CriminalIpClient } from './client';
import { assertPublicTarget, isPublicIp } from './targets';
import { dataOf } from './parse';
import type {
  Account,
  AssetIpReport,
  DomainReport,
  DomainReports,
  LiteReport,
  MaliciousInfo,
  QuickVerdict,
  ScanStarted,
  ScanStatus,
  SuspiciousInfo,
} from './types';

function ipType(ip: string) {
  return ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
}

/** A scan query is a domain, a host name or a full http(s) URL. */
function assertScanQuery(query: string): void {
  if (/^https?:\/\//i.test(query.trim())) assertPublicTarget('url', query);
  else if (isPublicIp(query)) return;
  else assertPublicTarget('domain-name', query);
}

export class CriminalIpApi {
  constructor(readonly client: CriminalIpClient) {}

  /** GET /v1/asset/ip/report?ip=&full=true: the full report (payload at the top level). */
  async ipReport(ip: string, options?: CallOptions): Promise<AssetIpReport> {
    assertPublicTarget(ipType(ip), ip);
    return this.client.send(
      { method: 'GET', path: '/v1/asset/ip/report', query: { ip, full: true } },
      options,
    );
  }

  /** GET /v1/feature/ip/malicious-info?ip= */
  async maliciousInfo(ip: string, options?: CallOptions): Promise<MaliciousInfo> {
    assertPublicTarget(ipType(ip), ip);
    return this.client.send({ method: 'GET', path: '/v1/feature/ip/malicious-info', query: { ip } }, options);
  }

  /** GET /v2/feature/ip/suspicious-info?ip= */
  async suspiciousInfo(ip: string, options?: CallOptions): Promise<SuspiciousInfo> {
    assertPublicTarget(ipType(ip), ip);
    return this.client.send(
      { method: 'GET', path: '/v2/feature/ip/suspicious-info', query: { ip } },
      options,
    );
  }

  /** GET /v1/domain/reports?query=&offset=: earlier full scans of a domain or URL. */
  async domainReports(query: string, offset = 0, options?: CallOptions): Promise<DomainReports> {
    assertScanQuery(query);
    return this.client.send({ method: 'GET', path: '/v1/domain/reports', query: { query, offset } }, options);
  }

  /** POST /v1/domain/scan (form field `query`, a domain or a full URL): starts a full scan. */
  async startScan(query: string, options?: CallOptions): Promise<ScanStarted> {
    assertScanQuery(query);
    return this.client.send({ method: 'POST', path: '/v1/domain/scan', form: { query } }, options);
  }

  /** GET /v1/domain/status/{scan_id}: 0-100, -1 failed, -2 domain not found. */
  async scanStatus(scanId: string, options?: CallOptions): Promise<ScanStatus> {
    return this.client.send(
      { method: 'GET', path: `/v1/domain/status/${encodeURIComponent(scanId)}` },
      options,
    );
  }

  /** GET /v2/domain/report/{scan_id}: the full report of a finished scan. */
  async domainReport(scanId: string, options?: CallOptions): Promise<DomainReport> {
    return this.client.send(
      { method: 'GET', path: `/v2/domain/report/${encodeURIComponent(scanId)}` },
      options,
    );
  }

  /** GET /v1/domain/lite/scan?query=: starts a lite scan (seconds, fewer details). */
  async liteScan(query: string, options?: CallOptions): Promise<ScanStarted> {
    assertScanQuery(query);
    return this.client.send({ method: 'GET', path: '/v1/domain/lite/scan', query: { query } }, options);
  }

  /** GET /v1/domain/lite/progress?scan_id= */
  async liteProgress(scanId: string, options?: CallOptions): Promise<ScanStatus> {
    return this.client.send(
      { method: 'GET', path: '/v1/domain/lite/progress', query: { scan_id: scanId } },
      options,
    );
  }

  /** GET /v1/domain/quick/hash/view: `result` safe, malicious or unknown, answered at once. */
  async quickVerdict(domain: string, options?: CallOptions): Promise<QuickVerdict> {
    assertPublicTarget('domain-name', domain);
    return this.client.send(
      { method: 'GET', path: '/v1/domain/quick/hash/view', query: { domain } },
      options,
    );
  }

  /** GET /v1/domain/lite/report/{scan_id} */
  async liteReport(scanId: string, options?: CallOptions): Promise<LiteReport> {
    return this.client.send(
      { method: 'GET', path: `/v1/domain/lite/report/${encodeURIComponent(scanId)}` },
      options,
    );
  }

  /**
   * POST /v1/user/me: the account and its credits (`max_search`). The answer echoes the API key;
   * it is dropped here so that it cannot end up in a log or a health report.
   */
  async account(options?: CallOptions): Promise<Account> {
    const body = await this.client.send({ method: 'POST', path: '/v1/user/me' }, options);
    const { api_key: _apiKey, ...account } = dataOf(body) ?? {};
    return account;
  }
}
