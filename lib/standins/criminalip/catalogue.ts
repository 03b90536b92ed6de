/**
 * What the stand-in knows: recorded report bodies (data/, derived from the public samples) for the
 * demo's observables, a plain answer for anything else, and the malicious-info, suspicious-info
 * and lite-report bodies derived from those reports so that every endpoint tells the same story.
 * All of it is stand-in data for demonstrations and tests, not intelligence about real hosts.
 */
import ipaddr from 'ipaddr.js';
import type { ObservableStixType } from '../../stix/core';
import { asRecord, asString, recordsOf, scoreWord, type JsonRecord } from '../../criminalip/parse';
import googleReport from './data/domain-report-google.json';
import phishingReport from './data/domain-report-phishing.json';
import defaultDomainReport from './data/domain-report-default.json';
import anonymousVpn from './data/ip-anonymous-vpn.json';
import cleanIpv6 from './data/ip-clean-ipv6.json';
import defaultIpReport from './data/ip-default.json';
import servicesCves from './data/ip-services-cves.json';
import tlpRed from './data/ip-tlp-red.json';
import naverLite from './data/lite-report-naver.json';

export interface DemoObservable {
  type: ObservableStixType;
  value: string;
  description: string;
  /** Marking the demo puts on the observable; TLP:RED must stop it before any call. */
  tlp?: 'TLP:RED';
  /** `auto`: sent as OpenCTI's automatic enrichment of a new observable (default: an analyst's click). */
  mode?: 'auto';
}

export const PHISHING_URL = 'http://account-verify-paypal.com.secure-signin.xyz/login.php';

/** The observables the offline demo sends; the stand-in serves a recorded answer for each. */
export const DEMO_OBSERVABLES: readonly DemoObservable[] = [
  {
    type: 'ipv4-addr',
    value: '64.62.197.76',
    description:
      'IPv4 with exposed services (SSH, RDP, HTTPS), CVEs, IDS and honeypot hits: critical inbound',
  },
  {
    type: 'ipv4-addr',
    value: '179.61.228.2',
    description: 'anonymising VPN exit (vpn and anonymous_vpn flags, OpenVPN port): dangerous inbound',
  },
  {
    type: 'ipv6-addr',
    value: '2606:4700:4700::1111',
    description: 'clean IPv6 address: safe, one DNS service',
  },
  {
    type: 'domain-name',
    value: 'google.com',
    description: 'domain with a recent full scan on record: the report is reused, no new scan',
  },
  {
    type: 'url',
    value: PHISHING_URL,
    description: 'phishing URL: no scan on record, so a full scan is started, polled and fetched',
  },
  {
    type: 'domain-name',
    value: 'secure-signin.xyz',
    description:
      "new domain enriched automatically: Criminal IP's quick verdict calls it malicious, one call and no scan",
    mode: 'auto',
  },
  {
    type: 'ipv4-addr',
    value: '8.8.8.8',
    description: 'IPv4 the demo marks TLP:RED: the max-TLP gate must keep it from Criminal IP',
    tlp: 'TLP:RED',
  },
];

const IP_REPORTS: Readonly<Record<string, unknown>> = {
  '64.62.197.76': servicesCves,
  '179.61.228.2': anonymousVpn,
  '2606:4700:4700::1111': cleanIpv6,
  '8.8.8.8': tlpRed,
};

/** Full reports by normalised URL (checked first) or by host name. */
const DOMAIN_REPORTS: Readonly<Record<string, unknown>> = {
  'google.com': googleReport,
  'www.google.com': googleReport,
  [PHISHING_URL]: phishingReport,
  'account-verify-paypal.com.secure-signin.xyz': phishingReport,
};

const LITE_REPORTS: Readonly<Record<string, unknown>> = {
  'naver.com': naverLite,
  'www.naver.com': naverLite,
};

/**
 * Quick verdicts (`/v1/domain/quick/hash/view`) by domain, in the shape of the public samples;
 * every other domain is `unknown`, as most are to the real service.
 */
const QUICK_VERDICTS: Readonly<Record<string, { result: string; type: string }>> = {
  'google.com': { result: 'safe', type: 'searchengine' },
  'naver.com': { result: 'safe', type: 'searchengine' },
  'example.com': { result: 'safe', type: 'trusted-domain' },
  'account-verify-paypal.com.secure-signin.xyz': { result: 'malicious', type: 'phishing' },
  'secure-signin.xyz': { result: 'malicious', type: 'phishing' },
};

