/**
 * Reads what the mapping uses from Criminal IP's IP answers (asset report, malicious-info,
 * suspicious-info) into plain typed facts. Reading is separate from STIX building so that every
 * tolerance rule (missing sections, numbers as strings, any case) lives in one place.
 */
import type { ScoreWord } from '../config';
import {
  at,
  bool,
  isRecord,
  newestFirst,
  num,
  payload,
  record,
  recordItems,
  str,
  time,
  type JsonRecord,
} from './read';
import { scoreWord } from './scores';
import { ISSUE_LABELS, MALICIOUS_INFO_LABELS } from './labels';
import { asnOf, cveId, ipKind, type IpKind } from './values';

export interface Whois {
  asNumber?: number;
  asName?: string;
  orgName?: string;
  city?: string;
  region?: string;
  countryCode?: string;
  latitude?: number;
  longitude?: number;
}

export interface RelatedName {
  value: string;
  seen?: Date;
}

export interface Service {
  port: number;
  socket: string;
  protocol?: string;
  product?: string;
  version?: string;
  technologies: string[];
  tags: string[];
  seen?: Date;
}

export interface VulnerabilityFact {
  cve: string;
  description?: string;
  cvss3?: number;
  cvss3Vector?: string;
  cvss2?: number;
  product?: string;
  version?: string;
}

export interface IdsRecord {
  seen?: Date;
  classification?: string;
  message?: string;
  source?: string;
}

export interface HoneypotRecord {
  seen?: Date;
  attacker?: string;
  port?: number;
  protocol?: string;
  message?: string;
  userAgent?: string;
}

export interface Category {
  type: string;
  source?: string;
}

export interface IpFacts {
  /** The IP the report is about, when it says. */
  reportedIp?: string;
  inbound?: ScoreWord;
  outbound?: ScoreWord;
  /** Labels of the flags that are set (issues and malicious-info), in a stable order. */
  flags: string[];
  categories: Category[];
  whois: Whois[];
  protectedIps: Array<{ value: string; kind: IpKind }>;
  domains: RelatedName[];
  domainTotal?: number;
  hostnames: RelatedName[];
  services: Service[];
  vulnerabilities: VulnerabilityFact[];
  ids: IdsRecord[];
  honeypot: HoneypotRecord[];
  vpns: Array<{ name: string; url?: string; anonymous: boolean }>;
  webcams: Array<{ port?: number; manufacturer?: string }>;
  mobile: Array<{ broadband?: string; organization?: string }>;
  abuseRecords?: number;
  /** True when none of the bodies held anything this mapping understands. */
  empty: boolean;
}

// Keys only an IP payload has at its top level (the IP endpoints are not wrapped in `data`).
const IP_MARKERS = ['ip', 'issues', 'score', 'whois', 'port', 'is_malicious', 'current_opened_port'];

const UNKNOWN_PRODUCTS = new Set(['unknown', 'n/a', 'na', '-', 'none', 'null']);

function product(value: unknown): string | undefined {
  const text = str(value);
  return text && !UNKNOWN_PRODUCTS.has(text.toLowerCase()) && text.length <= 200 ? text : undefined;
}

