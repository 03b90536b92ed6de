/**
 * Domain-name, hostname and URL scan report → STIX.
 *
 * DNS resolution (mapped_ip, A and AAAA records) and the hosts a page merely contacted while
 * loading (connected_ip, network logs, often third-party CDNs) are different facts: only the first
 * becomes resolves-to, the second is related-to. OpenCTI allows resolves-to only from a
 * Domain-Name, so a Hostname is related-to its addresses and a URL is related-to the Domain-Name of
 * its host, which resolves-to the addresses.
 */
import type { MappingSettings } from '../config';
import { quickVerdictOf } from '../criminalip/parse';
import {
  autonomousSystem,
  domainName as domainNameSco,
  isValidObservableValue,
  observable,
  url as urlSco,
  x509Certificate,
} from '../stix';
import { readDomainFacts, type DomainFacts, type HostIp } from './domain-facts';
import type { Findings } from './findings';
import type { Graph } from './graph';
import { LabelSet } from './labels';
import { addCountry } from './locations';
import { capitalised, mdCode, mdList, mdTable, mdText, moreLine, type SummarySection } from './markdown';
import { phishingFindings } from './phishing';
import { rate, reachesThreshold } from './scores';
import { checkName, nameCovers, urlHost } from './values';

const MAX_SUMMARY_ROWS = 10;

export interface DomainTarget {
  id: string;
  type: 'domain-name' | 'hostname' | 'url';
  value: string;
}

/**
 * Adds an IP with its AS and country; answers its id. The report rates the IPs it lists: that
 * rating becomes the IP's score and `ip score: <word>` label, at no extra call (the pipeline
 * then applies SCORE_UPDATE to it, as to the enriched observable).
 */
function addHostIp(graph: Graph, host: HostIp, settings: MappingSettings): string | undefined {
  const rated = rate(host.score, settings);
  const id = graph.add(
    `ip ${host.value}`,
    () =>
      observable(
        host.kind,
        host.value,
        graph.describingSco(rated ? { score: rated.score, labels: [`ip score: ${rated.word}`] } : {}),
      ),
    'describing',
  );
  if (!id) return undefined;
  if (host.asNumber !== undefined) {
    const number = host.asNumber;
    const asId = graph.addOnce(
      `autonomous system ${number}`,
      () => autonomousSystem(host.asName ? { number, name: host.asName } : { number }, graph.sharedSco()),
      'shared',
    );
    graph.relate('belongs-to', id, asId);
  }
  graph.relate('located-at', id, addCountry(graph, host.countryCode));
  return id;
}

/**
 * The object DNS answers hang from: the observable itself for a domain name or host name, the
 * Domain-Name of the host for a URL (linked to the URL with related-to).
 */
function resolutionSource(graph: Graph, target: DomainTarget): { id?: string; canResolve: boolean } {
  if (target.type === 'domain-name') return { id: target.id, canResolve: true };
  if (target.type === 'hostname') return { id: target.id, canResolve: false };
  const host = urlHost(target.value);
  const checked = host ? checkName('domain-name', host) : undefined;
  if (checked && !checked.ok && checked.name)
    graph.warn(`left out the URL's host "${host}": ${checked.reason}`);
  const domain = checked?.ok ? checked.value : undefined;
  if (!domain || !isValidObservableValue('domain-name', domain)) return { canResolve: false };
  const id = graph.add(`domain ${domain}`, () => domainNameSco(domain, graph.describingSco()), 'describing');
  graph.relate('related-to', target.id, id, 'Host of this URL');
  return { id, canResolve: true };
}

function addResolution(
  graph: Graph,
  target: DomainTarget,
  facts: DomainFacts,
  settings: MappingSettings,
): Set<string> {
  const resolved = new Set<string>();
  if (facts.resolved.length === 0) return resolved;
  const source = resolutionSource(graph, target);
  for (const host of facts.resolved) {
    const ipId = addHostIp(graph, host, settings);
    // With no Domain-Name to resolve from (a hostname, or a URL on a bare IP), the answer is still
    // recorded, as related-to from the observable.
    const linked = source.canResolve
      ? graph.relate('resolves-to', source.id, ipId)
      : graph.relate('related-to', target.id, ipId, 'DNS resolution of this host (Criminal IP scan)');
    if (linked) resolved.add(host.value);
  }
  return resolved;
}

function addContacted(
  graph: Graph,
  target: DomainTarget,
  facts: DomainFacts,
  resolved: Set<string>,
  settings: MappingSettings,
): number {
  const cap = settings.maxRelatedDomains;
  let linked = 0;
  for (const host of facts.contacted) {
    if (linked >= cap) break;
    if (resolved.has(host.value)) continue;
    const ipId = addHostIp(graph, host, settings);
    if (
      graph.relate(
        'related-to',
        target.id,
        ipId,
        'Contacted while loading the page (Criminal IP scan), not DNS resolution',
      )
    ) {
      linked += 1;
    }
  }
  return linked;
}

