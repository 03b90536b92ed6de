/**
 * IPv4 / IPv6 report → STIX.
 *
 * Relationship choices follow what OpenCTI 6.9 accepts (docs/opencti.md §6, stixCoreRelationshipsMapping):
 * IP belongs-to Autonomous-System, IP located-at City/Country, City located-at Country,
 * Domain-Name resolves-to IP. A Hostname may not resolve-to an IP in OpenCTI, so reverse-DNS host
 * names are linked with related-to; IPs reach Software and Vulnerabilities only through related-to.
 */
import type { MappingSettings } from '../config';
import {
  autonomousSystem,
  domainName as domainNameSco,
  hostname as hostnameSco,
  isValidObservableValue,
  observable,
} from '../stix';
import { findCountry } from './countries';
import type { Findings } from './findings';
import type { Graph } from './graph';
import { readIpFacts, type IpFacts } from './ip-facts';
import { LabelSet, normaliseLabel } from './labels';
import { addCity, addCountry } from './locations';
import { capitalised, mdCode, mdList, mdTable, mdText, moreLine, type SummarySection } from './markdown';
import { applyPolicy, rate, reachesThreshold } from './scores';
import { addServices } from './services';
import { checkName, type NameKind } from './values';

const MAX_SUMMARY_ROWS = 10;

export interface IpTarget {
  id: string;
  type: 'ipv4-addr' | 'ipv6-addr';
  value: string;
}

function day(date: Date | undefined): string {
  return date ? date.toISOString().slice(0, 10) : '';
}

function addNetwork(graph: Graph, target: IpTarget, facts: IpFacts): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const withAs = facts.whois.find((w) => w.asNumber !== undefined);
  if (withAs?.asNumber !== undefined) {
    const number = withAs.asNumber;
    const asId = graph.addOnce(
      `autonomous system ${number}`,
      () => autonomousSystem(withAs.asName ? { number, name: withAs.asName } : { number }, graph.sharedSco()),
      'shared',
    );
    graph.relate('belongs-to', target.id, asId);
    rows.push(['Network', mdText(`AS${number}${withAs.asName ? ` ${withAs.asName}` : ''}`)]);
  }
  const located = facts.whois.find((w) => w.countryCode !== undefined || w.city !== undefined);
  if (located) {
    const countryId = addCountry(graph, located.countryCode);
    const cityId = addCity(graph, located.city, located.countryCode, located.latitude, located.longitude);
    // The IP sits at the most precise place known: the city (itself located-at its country).
    graph.relate('located-at', target.id, cityId ?? countryId);
    const countryName = located.countryCode ? findCountry(located.countryCode)?.name : undefined;
    const place = [located.city, located.region, countryName ?? located.countryCode]
      .filter(Boolean)
      .join(', ');
    if (place) rows.push(['Location', mdText(place)]);
  }
  const org = facts.whois.find((w) => w.orgName)?.orgName;
  if (org) rows.push(['Owner', mdText(org)]);
  return rows;
}