function port(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

function cvss(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && n >= 0 && n <= 10 ? n : undefined;
}

const ISSUE_FLAGS = Object.entries(ISSUE_LABELS);
const MALICIOUS_INFO_FLAGS = Object.entries(MALICIOUS_INFO_LABELS);

function flagsOf(bodies: JsonRecord[]): string[] {
  const set = new Set<string>();
  for (const body of bodies) {
    const issues = record(body.issues);
    for (const [key, label] of ISSUE_FLAGS) if (bool(issues[key]) === true) set.add(label);
    for (const [key, label] of MALICIOUS_INFO_FLAGS) if (bool(body[key]) === true) set.add(label);
  }
  return [...set];
}

function whoisOf(section: unknown): Whois[] {
  return newestFirst(recordItems(section)).map((w) => ({
    asNumber: asnOf(w.as_no),
    asName: str(w.as_name),
    orgName: str(w.org_name),
    city: str(w.city),
    region: str(w.region),
    countryCode: str(w.org_country_code),
    latitude: num(w.latitude),
    longitude: num(w.longitude),
  }));
}

function servicesOf(bodies: JsonRecord[]): Service[] {
  const all: Service[] = [];
  for (const body of bodies) {
    // The asset report's `port` section, then the feature endpoints' `current_opened_port` / `remote_port`.
    for (const section of [body.port, body.current_opened_port, body.remote_port]) {
      for (const p of recordItems(section)) {
        const number = port(p.open_port_no ?? p.port);
        if (number === undefined) continue;
        all.push({
          port: number,
          socket: (str(p.socket ?? p.socket_type) ?? 'tcp').toLowerCase(),
          protocol: str(p.protocol),
          product: product(p.app_name ?? p.product_name),
          version: product(p.app_version ?? p.product_version),
          technologies: recordItems(p.technologies)
            .map((t) => [str(t.tech_name), product(t.tech_version)].filter(Boolean).join(' '))
            .filter((t) => t !== ''),
          tags: (Array.isArray(p.tags) ? p.tags : []).map(str).filter((t): t is string => t !== undefined),
          seen: time(p.confirmed_time),
        });
      }
    }
  }
  // Criminal IP keeps historical records per port: keep the latest one per port and socket.
  const latest = new Map<string, Service>();
  for (const service of all) {
    const key = `${service.port}/${service.socket}`;
    const kept = latest.get(key);
    if (!kept || (service.seen?.getTime() ?? -Infinity) > (kept.seen?.getTime() ?? -Infinity)) {
      latest.set(key, service);
    }
  }
  return [...latest.values()].sort((a, b) => a.port - b.port || a.socket.localeCompare(b.socket));
}

function vulnerabilitiesOf(bodies: JsonRecord[]): VulnerabilityFact[] {
  const byCve = new Map<string, VulnerabilityFact>();
  for (const body of bodies) {
    for (const v of recordItems(body.vulnerability)) {
      const cve = cveId(str(v.cve_id) ?? '');
      if (!cve) continue;
      const fact: VulnerabilityFact = {
        cve,
        description: str(v.cve_description),
        cvss3: cvss(v.cvssv3_score),
        cvss3Vector: str(v.cvssv3_vector),
        cvss2: cvss(v.cvssv2_score),
        product: product(v.app_name ?? v.product_name),
        version: product(v.app_version ?? v.product_version),
      };
      const known = byCve.get(cve);
      // The same CVE from two endpoints: keep the first values, fill what the first lacked.
      byCve.set(cve, known ? { ...fact, ...stripUndefined(known) } : fact);
    }
  }
  return [...byCve.values()];
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Newest first, as newestFirst orders them; each timestamp is read once (lists run to thousands). */
function relatedNames(section: unknown, field: string): RelatedName[] {
  return recordItems(section)
    .map((item, index) => ({ value: str(item[field]) ?? '', seen: time(item.confirmed_time), index }))
    .filter((item) => item.value !== '')
    .sort((a, b) => (b.seen?.getTime() ?? -Infinity) - (a.seen?.getTime() ?? -Infinity) || a.index - b.index)
    .map(({ value, seen }) => ({ value, seen }));
}

/** Reads the IP answers. Bodies of the wrong shape count as absent. */
export function readIpFacts(report: unknown, maliciousInfo?: unknown, suspiciousInfo?: unknown): IpFacts {
  const main = payload(report, IP_MARKERS);
  const malicious = payload(maliciousInfo, IP_MARKERS);
  const suspicious = payload(suspiciousInfo, IP_MARKERS);
  const bodies = [main, malicious, suspicious];

  const protectedIps: IpFacts['protectedIps'] = [];
  for (const item of recordItems(main.protected_ip)) {
    const value = str(item.ip_address);
    const kind = value ? ipKind(value) : undefined;
    if (value && kind) protectedIps.push({ value, kind });
  }

  const categories: Category[] = [];
  for (const body of bodies) {
    for (const c of recordItems(body.ip_category)) {
      const type = str(c.type);
      if (type) categories.push({ type, source: str(c.detect_source) });
    }
  }

  const domains = relatedNames(main.domain, 'domain');
  const representative = str(suspicious.representative_domain);
  if (representative) domains.unshift({ value: representative });

  const ids: IdsRecord[] = bodies.flatMap((body) =>
    newestFirst(recordItems(body.ids)).map((r) => ({
      seen: time(r.confirmed_time),
      classification: str(r.classification),
      message: str(r.message),
      source: str(r.source_system),
    })),
  );

  const honeypot: HoneypotRecord[] = [main.honeypot, malicious.scanning_record].flatMap((section) =>
    newestFirst(recordItems(section)).map((h) => ({
      seen: time(h.confirmed_time ?? h.log_date),
      attacker: str(h.ip_address),
      port: port(h.dst_port),
      protocol: str(h.protocol_type),
      message: str(h.message),
      userAgent: str(h.user_agent),
    })),
  );

  const vpns = [
    ...recordItems(main.vpn).map((v) => ({ v, anonymous: false })),
    ...recordItems(main.anonymous_vpn).map((v) => ({ v, anonymous: true })),
  ].flatMap(({ v, anonymous }) => {
    const name = str(v.vpn_name);
    return name ? [{ name, url: str(v.vpn_url), anonymous }] : [];
  });

  const facts: IpFacts = {
    reportedIp: str(main.ip) ?? str(suspicious.ip) ?? str(malicious.ip),
    inbound: scoreWord(at(main, 'score', 'inbound')) ?? scoreWord(at(suspicious, 'score', 'inbound')),
    outbound: scoreWord(at(main, 'score', 'outbound')) ?? scoreWord(at(suspicious, 'score', 'outbound')),
    flags: flagsOf(bodies),
    categories,
    whois: [...whoisOf(main.whois), ...whoisOf(suspicious.whois)],
    protectedIps,
    domains,
    domainTotal: num(at(main, 'domain', 'count')),
    hostnames: relatedNames(main.hostname, 'domain_name_full'),
    services: servicesOf(bodies),
    vulnerabilities: vulnerabilitiesOf([main, malicious]),
    ids,
    honeypot,
    vpns,
    webcams: recordItems(main.webcam).map((w) => ({
      port: port(w.open_port_no),
      manufacturer: str(w.manufacturer),
    })),
    mobile: recordItems(main.mobile).map((m) => ({
      broadband: str(m.broadband),
      organization: str(m.organization),
    })),
    abuseRecords: num(suspicious.abuse_record_count),
    empty: false,
  };
  facts.empty = !bodies.some((body) => isRecord(body) && IP_MARKERS.some((key) => key in body));
  return facts;
}