/** Hosts a certificate must name to be the page's own rather than a third party's. */
function pageHosts(target: DomainTarget, facts: DomainFacts): string[] {
  const hosts = [
    target.type === 'url' ? urlHost(target.value) : target.value,
    facts.mainDomain,
    facts.finalUrl ? urlHost(facts.finalUrl) : undefined,
    facts.insertedUrl ? urlHost(facts.insertedUrl) : undefined,
  ];
  return [...new Set(hosts.filter((h): h is string => h !== undefined).map((h) => h.toLowerCase()))];
}

function addCertificates(graph: Graph, target: DomainTarget, facts: DomainFacts): string[] {
  const hosts = pageHosts(target, facts);
  const subjects: string[] = [];
  for (const cert of facts.certificates) {
    const commonName = cert.subject.replace(/^.*\bCN\s*=\s*/i, '').split(/[,/]/)[0] ?? cert.subject;
    if (!hosts.some((host) => nameCovers(commonName, host))) continue;
    const id = graph.add(
      `certificate ${cert.subject}`,
      () =>
        x509Certificate(
          {
            subject: cert.subject,
            ...(cert.issuer ? { issuer: cert.issuer } : {}),
            ...(cert.notBefore ? { validity_not_before: cert.notBefore } : {}),
            ...(cert.notAfter ? { validity_not_after: cert.notAfter } : {}),
          },
          graph.describingSco(),
        ),
      'describing',
    );
    if (graph.relate('related-to', target.id, id, 'TLS certificate served by this site (Criminal IP scan)')) {
      subjects.push(cert.subject);
    }
  }
  return subjects;
}

function addRedirects(graph: Graph, target: DomainTarget, facts: DomainFacts, cap: number): string[] {
  const linked: string[] = [];
  for (const redirect of facts.redirects) {
    if (linked.length >= cap) break;
    if (target.type === 'url' && redirect === target.value) continue;
    const id = graph.add(`url ${redirect}`, () => urlSco(redirect, graph.describingSco()), 'describing');
    if (graph.relate('related-to', target.id, id, 'Redirect target (Criminal IP scan)'))
      linked.push(redirect);
  }
  return linked;
}

function dnsSection(facts: DomainFacts): SummarySection | undefined {
  if (facts.resolved.length === 0) return undefined;
  const rows = facts.resolved
    .slice(0, MAX_SUMMARY_ROWS)
    .map((h) => [
      mdCode(h.value),
      h.asNumber !== undefined ? `AS${h.asNumber}` : '',
      mdText(h.asName ?? ''),
      mdText(h.countryCode?.toUpperCase() ?? ''),
      h.score ? capitalised(h.score) : '',
    ]);
  const more = moreLine(rows.length, facts.resolved.length);
  return {
    title: 'DNS resolution',
    body: mdTable(['Address', 'AS', 'Network', 'Country', 'Score'], rows) + (more ? `\n\n${more}` : ''),
  };
}

function pageSection(
  facts: DomainFacts,
  contacted: number,
  certificates: string[],
  redirects: string[],
): SummarySection | undefined {
  const lines: string[] = [];
  if (facts.title) lines.push(`Title: ${mdText(facts.title)}`);
  if (facts.finalUrl) lines.push(`Landing URL: ${mdCode(facts.finalUrl)}`);
  if (redirects.length > 0) lines.push(`Redirects to: ${redirects.slice(0, 5).map(mdCode).join(', ')}`);
  if (facts.contacted.length > 0) {
    const risky = facts.contacted.filter((h) => h.score === 'dangerous' || h.score === 'critical');
    lines.push(
      `Contacted ${facts.contacted.length} addresses while loading (${contacted} linked)` +
        (risky.length > 0
          ? `, rated dangerous or critical: ${risky
              .slice(0, 5)
              .map((h) => mdCode(h.value))
              .join(', ')}`
          : ''),
    );
  }
  if (certificates.length > 0)
    lines.push(
      `Certificates: ${certificates
        .slice(0, 5)
        .map((c) => mdText(c))
        .join(', ')}`,
    );
  if (facts.technologies.length > 0)
    lines.push(`Technologies: ${mdText(facts.technologies.slice(0, 10).join(', '))}`);
  if (facts.countries.length > 0) lines.push(`Server countries: ${mdText(facts.countries.join(', '))}`);
  if (facts.subdomainCount > 0) lines.push(`Known subdomains: ${facts.subdomainCount}`);
  return lines.length > 0 ? { title: 'Page', body: mdList(lines) } : undefined;
}

/** Maps a domain scan report (full, or lite when no full report is given) into the graph. */
/** Criminal IP's quick verdict (`/v1/domain/quick/hash/view`), when it decided. */
type QuickFacts = NonNullable<ReturnType<typeof quickVerdictOf>>;