function addRelatedNames(
  graph: Graph,
  target: IpTarget,
  facts: IpFacts,
  cap: number,
): Array<[string, string]> {
  let budget = cap;
  const linked = new Set<string>();
  const refused: string[] = [];
  const accept = (kind: NameKind, raw: string): string | undefined => {
    const checked = checkName(kind, raw);
    if (checked.ok) return checked.value;
    if (checked.name && !refused.includes(raw)) {
      refused.push(raw);
      graph.warn(`left out ${kind} "${raw}": ${checked.reason}`);
    }
    return undefined;
  };
  // Reverse-DNS names first: there are few of them and they name this very host.
  for (const host of facts.hostnames) {
    if (budget <= 0) break;
    const value = accept('hostname', host.value);
    if (!value || linked.has(`h:${value}`) || !isValidObservableValue('hostname', value)) continue;
    const id = graph.add(`hostname ${value}`, () => hostnameSco(value, graph.describingSco()), 'describing');
    if (graph.relate('related-to', id, target.id, 'Reverse DNS host name (Criminal IP)')) {
      linked.add(`h:${value}`);
      budget -= 1;
    }
  }
  for (const domain of facts.domains) {
    if (budget <= 0) break;
    const value = accept('domain-name', domain.value);
    if (!value || linked.has(`d:${value}`) || !isValidObservableValue('domain-name', value)) continue;
    const id = graph.add(`domain ${value}`, () => domainNameSco(value, graph.describingSco()), 'describing');
    if (graph.relate('resolves-to', id, target.id)) {
      linked.add(`d:${value}`);
      budget -= 1;
    }
  }
  const rows: Array<[string, string]> = [];
  if (facts.hostnames.length > 0) {
    rows.push([
      'Host names',
      facts.hostnames
        .slice(0, 5)
        .map((h) => mdCode(h.value))
        .join(', '),
    ]);
  }
  if (refused.length > 0) {
    const shown = refused.slice(0, 5).map((name) => mdCode(name));
    if (refused.length > 5) shown.push(`and ${refused.length - 5} more`);
    rows.push(['Names left out (OpenCTI would refuse them)', shown.join(', ')]);
  }
  const total = Math.max(facts.domainTotal ?? 0, facts.domains.length);
  if (total > 0) rows.push(['Domains pointing here', `${total} (${facts.domains.length} listed)`]);
  return rows;
}

function addProtectedIps(graph: Graph, target: IpTarget, facts: IpFacts): Array<[string, string]> {
  const shown: string[] = [];
  for (const real of facts.protectedIps) {
    if (real.value === target.value) continue;
    const id = graph.add(
      `protected ip ${real.value}`,
      () => observable(real.kind, real.value, graph.describingSco()),
      'describing',
    );
    if (
      graph.relate('related-to', target.id, id, 'Real IP behind this CDN address (Criminal IP protected_ip)')
    ) {
      shown.push(mdCode(real.value));
    }
  }
  return shown.length > 0 ? [['Real IP behind CDN', shown.join(', ')]] : [];
}

function contextSections(facts: IpFacts): SummarySection[] {
  const sections: SummarySection[] = [];
  if (facts.vpns.length > 0) {
    const lines = facts.vpns
      .slice(0, MAX_SUMMARY_ROWS)
      .map(
        (v) =>
          `${mdText(v.name)}${v.url ? ` (${mdCode(v.url)})` : ''}${v.anonymous ? ', anonymous VPN' : ''}`,
      );
    const more = moreLine(lines.length, facts.vpns.length);
    sections.push({ title: 'VPN / proxy providers', body: mdList(more ? [...lines, more] : lines) });
  }
  if (facts.ids.length > 0) {
    const rows = facts.ids
      .slice(0, MAX_SUMMARY_ROWS)
      .map((r) => [
        day(r.seen),
        mdText(r.classification ?? ''),
        mdText(r.message ?? ''),
        mdText(r.source ?? ''),
      ]);
    const more = moreLine(rows.length, facts.ids.length);
    sections.push({
      title: 'IDS alerts',
      body: mdTable(['Seen', 'Class', 'Rule', 'Sensor'], rows) + (more ? `\n\n${more}` : ''),
    });
  }
  if (facts.honeypot.length > 0) {
    const rows = facts.honeypot
      .slice(0, MAX_SUMMARY_ROWS)
      .map((h) => [
        day(h.seen),
        h.port === undefined ? '' : `${h.port}${h.protocol ? `/${mdText(h.protocol)}` : ''}`,
        mdText(h.message ?? ''),
        mdText(h.userAgent ?? ''),
      ]);
    const more = moreLine(rows.length, facts.honeypot.length);
    sections.push({
      title: 'Honeypot records',
      body: mdTable(['Seen', 'Port', 'Message', 'User agent'], rows) + (more ? `\n\n${more}` : ''),
    });
  }
  if (facts.webcams.length > 0 || facts.mobile.length > 0) {
    const lines = [
      ...facts.webcams.map(
        (w) =>
          `Exposed camera${w.port !== undefined ? ` on port ${w.port}` : ''}${w.manufacturer ? ` (${mdText(w.manufacturer)})` : ''}`,
      ),
      ...facts.mobile.map(
        (m) => `Mobile network ${mdText([m.organization, m.broadband].filter(Boolean).join(' '))}`,
      ),
    ];
    sections.push({ title: 'Devices and networks', body: mdList(lines.slice(0, MAX_SUMMARY_ROWS)) });
  }
  return sections;
}

