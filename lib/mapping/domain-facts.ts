/**
 * Reads what the mapping uses from a Criminal IP domain scan report, full (`/v2/domain/report`) or
 * lite (`/v1/domain/lite/report`), into plain typed facts. The two shapes overlap; where they
 * differ (the lite `domain_score` is a string like "20% (Safe)", its A records are bare strings)
 * both are accepted.
 */
import type { ScoreWord } from '../config';
import {
  at,
  bool,
  isRecord,
  items,
  num,
  payload,
  record,
  recordItems,
  str,
  time,
  type JsonRecord,
} from './read';
import { probability, scorePercentage, scoreWord } from './scores';
import { asnOf, httpUrl, ipFromHostPort, ipKind, type IpKind } from './values';

export interface HostIp {
  value: string;
  kind: IpKind;
  asNumber?: number;
  asName?: string;
  countryCode?: string;
  score?: ScoreWord;
}

export interface CertificateFact {
  subject: string;
  issuer?: string;
  notBefore?: Date;
  notAfter?: Date;
}

/** Phishing and impersonation signals of the report's `summary` (absent when not reported). */
export interface PhishingSignals {
  phishingProbability?: number;
  credentialInput?: string;
  suspiciousFiles?: number;
  faviconCheck?: string;
  fakeDomain?: boolean;
  domainInSubdomain?: boolean;
  punycode?: boolean;
  fakeHttps?: boolean;
  symbolUrl?: boolean;
  newbornDomain?: string;
  dgaScore?: number;
  invalidCertificate?: boolean;
  certificateProblem?: string;
  phishingRecords?: number;
  abuseCritical?: number;
  abuseDangerous?: number;
  obfuscatedScripts?: number;
  hiddenIframes?: number;
  safeBrowsing: string[];
  exposedFiles: string[];
}

export interface DomainFacts {
  reportTime?: Date;
  mainDomain?: string;
  insertedUrl?: string;
  finalUrl?: string;
  title?: string;
  registrar?: string;
  created?: string;
  score?: ScoreWord;
  scorePercentage?: number;
  categories: string[];
  /** DNS resolution of the scanned host: mapped_ip and the A / AAAA records. */
  resolved: HostIp[];
  /** Hosts the page contacted while loading (connected_ip, connected_ip_info, network_logs). */
  contacted: HostIp[];
  certificates: CertificateFact[];
  /** Redirect targets, in chain order, without each chain's starting URL. */
  redirects: string[];
  signals: PhishingSignals;
  countries: string[];
  technologies: string[];
  subdomainCount: number;
  empty: boolean;
}

// Keys only a report payload has at its top level (the domain endpoints wrap it in `data`).
const DOMAIN_MARKERS = [
  'main_domain_info',
  'summary',
  'mapped_ip',
  'dns_record',
  'domain_score',
  'classification',
  'connected_ip',
  'connected_ip_info',
  'network_logs',
  'certificates',
  'main_certificate',
  'page_redirections',
  'report_time',
];

/** Merges host facts by address, keeping the first value of each field. */
class HostTable {
  private readonly hosts = new Map<string, HostIp>();

  add(ip: string | undefined, extra: Omit<HostIp, 'value' | 'kind'> = {}): void {
    const kind = ip ? ipKind(ip) : undefined;
    if (!ip || !kind) return;
    const known = this.hosts.get(ip);
    // A plain loop: network logs repeat the same few hosts dozens of times.
    const fields: Record<string, unknown> = {};
    for (const key in extra) {
      const value = (extra as Record<string, unknown>)[key];
      if (value !== undefined) fields[key] = value;
    }
    const defined = fields as Omit<HostIp, 'value' | 'kind'>;
    this.hosts.set(ip, known ? { ...defined, ...known } : { value: ip, kind, ...defined });
  }

  get(ip: string): HostIp | undefined {
    return this.hosts.get(ip);
  }

  values(): HostIp[] {
    return [...this.hosts.values()];
  }
}

function hostExtra(item: JsonRecord): Omit<HostIp, 'value' | 'kind'> {
  return {
    asNumber: asnOf(item.asn ?? item.as_number ?? item.as_no),
    asName: str(item.as_name),
    countryCode: str(item.country ?? item.country_code),
    score: scoreWord(item.score),
  };
}

function resolvedHosts(data: JsonRecord, contacted: HostTable): HostIp[] {
  const table = new HostTable();
  for (const m of recordItems(data.mapped_ip)) table.add(str(m.ip), hostExtra(m));
  const a = record(at(data, 'dns_record', 'dns_record_type_a'));
  for (const entry of [...items(a.ipv4), ...items(a.ipv6)]) {
    // Full reports list {ip, score}; lite reports list bare address strings.
    table.add(isRecord(entry) ? str(entry.ip) : str(entry), isRecord(entry) ? hostExtra(entry) : {});
  }
  // What the page's connections tell about the same addresses (AS number, country) fills the gaps.
  for (const host of table.values()) {
    const seen = contacted.get(host.value);
    if (seen)
      table.add(host.value, { asNumber: seen.asNumber, asName: seen.asName, countryCode: seen.countryCode });
  }
  return table.values();
}