/** The summary line of a quick verdict, alone or beside a report. */
function quickFact(quick: QuickFacts): [string, string] {
  return ['Quick verdict', `${capitalised(quick.result)}${quick.type ? ` (${mdText(quick.type)})` : ''}`];
}

/**
 * A quick verdict and no report (scan mode auto): `malicious` scores as `dangerous`, `safe` as
 * `safe`, each with its label; a malicious verdict that reaches the threshold gives an Indicator.
 */
function quickFindings(findings: Findings, quick: QuickFacts, settings: MappingSettings): Findings {
  const rated = rate(quick.result === 'malicious' ? 'dangerous' : 'safe', settings)!;
  findings.labels.add(`quick verdict: ${quick.result}`);
  findings.score = rated.score;
  findings.evidence = rated.score;
  findings.facts.push(quickFact(quick), ['Score', `${rated.score}/100`]);
  if (quick.result === 'malicious' && reachesThreshold(rated.score, settings)) {
    findings.indicatorReasons.push('Criminal IP quick verdict: malicious');
  }
  return findings;
}

export function mapDomain(
  graph: Graph,
  target: DomainTarget,
  intel: { scanId?: string; report?: unknown; liteReport?: unknown; quick?: unknown },
  settings: MappingSettings,
): Findings {
  const body = intel.report !== undefined && intel.report !== null ? intel.report : intel.liteReport;
  const facts = readDomainFacts(body);
  const quick = quickVerdictOf(intel.quick);
  const labels = new LabelSet();
  const scanId = (intel.scanId ?? '').trim();
  const findings: Findings = {
    labels,
    heading: `**Criminal IP** scan of ${mdCode(target.value)}${facts.reportTime ? ` (${facts.reportTime.toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}`,
    facts: [],
    sections: [],
    indicatorReasons: [],
    externalReference:
      scanId !== ''
        ? {
            source_name: 'Criminal IP',
            url: `https://www.criminalip.io/domain/report?scan_id=${encodeURIComponent(scanId)}`,
            external_id: scanId,
            description: 'Criminal IP domain scan report',
          }
        : undefined,
  };
  if (body === undefined && quick) {
    findings.heading = `**Criminal IP** quick verdict on ${mdCode(target.value)}`;
    return quickFindings(findings, quick, settings);
  }
  if (facts.empty) {
    graph.warn('the domain report holds none of the expected sections: only the observable was updated');
    return findings;
  }
  if (quick) findings.facts.push(quickFact(quick));

  const rated = rate(facts.score, settings);
  const phishing = phishingFindings(facts.signals, settings.phishingThreshold);
  labels.add(...(rated ? [`domain score: ${rated.word}`] : []), ...phishing.labels, ...facts.categories);
  findings.score = scoreOf(rated?.score, facts.signals.phishingProbability, settings.phishingThreshold);
  if (rated) {
    const percent = facts.scorePercentage !== undefined ? `, ${facts.scorePercentage}%` : '';
    findings.facts.push(['Domain score', `${capitalised(rated.word)}${percent}`]);
    if (reachesThreshold(rated.score, settings)) {
      findings.indicatorReasons.push(
        `rated ${capitalised(rated.word)} (indicator threshold ${capitalised(settings.indicatorThreshold)})`,
      );
    }
  }
  if (findings.score !== undefined) findings.facts.push(['Score', `${findings.score}/100`]);
  findings.evidence = facts.signals.phishingProbability ?? findings.score;
  findings.indicatorReasons.push(...phishing.indicatorReasons);
  findings.facts.push(...phishing.facts);
  if (facts.categories.length > 0) findings.facts.push(['Categories', mdText(facts.categories.join(', '))]);
  if (facts.registrar || facts.created) {
    findings.facts.push([
      'Registration',
      mdText([facts.registrar, facts.created && `created ${facts.created}`].filter(Boolean).join(', ')),
    ]);
  }

  const resolved = addResolution(graph, target, facts, settings);
  const contacted = addContacted(graph, target, facts, resolved, settings);
  const certificates = addCertificates(graph, target, facts);
  const redirects = addRedirects(graph, target, facts, settings.maxRelatedDomains);

  findings.sections.push(
    ...[phishing.section, dnsSection(facts), pageSection(facts, contacted, certificates, redirects)].filter(
      (s): s is SummarySection => s !== undefined,
    ),
  );
  return findings;
}

/**
 * The domain's score: the configured score of Criminal IP's word, raised to the phishing
 * probability when that reaches the phishing threshold (a 95 % phishing page scores at least 95).
 */
function scoreOf(
  wordScore: number | undefined,
  probability: number | undefined,
  threshold: number,
): number | undefined {
  if (probability !== undefined && probability >= threshold)
    return Math.max(wordScore ?? 0, Math.round(probability));
  return wordScore;
}