/** Maps an IP report (with the optional feature answers) into the graph. */
export function mapIp(
  graph: Graph,
  target: IpTarget,
  intel: { report: unknown; maliciousInfo?: unknown; suspiciousInfo?: unknown },
  settings: MappingSettings,
): Findings {
  const facts = readIpFacts(intel.report, intel.maliciousInfo, intel.suspiciousInfo);
  const labels = new LabelSet();
  const findings: Findings = {
    labels,
    heading: `**Criminal IP** report for ${mdCode(target.value)}`,
    facts: [],
    sections: [],
    indicatorReasons: [],
    externalReference: {
      source_name: 'Criminal IP',
      url: `https://www.criminalip.io/asset/report/${encodeURIComponent(target.value)}`,
      description: 'Criminal IP asset report',
    },
  };
  if (facts.empty) {
    graph.warn('the IP report holds none of the expected sections: only the observable was updated');
    return findings;
  }
  if (facts.reportedIp && facts.reportedIp !== target.value) {
    graph.warn(`the report is about ${facts.reportedIp.slice(0, 64)}, not ${target.value}`);
  }

  const inbound = rate(facts.inbound, settings);
  const outbound = rate(facts.outbound, settings);
  const chosen = applyPolicy(inbound, outbound, settings.scorePolicy);
  if (inbound) labels.add(`inbound: ${inbound.word}`);
  if (outbound) labels.add(`outbound: ${outbound.word}`);
  if (chosen) {
    findings.score = chosen.score;
    findings.evidence = chosen.score;
    findings.facts.push([
      'Score',
      `${chosen.score}/100 (${capitalised(chosen.word)}, policy ${settings.scorePolicy})`,
    ]);
    if (reachesThreshold(chosen.score, settings)) {
      findings.indicatorReasons.push(
        `rated ${capitalised(chosen.word)} (indicator threshold ${capitalised(settings.indicatorThreshold)})`,
      );
    }
  }
  if (inbound || outbound) {
    findings.facts.push([
      'Inbound / outbound',
      `${inbound ? capitalised(inbound.word) : 'n/a'} / ${outbound ? capitalised(outbound.word) : 'n/a'}`,
    ]);
  }

  labels.add(...facts.flags);
  if (facts.flags.length > 0) findings.facts.push(['Flags', facts.flags.map((f) => mdText(f)).join(', ')]);
  const categories = [
    ...new Set(facts.categories.map((c) => normaliseLabel(c.type)).filter((c) => c !== undefined)),
  ];
  labels.add(...categories);
  if (categories.length > 0) findings.facts.push(['Categories', categories.map((c) => mdText(c)).join(', ')]);
  if (facts.abuseRecords !== undefined) findings.facts.push(['Abuse records', String(facts.abuseRecords)]);

  findings.facts.push(...addNetwork(graph, target, facts));
  findings.facts.push(...addProtectedIps(graph, target, facts));
  findings.facts.push(...addRelatedNames(graph, target, facts, settings.maxRelatedDomains));
  findings.sections.push(...addServices(graph, target.id, facts, settings.maxVulnerabilities));
  findings.sections.push(...contextSections(facts));
  return findings;
}
