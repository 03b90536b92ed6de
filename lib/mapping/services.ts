/**
 * Open ports, the software behind them and their vulnerabilities.
 *
 * Software is identified by name and version only, never vendor: port records rarely carry a
 * vendor and vulnerability records usually do, and both must land on the same Software object (the
 * same id, enrichment after enrichment) for `Software has Vulnerability` to meet `IP related-to
 * Software`.
 */
import { software, vulnerability } from '../stix';
import type { Graph } from './graph';
import type { IpFacts, VulnerabilityFact } from './ip-facts';
import { mdCode, mdList, mdTable, mdText, moreLine, type SummarySection } from './markdown';

const MAX_PORT_ROWS = 25;
const MAX_CVE_LINES = 10;

interface Product {
  name: string;
  version?: string;
}

function productKey(name: string, version: string | undefined): string {
  return `${name.toLowerCase()}\u0000${(version ?? '').toLowerCase()}`;
}

/** Collects the products named by port and vulnerability records, merged by name + version (any case). */
function productsOf(facts: IpFacts, vulnerabilities: VulnerabilityFact[]): Map<string, Product> {
  const products = new Map<string, Product>();
  const note = (name: string | undefined, version: string | undefined) => {
    const key = name ? productKey(name, version) : undefined;
    if (name && key && !products.has(key)) products.set(key, { name, version });
  };
  for (const service of facts.services) note(service.product, service.version);
  for (const v of vulnerabilities) note(v.product, v.version);
  return products;
}

function severity(v: VulnerabilityFact): number {
  return v.cvss3 ?? v.cvss2 ?? -1;
}

/** CVSS vector strings look like "CVSS:3.1/AV:N/AC:L/…"; Criminal IP sometimes sends only "NETWORK". */
function vectorString(value: string | undefined): string | undefined {
  return value && /^(CVSS:\d\.\d\/)?AV:[NALP](\/[A-Za-z]+:[A-Za-z]+)+$/.test(value) ? value : undefined;
}

function addVulnerability(graph: Graph, v: VulnerabilityFact): string | undefined {
  const vector = vectorString(v.cvss3Vector);
  return graph.add(
    `vulnerability ${v.cve}`,
    () =>
      vulnerability(
        {
          name: v.cve,
          ...(v.cvss3 !== undefined ? { cvssScore: v.cvss3 } : {}),
          ...(vector ? { cvssVector: vector } : {}),
          ...(v.description ? { description: v.description.slice(0, 5000) } : {}),
        },
        graph.sharedSdo(),
      ),
    'shared',
  );
}

function portsSection(facts: IpFacts): SummarySection | undefined {
  if (facts.services.length === 0) return undefined;
  const rows = facts.services
    .slice(0, MAX_PORT_ROWS)
    .map((s) => [
      `${s.port}/${mdText(s.socket)}`,
      mdText(s.protocol ?? ''),
      mdText(
        [[s.product, s.version].filter(Boolean).join(' '), ...s.technologies].filter(Boolean).join('; '),
      ),
      mdText(s.tags.join(', ')),
      s.seen ? s.seen.toISOString().slice(0, 10) : '',
    ]);
  const more = moreLine(rows.length, facts.services.length);
  return {
    title: 'Open ports',
    body: mdTable(['Port', 'Service', 'Product', 'Tags', 'Last seen'], rows) + (more ? `\n\n${more}` : ''),
  };
}

function vulnerabilitySection(kept: VulnerabilityFact[], total: number): SummarySection | undefined {
  if (kept.length === 0) return undefined;
  const lines = kept.slice(0, MAX_CVE_LINES).map((v) => {
    const score =
      v.cvss3 !== undefined ? `CVSS ${v.cvss3}` : v.cvss2 !== undefined ? `CVSS v2 ${v.cvss2}` : 'no CVSS';
    const product = [v.product, v.version].filter(Boolean).join(' ');
    return `${mdCode(v.cve)} (${score})${product ? ` ${mdText(product)}` : ''}`;
  });
  const more = moreLine(lines.length, total);
  return { title: 'Top vulnerabilities', body: mdList(more ? [...lines, more] : lines) };
}

/** Adds Software and Vulnerability objects for the IP; answers the summary sections. */
export function addServices(
  graph: Graph,
  ipId: string,
  facts: IpFacts,
  maxVulnerabilities: number,
): SummarySection[] {
  const ranked = [...facts.vulnerabilities].sort(
    (a, b) => severity(b) - severity(a) || a.cve.localeCompare(b.cve),
  );
  const kept = ranked.slice(0, Math.max(0, maxVulnerabilities));
  const products = productsOf(facts, kept);

  const softwareIds = new Map<string, string>();
  for (const [key, p] of products) {
    const id = graph.add(
      `software ${p.name}`,
      () => software({ name: p.name, ...(p.version ? { version: p.version } : {}) }, graph.sharedSco()),
      'shared',
    );
    if (!id) continue;
    softwareIds.set(key, id);
    graph.relate('related-to', ipId, id, 'Software seen running on this address (Criminal IP)');
  }

  for (const v of kept) {
    const id = addVulnerability(graph, v);
    graph.relate('related-to', ipId, id, 'Vulnerability of a service on this address (Criminal IP)');
    if (v.product) graph.relate('has', softwareIds.get(productKey(v.product, v.version)), id);
  }

  return [portsSection(facts), vulnerabilitySection(kept, facts.vulnerabilities.length)].filter(
    (s): s is SummarySection => s !== undefined,
  );
}