/** GET /v1/domain/quick/hash/view for `domain` (its `www.` form reads as the domain). */
export function quickVerdictFor(domain: string, regTime: string): JsonRecord {
  const name = domain
    .trim()
    .toLowerCase()
    .replace(/^www\./, '');
  const known = QUICK_VERDICTS[name];
  return {
    call_count: known ? 21 : 0,
    domain: name,
    reg_dtime: regTime,
    result: known?.result ?? 'unknown',
    type: known?.type ?? '',
  };
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The address as the catalogue keys it ("2606:4700:4700:0::1111" and the short form are one). */
export function ipKey(ip: string): string {
  try {
    return ipaddr.parse(ip.trim()).toString().toLowerCase();
  } catch {
    return ip.trim().toLowerCase();
  }
}

/** GET /v1/asset/ip/report: the recorded body, or the plain one with `ip` filled in. */
export function ipReportFor(ip: string): JsonRecord {
  const recorded = IP_REPORTS[ipKey(ip)];
  if (recorded) return clone(recorded) as JsonRecord;
  return { ...(clone(defaultIpReport) as JsonRecord), ip: ip.trim() };
}

/** The URL a scan of `query` reports: a bare domain is echoed as http://domain, as the service does. */
export function scanUrlOf(query: string): string {
  const q = query.trim();
  return /^https?:\/\//i.test(q) ? q : `http://${q.toLowerCase()}`;
}

/** Host name of a scan query (domain or URL). */
export function hostOf(query: string): string {
  try {
    return new URL(scanUrlOf(query)).hostname.toLowerCase();
  } catch {
    return query.trim().toLowerCase();
  }
}

function fill(value: unknown, host: string, url: string): unknown {
  if (typeof value === 'string') return value.replaceAll('{{host}}', host).replaceAll('{{url}}', url);
  if (Array.isArray(value)) return value.map((v) => fill(v, host, url));
  const record = asRecord(value);
  if (!record) return value;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fill(v, host, url)]));
}