function contactedHosts(data: JsonRecord): HostTable {
  const table = new HostTable();
  for (const c of recordItems(data.connected_ip_info)) table.add(str(c.ip), hostExtra(c));
  for (const c of recordItems(data.connected_ip)) table.add(str(c.ip), hostExtra(c));
  for (const log of recordItems(data.network_logs)) {
    const address = str(log.ip_port);
    table.add(address ? ipFromHostPort(address) : undefined, hostExtra(log));
  }
  return table;
}

function certificatesOf(data: JsonRecord): CertificateFact[] {
  const main = record(data.main_certificate);
  const raw = [
    { subject: main.subject, issuer: main.issuer, notBefore: main.startdate, notAfter: main.enddate },
    ...recordItems(data.certificates).map((c) => ({
      subject: c.subject,
      issuer: c.issuer,
      notBefore: c.valid_from,
      notAfter: c.valid_to,
    })),
  ];
  return raw.flatMap((c) => {
    const subject = str(c.subject);
    if (!subject || subject.length > 500) return [];
    return [{ subject, issuer: str(c.issuer), notBefore: time(c.notBefore), notAfter: time(c.notAfter) }];
  });
}

function redirectsOf(data: JsonRecord, finalUrl: string | undefined): string[] {
  const urls = new Set<string>();
  for (const chain of items(data.page_redirections)) {
    items(chain)
      .slice(1)
      .forEach((hop) => {
        const url = httpUrl(str(record(hop).url) ?? '');
        if (url) urls.add(url);
      });
  }
  if (finalUrl) urls.add(finalUrl);
  return [...urls];
}

function signalsOf(data: JsonRecord): PhishingSignals {
  const summary = record(data.summary);
  const classification = record(data.classification);
  const fakeSsl = record(summary.fake_ssl);
  const exposure = record(data.file_exposure);
  return {
    phishingProbability: probability(summary.url_phishing_prob),
    credentialInput: str(summary.cred_input),
    suspiciousFiles: num(summary.suspicious_file),
    faviconCheck: str(summary.diff_domain_favicon),
    fakeDomain: bool(summary.fake_domain),
    domainInSubdomain: bool(summary.domain_in_subdomain ?? summary.subdomain),
    punycode: bool(summary.punycode),
    fakeHttps: bool(summary.fake_https_url),
    symbolUrl: bool(summary.symbol_url),
    newbornDomain: str(summary.newborn_domain),
    dgaScore: num(summary.dga_score) ?? num(classification.dga_score),
    invalidCertificate: bool(fakeSsl.invalid),
    certificateProblem: str(fakeSsl.category),
    phishingRecords: num(summary.phishing_record),
    abuseCritical: num(at(summary, 'abuse_record', 'critical')),
    abuseDangerous: num(at(summary, 'abuse_record', 'dangerous')),
    obfuscatedScripts: num(summary.js_obfuscated),
    hiddenIframes: num(summary.hidden_iframe),
    safeBrowsing: items(classification.google_safe_browsing)
      .map((entry) => (isRecord(entry) ? str(entry.threat_type ?? entry.type ?? entry.name) : str(entry)))
      .filter((entry): entry is string => entry !== undefined),
    exposedFiles: Object.entries(exposure)
      .filter(([, value]) => bool(value) === true)
      .map(([key]) => key),
  };
}

/** Reads a domain report body (full or lite, wrapped in `data` or not). */
export function readDomainFacts(body: unknown): DomainFacts {
  const data = payload(body, DOMAIN_MARKERS);
  const info = record(data.main_domain_info);
  const scoreField = info.domain_score ?? data.domain_score;
  const scoreText = isRecord(scoreField) ? scoreField.score : scoreField;
  const finalUrl = httpUrl(str(info.changed_url) ?? '');
  const contacted = contactedHosts(data);

  return {
    reportTime: time(data.report_time),
    mainDomain: str(info.main_domain),
    insertedUrl: str(info.inserted_url),
    finalUrl,
    title: str(info.title),
    registrar: str(info.domain_registrar),
    created: str(info.domain_created),
    score: scoreWord(scoreText),
    scorePercentage: isRecord(scoreField) ? num(scoreField.score_percentage) : scorePercentage(scoreField),
    categories: items(at(data, 'classification', 'domain_type'))
      .map((entry) => (isRecord(entry) ? str(entry.name) : str(entry)))
      .filter((entry): entry is string => entry !== undefined),
    resolved: resolvedHosts(data, contacted),
    contacted: contacted.values(),
    certificates: certificatesOf(data),
    redirects: redirectsOf(data, finalUrl),
    signals: signalsOf(data),
    countries: items(at(data, 'summary', 'list_of_countries'))
      .map(str)
      .filter((c): c is string => c !== undefined),
    technologies: recordItems(data.technologies)
      .map((t) => [str(t.name), str(t.version)].filter(Boolean).join(' '))
      .filter((t) => t !== ''),
    subdomainCount: items(data.subdomains).length,
    empty: !DOMAIN_MARKERS.some((key) => key in data),
  };
}
