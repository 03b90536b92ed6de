/**
 * A Criminal IP stand-in: a real HTTP server on loopback that speaks the API for every endpoint
 * the product calls, with the service's habits (the x-api-key check, errors inside HTTP 200
 * bodies, one call at a time per key, credits that run out, scans that take several polls) and
 * seeded fault injection. The offline demo, the fault-injection suite and tests run against it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPublicIp, targetRejection } from '../../criminalip/targets';
import { asRecord, recordsOf } from '../../criminalip/parse';
import {
  domainReportFor,
  ipKey,
  ipReportFor,
  liteReportFor,
  quickVerdictFor,
  maliciousInfoFor,
  scanUrlOf,
  suspiciousInfoFor,
} from './catalogue';
import { type FaultKind, FaultPlan, type FaultSettings, seededRandom } from './faults';
import { type RecordedScan, ScanRegistry, type ScanScript, type ScanState, cipTimestamp } from './scans';

export const STANDIN_API_KEY = 'standin-criminalip-api-key';

export type EndpointName =
  | 'ip-report'
  | 'malicious-info'
  | 'suspicious-info'
  | 'domain-reports'
  | 'domain-scan'
  | 'scan-status'
  | 'domain-report'
  | 'lite-scan'
  | 'lite-progress'
  | 'lite-report'
  | 'quick-verdict'
  | 'user-me';

/** Credits each endpoint spends (per-endpoint costs are undocumented: lookups cost one). */
export const DEFAULT_COSTS: Readonly<Record<EndpointName, number>> = {
  'ip-report': 1,
  'malicious-info': 1,
  'suspicious-info': 1,
  'domain-reports': 1,
  'domain-scan': 1,
  'scan-status': 0,
  'domain-report': 0,
  'lite-scan': 1,
  'lite-progress': 0,
  'lite-report': 0,
  'quick-verdict': 1,
  'user-me': 0,
};

/** The stand-in's demo setup: google.com was scanned two days ago, so its report is reused. */
export const DEFAULT_RECORDED_SCANS: readonly RecordedScan[] = [{ query: 'google.com', ageHours: 48 }];

export interface StandInOptions {
  apiKey?: string;
  port?: number;
  /** Delay before each accepted call is answered: fixed, or drawn from [min, max] (seeded). */
  latencyMs?: number | { min: number; max: number };
  /** Calls served at once; extra ones get "unable to call api at the same time". */
  concurrency?: number;
  /** Credits on the account; spent per DEFAULT_COSTS (or `costs`), then "limit exceeded". */
  credits?: number;
  costs?: Partial<Record<EndpointName, number>>;
  /** Seed of fault and latency draws. */
  seed?: number;
  faults?: FaultSettings;
  /** Full-scan percentages per poll (default 30, 70, 100). */
  scanProgress?: number[];
  /** Lite-scan percentages per poll (default 100). */
  liteProgress?: number[];
  /** Scripts for particular queries (the domain or URL exactly as sent). */
  scans?: Record<string, ScanScript>;
  /** Finished full scans on record at start (default DEFAULT_RECORDED_SCANS). */
  recordedScans?: readonly RecordedScan[];
  /** Refuse a new full scan while another one is running, as the real service does per key. */
  oneScanAtATime?: boolean;
  now?: () => Date;
}

export type CallOutcome =
  | 'ok'
  | 'invalid-api-key'
  | 'quota-exhausted'
  | 'concurrency-rejected'
  | 'invalid-target'
  | 'missing-parameter'
  | 'unknown-scan'
  | 'scan-busy'
  | 'unknown-endpoint'
  | `fault-${FaultKind}`;

export interface RecordedCall {
  /** Arrival order, from 1. */
  seq: number;
  method: string;
  path: string;
  endpoint?: EndpointName;
  query: Record<string, string>;
  form?: Record<string, string>;
  /** ISO arrival time. */
  time: string;
  outcome: CallOutcome;
  httpStatus?: number;
  apiStatus?: number;
}

export interface StandInStats {
  calls: number;
  byOutcome: Partial<Record<CallOutcome, number>>;
  byEndpoint: Partial<Record<EndpointName, number>>;
  /** Calls being served now, and the most ever served at once (rejected ones excluded). */
  inFlight: number;
  maxInFlight: number;
  creditsUsed: number;
  creditsLeft: number;
  scansStarted: { full: number; lite: number };
}

export interface CriminalIpStandIn {
  url: string;
  apiKey: string;
  calls: RecordedCall[];
  stats(): StandInStats;
  setFaults(settings: FaultSettings): void;
  setCredits(credits: number): void;
  /**
   * Serves `report` as the IP report of `ip` from now on (undefined: back to the catalogue), so
   * that a test can change Criminal IP's verdict between two enrichments.
   */
  setIpReport(ip: string, report: unknown): void;
  close(): Promise<void>;
}