/** GET /v2/domain/report/{id}: the full report of a scan of `query`, stamped `reportTime`. */
export function domainReportFor(query: string, reportTime: string): JsonRecord {
  const url = scanUrlOf(query);
  const host = hostOf(query);
  const recorded = DOMAIN_REPORTS[url] ?? DOMAIN_REPORTS[host];
  const body = (recorded ? clone(recorded) : fill(clone(defaultDomainReport), host, url)) as JsonRecord;
  const data = asRecord(body.data);
  if (data) data.report_time = reportTime;
  return body;
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** GET /v1/domain/lite/report/{id}: recorded for naver.com, otherwise derived from the full report. */
export function liteReportFor(query: string, reportTime: string): JsonRecord {
  const recorded = LITE_REPORTS[hostOf(query)];
  if (recorded) return clone(recorded) as JsonRecord;
  const full = asRecord(domainReportFor(query, reportTime).data) ?? {};
  const info = asRecord(full.main_domain_info) ?? {};
  const score = asRecord(info.domain_score) ?? {};
  const summary = asRecord(full.summary) ?? {};
  const dns = asRecord(full.dns_record) ?? {};
  const typeA = asRecord(dns.dns_record_type_a) ?? {};
  const addresses = (list: unknown) => recordsOf(list).flatMap((r) => asString(r.ip) ?? []);
  const abuse = asRecord(summary.abuse_record) ?? {};
  return {
    data: {
      classification: {
        dga_score: asRecord(full.classification)?.dga_score,
        domain_type: recordsOf(asRecord(full.classification)?.domain_type).flatMap(
          (t) => asString(t.name) ?? [],
        ),
      },
      dns_record: {
        ...dns,
        // The lite report lists A records as plain strings, unlike the full report.
        dns_record_type_a: { ipv4: addresses(typeA.ipv4), ipv6: addresses(typeA.ipv6) },
      },
      domain_score: `${Number(score.score_percentage ?? 0)}% (${capitalised(scoreWord(score.score) ?? 'safe')})`,
      main_domain_info: {
        changed_url: info.changed_url,
        domain_created: info.domain_created,
        domain_registrar: info.domain_registrar,
        inserted_url: info.inserted_url,
        main_domain: info.main_domain,
      },
      mapped_ip: full.mapped_ip ?? [],
      real_ip: [],
      report_time: reportTime,
      summary: {
        abuse_record: { critical: abuse.critical ?? 0, dangerous: abuse.dangerous ?? 0, moderate: 0 },
        dga_score: summary.dga_score,
        fake_https_url: summary.fake_https_url,
        mail_server: summary.mail_server,
        overlong_domain: summary.overlong_domain,
        punycode: summary.punycode,
        real_ip: 0,
        symbol_url: summary.symbol_url,
        url_phishing_prob: summary.url_phishing_prob,
      },
    },
    message: 'api success',
    status: 200,
  };
}

const REMOTE_ACCESS_PORTS = new Set([22, 23, 3389, 5900]);

/** GET /v1/feature/ip/malicious-info, derived from the IP report (docs §7.3 field names). */
export function maliciousInfoFor(ip: string): JsonRecord {
  const report = ipReportFor(ip);
  const issues = asRecord(report.issues) ?? {};
  const score = asRecord(report.score) ?? {};
  const ports = recordsOf(report.port).map((p) => ({
    socket_type: p.socket,
    port: p.open_port_no,
    protocol: p.protocol,
    product_name: p.app_name,
    product_version: p.app_version,
    has_vulnerability: p.is_vulnerability,
    confirmed_time: p.confirmed_time,
  }));
  const remote = ports.filter((p) => REMOTE_ACCESS_PORTS.has(Number(p.port)));
  const words = [scoreWord(score.inbound), scoreWord(score.outbound)];
  return {
    ip: report.ip,
    is_malicious: words.some((w) => w === 'dangerous' || w === 'critical'),
    is_vpn: issues.is_vpn === true,
    is_anonymous_vpn: issues.is_anonymous_vpn === true,
    can_remote_access: remote.length > 0,
    current_opened_port: { count: ports.length, data: ports },
    remote_port: { count: remote.length, data: remote },
    vulnerability: {
      count: recordsOf(report.vulnerability).length,
      data: recordsOf(report.vulnerability).map((v) => {
        const portList = asRecord(v.open_port_no_list) ?? {};
        return {
          cve_id: v.cve_id,
          cwe_ids: recordsOf(v.list_cwe).map((c) => c.cwe_id),
          edb_ids: recordsOf(v.list_edb).map((e) => e.edb_id),
          ports: { tcp: portList.TCP ?? [], udp: portList.UDP ?? [] },
          cvssv2_vector: v.cvssv2_vector,
          cvssv2_score: v.cvssv2_score,
          cvssv3_vector: v.cvssv3_vector,
          cvssv3_score: v.cvssv3_score,
          product_name: v.app_name,
          product_version: v.app_version,
          product_vendor: v.vendor,
        };
      }),
    },
    ids: report.ids ?? { count: 0, data: [] },
    scanning_record: {
      count: recordsOf(report.honeypot).length,
      data: recordsOf(report.honeypot).map((h) => ({
        log_date: h.log_date,
        dst_port: h.dst_port,
        protocol_type: h.protocol_type,
        user_agent: h.user_agent,
        message: h.message,
        confirmed_time: h.confirmed_time,
      })),
    },
    ip_category: {
      count: recordsOf(report.ip_category).length,
      data: recordsOf(report.ip_category).map((c) => ({
        type: c.type,
        detect_source: c.detect_source,
        confirmed_time: c.confirmed_time,
      })),
    },
    status: 200,
  };
}

/** GET /v2/feature/ip/suspicious-info, derived from the IP report (docs §7.4 field names). */
export function suspiciousInfoFor(ip: string): JsonRecord {
  const report = ipReportFor(ip);
  const ports = recordsOf(report.port).map((p) => ({
    port: p.open_port_no,
    is_vulnerability: p.is_vulnerability,
    product_name: p.app_name,
    product_version: p.app_version,
    protocol: p.protocol,
    socket_type: p.socket,
    confirmed_time: p.confirmed_time,
  }));
  return {
    status: 200,
    ip: report.ip,
    abuse_record_count: recordsOf(report.ids).length + recordsOf(report.honeypot).length,
    score: report.score,
    issues: report.issues,
    current_opened_port: { count: ports.length, data: ports },
    ids: report.ids ?? { count: 0, data: [] },
    whois: report.whois ?? { count: 0, data: [] },
    representative_domain: asString(recordsOf(report.hostname)[0]?.domain_name_rep) ?? '',
  };
}