interface Reply {
  httpStatus: number;
  body: unknown;
  outcome: CallOutcome;
  headers?: Record<string, string>;
}

const ok = (body: unknown): Reply => ({ httpStatus: 200, body, outcome: 'ok' });
const success = (data: unknown): Reply => ok({ status: 200, message: 'api success', data });
/** An error the service reports inside an HTTP 200 body. */
const bodyError = (status: number, message: string, outcome: CallOutcome): Reply => ({
  httpStatus: 200,
  body: { status, message },
  outcome,
});

const ROUTES: ReadonlyArray<{ method: string; pattern: RegExp; endpoint: EndpointName }> = [
  { method: 'GET', pattern: /^\/v1\/asset\/ip\/report$/, endpoint: 'ip-report' },
  { method: 'GET', pattern: /^\/v1\/feature\/ip\/malicious-info$/, endpoint: 'malicious-info' },
  { method: 'GET', pattern: /^\/v2\/feature\/ip\/suspicious-info$/, endpoint: 'suspicious-info' },
  { method: 'GET', pattern: /^\/v1\/domain\/reports$/, endpoint: 'domain-reports' },
  { method: 'POST', pattern: /^\/v1\/domain\/scan$/, endpoint: 'domain-scan' },
  { method: 'GET', pattern: /^\/v1\/domain\/status\/([^/]+)$/, endpoint: 'scan-status' },
  { method: 'GET', pattern: /^\/v[12]\/domain\/report\/([^/]+)$/, endpoint: 'domain-report' },
  { method: 'GET', pattern: /^\/v1\/domain\/lite\/scan$/, endpoint: 'lite-scan' },
  { method: 'GET', pattern: /^\/v1\/domain\/lite\/progress$/, endpoint: 'lite-progress' },
  { method: 'GET', pattern: /^\/v1\/domain\/lite\/report\/([^/]+)$/, endpoint: 'lite-report' },
  { method: 'GET', pattern: /^\/v1\/domain\/quick\/hash\/view$/, endpoint: 'quick-verdict' },
  { method: 'POST', pattern: /^\/v1\/user\/me$/, endpoint: 'user-me' },
];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Why a scan query is refused (the service's own answer), or undefined. */
function scanQueryRefusal(query: string): Reply | undefined {
  if (/^https?:\/\//i.test(query)) {
    return targetRejection('url', query) ? bodyError(400, 'Invalid URL.', 'invalid-target') : undefined;
  }
  const looksLikeIp = /^[\d.]+$/.test(query) || query.includes(':');
  const refused = looksLikeIp ? !isPublicIp(query) : targetRejection('domain-name', query) !== undefined;
  return refused ? bodyError(420, 'Invalid parameter.', 'invalid-target') : undefined;
}

export async function startCriminalIpStandIn(options: StandInOptions = {}): Promise<CriminalIpStandIn> {
  const apiKey = options.apiKey ?? STANDIN_API_KEY;
  const now = options.now ?? (() => new Date());
  const seed = options.seed ?? 1;
  const costs: Record<EndpointName, number> = { ...DEFAULT_COSTS, ...options.costs };
  const concurrency = options.concurrency ?? 1;
  const faults = new FaultPlan(seed, options.faults);
  const latencyRandom = seededRandom(seed ^ 0x9e3779b9);

  let credits = options.credits ?? 10_000;
  let creditsUsed = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let arrivals = 0;
  const calls: RecordedCall[] = [];
  const hangs = new Set<NodeJS.Timeout>();

  const scans = new ScanRegistry((query, mode) => {
    const scripted = options.scans?.[query];
    if (scripted) return scripted;
    return {
      progress: mode === 'full' ? (options.scanProgress ?? [30, 70, 100]) : (options.liteProgress ?? [100]),
    };
  }, now);
  scans.seed(options.recordedScans ?? DEFAULT_RECORDED_SCANS);

  function latency(): number {
    const l = options.latencyMs;
    if (l === undefined) return 0;
    if (typeof l === 'number') return l;
    return Math.round(l.min + (l.max - l.min) * latencyRandom());
  }

  function reportsListing(query: string): Reply {
    const reports = scans.finishedFor(query).map((scan) => {
      const report = asRecord(domainReportFor(scan.query, cipTimestamp(scan.finishedAt ?? now())).data) ?? {};
      const info = asRecord(report.main_domain_info) ?? {};
      const summary = asRecord(report.summary) ?? {};
      return {
        scan_id: Number(scan.id),
        reg_dtime: cipTimestamp(scan.finishedAt ?? now()),
        title: info.title ?? '',
        url: scan.url,
        score: asRecord(info.domain_score)?.score ?? 'safe',
        countries: summary.list_of_countries ?? [],
        country_code: summary.list_of_countries ?? [],
        connected_ip_cnt: recordsOf(report.connected_ip).length,
        technologies: report.technologies ?? [],
        issues: { phishing_record: summary.phishing_record ?? 0 },
      };
    });
    return success({ count: reports.length, reports });
  }

  function scanReport(scan: ScanState): Reply {
    if (!scans.reportReady(scan)) return success({});
    const time = cipTimestamp(scan.finishedAt ?? now());
    return ok(scan.mode === 'full' ? domainReportFor(scan.query, time) : liteReportFor(scan.query, time));
  }

  /** The answer of an authenticated, admitted call. */
  const ipReports = new Map<string, unknown>();

  function serve(
    endpoint: EndpointName,
    id: string | undefined,
    query: URLSearchParams,
    form: URLSearchParams,
  ): Reply {
    const ipEndpoint =
      endpoint === 'ip-report' || endpoint === 'malicious-info' || endpoint === 'suspicious-info';
    if (ipEndpoint) {
      const ip = query.get('ip')?.trim();
      if (!ip) return bodyError(412, 'Missing parameter.', 'missing-parameter');
      if (!isPublicIp(ip)) return bodyError(400, 'Invalid IP Address.', 'invalid-target');
      if (endpoint === 'ip-report') return ok(ipReports.get(ipKey(ip)) ?? ipReportFor(ip));
      return ok(endpoint === 'malicious-info' ? maliciousInfoFor(ip) : suspiciousInfoFor(ip));
    }
    switch (endpoint) {
      case 'domain-reports': {
        const q = query.get('query')?.trim();
        if (!q) return bodyError(412, 'Missing parameter.', 'missing-parameter');
        return reportsListing(q);
      }
      case 'domain-scan':
      case 'lite-scan': {
        const q = (endpoint === 'domain-scan' ? form : query).get('query')?.trim();
        if (!q) return bodyError(412, 'Missing parameter.', 'missing-parameter');
        const refusal = scanQueryRefusal(q);
        if (refusal) return refusal;
        if (endpoint === 'domain-scan' && options.oneScanAtATime && scans.running()) {
          return bodyError(400, 'We are still scanning for your previous request. Please wait.', 'scan-busy');
        }
        const scan = scans.start(q, endpoint === 'domain-scan' ? 'full' : 'lite');
        return success({ query: scanUrlOf(q), scan_id: scan.mode === 'full' ? Number(scan.id) : scan.id });
      }
      case 'scan-status':
      case 'lite-progress': {
        const scanId = endpoint === 'scan-status' ? id : query.get('scan_id')?.trim();
        const scan = scanId ? scans.get(scanId, endpoint === 'scan-status' ? 'full' : 'lite') : undefined;
        if (!scan) return bodyError(420, 'Invalid parameter.', 'unknown-scan');
        return success({ scan_percentage: scans.poll(scan) });
      }
      case 'domain-report':
      case 'lite-report': {
        const scan = id ? scans.get(id, endpoint === 'domain-report' ? 'full' : 'lite') : undefined;
        if (!scan) return bodyError(420, 'Invalid parameter.', 'unknown-scan');
        return scanReport(scan);
      }
      case 'quick-verdict': {
        const domain = query.get('domain')?.trim();
        if (!domain) return bodyError(412, 'Missing parameter.', 'missing-parameter');
        return success(quickVerdictFor(domain, cipTimestamp(now())));
      }
      case 'user-me':
        return success({
          account_type: 'stand-in',
          // The real service echoes the key here; clients must drop it.
          api_key: apiKey,
          email: 'analyst@example.org',
          last_access_date: cipTimestamp(now()),
          max_search: credits,
          membership_date: '2024-01-01 00:00:00',
          name: 'Stand-in analyst',
        });
      default:
        return bodyError(404, 'Not found.', 'unknown-endpoint');
    }
  }

  function faultReply(fault: FaultKind, seq: number): Reply | undefined {
    switch (fault) {
      case 'rate-limit':
        return {
          httpStatus: 429,
          body: { status: 429, message: 'Too many requests' },
          outcome: 'fault-rate-limit',
          headers: { 'retry-after': String(faults.retryAfterSeconds) },
        };
      case 'server-error': {
        const httpStatus = [500, 502, 503][seq % 3] ?? 500;
        // A gateway answers 502 with its own HTML page, not the API's JSON.
        const body =
          httpStatus === 502
            ? '<html><body>502 Bad Gateway</body></html>'
            : { status: 500, message: 'An unexpected error occurred' };
        return { httpStatus, body, outcome: 'fault-server-error' };
      }
      case 'concurrency':
        return bodyError(400, 'unable to call api at the same time', 'fault-concurrency');
      case 'body-error':
        return bodyError(500, 'An unexpected error occurred', 'fault-body-error');
      default:
        return undefined;
    }
  }

  function write(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.headersSent) return;
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.httpStatus, {
      'content-type': typeof reply.body === 'string' ? 'text/html' : 'application/json',
      'content-length': Buffer.byteLength(text),
      ...reply.headers,
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const seq = (arrivals += 1);
    const time = now().toISOString();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const bodyText = await readBody(req);
    const method = req.method ?? 'GET';
    const route = ROUTES.map((r) => ({ r, m: r.pattern.exec(url.pathname) })).find(
      ({ r, m }) => m && r.method === method,
    );
    const endpoint = route?.r.endpoint;
    const form = new URLSearchParams(
      /application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '') ? bodyText : '',
    );
    const call: RecordedCall = {
      seq,
      method,
      path: url.pathname,
      endpoint,
      query: Object.fromEntries(url.searchParams),
      form: method === 'POST' ? Object.fromEntries(form) : undefined,
      time,
      outcome: 'ok',
    };
    const finish = (reply: Reply) => {
      call.outcome = reply.outcome;
      call.httpStatus = reply.httpStatus;
      call.apiStatus =
        typeof asRecord(reply.body)?.status === 'number'
          ? (asRecord(reply.body)?.status as number)
          : undefined;
      calls.push(call);
      write(res, reply);
    };

    const fault = faults.roll();
    if (fault === 'timeout') {
      call.outcome = 'fault-timeout';
      calls.push(call);
      const timer = setTimeout(() => {
        hangs.delete(timer);
        req.socket.destroy();
      }, faults.hangMs);
      hangs.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        hangs.delete(timer);
      });
      return;
    }
    if (fault === 'drop') {
      call.outcome = 'fault-drop';
      calls.push(call);
      req.socket.destroy();
      return;
    }
    const injected = fault ? faultReply(fault, seq) : undefined;
    if (injected) return finish(injected);

    const key = req.headers['x-api-key'];
    if ((Array.isArray(key) ? key[0] : key) !== apiKey) {
      return finish({
        httpStatus: 401,
        body: { status: 401, message: 'invalid api key' },
        outcome: 'invalid-api-key',
      });
    }
    if (inFlight >= concurrency) {
      return finish(bodyError(400, 'unable to call api at the same time', 'concurrency-rejected'));
    }

    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const delay = latency();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (!route || !endpoint) {
        return finish({
          httpStatus: 404,
          body: { status: 404, message: 'Not found.' },
          outcome: 'unknown-endpoint',
        });
      }
      const cost = costs[endpoint];
      if (cost > 0 && credits < cost) return finish(bodyError(403, 'limit exceeded', 'quota-exhausted'));
      const reply = serve(endpoint, route.m?.[1] && decodeURIComponent(route.m[1]), url.searchParams, form);
      if (reply.outcome === 'ok' && cost > 0) {
        credits -= cost;
        creditsUsed += cost;
      }
      finish(reply);
    } finally {
      inFlight -= 1;
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      write(res, {
        httpStatus: 500,
        body: { status: 500, message: `stand-in failure: ${String(error)}` },
        outcome: 'fault-server-error',
      });
    });
  });
  // Answer keep-alive clients for a while, as a real API front end does.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    calls,
    stats() {
      const byOutcome: StandInStats['byOutcome'] = {};
      const byEndpoint: StandInStats['byEndpoint'] = {};
      for (const c of calls) {
        byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1;
        if (c.endpoint) byEndpoint[c.endpoint] = (byEndpoint[c.endpoint] ?? 0) + 1;
      }
      return {
        calls: calls.length,
        byOutcome,
        byEndpoint,
        inFlight,
        maxInFlight,
        creditsUsed,
        creditsLeft: credits,
        scansStarted: { ...scans.started },
      };
    },
    setFaults(settings) {
      faults.update(settings);
    },
    setIpReport(ip, report) {
      if (report === undefined) ipReports.delete(ipKey(ip));
      else ipReports.set(ipKey(ip), report);
    },
    setCredits(value) {
      credits = value;
    },
    close() {
      for (const timer of hangs) clearTimeout(timer);
      hangs.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
