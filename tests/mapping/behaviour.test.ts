/**
 * Behaviour users rely on: score policy and thresholds, caps, label normalisation, DNS vs
 * contacted hosts, markings, and how the observable itself is re-emitted.
 */
import type { Intel } from '../../lib/criminalip/intel';
import type { StixObject } from '../../lib/stix';
import { expectValidBundle } from '../helpers/stix-validator';
import {
  bundleOf,
  find,
  fixture,
  ids,
  linked,
  ofType,
  relationships,
  run,
  TLP,
  type RunOptions,
} from './support';

const IP = '192.0.2.10';
const ipId = ids.value('ipv4-addr', IP);

function ipReport(report: Record<string, unknown>, options?: RunOptions) {
  return run({ type: 'ipv4-addr', value: IP }, { kind: 'ip', report: { ip: IP, ...report } }, options);
}

function scored(inbound: unknown, outbound: unknown, options?: RunOptions) {
  return ipReport({ score: { inbound, outbound } }, options);
}

function domainReport(data: Record<string, unknown>, options?: RunOptions, value = 'example.com') {
  const intel: Intel = { kind: 'domain', scanId: '42', report: { status: 200, data } };
  return run({ type: 'domain-name', value }, intel, options);
}

describe('score', () => {
  it('takes the higher of inbound and outbound by default, words in any case', () => {
    expect(scored('low', 'CRITICAL').score).toBe(95);
    expect(scored('Dangerous', 'safe').score).toBe(75);
  });

  it('follows the inbound or outbound policy, falling back to the other direction when one is missing', () => {
    expect(scored('Low', 'Critical', { settings: { scorePolicy: 'inbound' } }).score).toBe(30);
    expect(scored('Low', 'Critical', { settings: { scorePolicy: 'outbound' } }).score).toBe(95);
    expect(scored(undefined, 'Moderate', { settings: { scorePolicy: 'inbound' } }).score).toBe(50);
  });

  it('uses the configured word table', () => {
    const settings = { scoreWords: { safe: 0, low: 20, moderate: 40, dangerous: 60, critical: 80 } };
    expect(scored('Moderate', 'Low', { settings }).score).toBe(40);
  });

  it('gives no score for unknown words and never for numbers out of the vocabulary', () => {
    const result = scored('Very Bad', 42);
    expect(result.score).toBeUndefined();
    expect(ofType(result, 'ipv4-addr')[0]).not.toHaveProperty('x_opencti_score');
  });

  it('puts both directions in labels and in the summary', () => {
    const result = scored('Dangerous', 'Low');
    expect(result.labels).toEqual(expect.arrayContaining(['inbound: dangerous', 'outbound: low']));
    expect(result.summary).toContain('Dangerous / Low');
  });

  it('reads a lite report\'s "80% (Dangerous)" as Dangerous', () => {
    const result = run(
      { type: 'domain-name', value: 'example.com' },
      { kind: 'domain', scanId: 'a'.repeat(32), liteReport: { data: { domain_score: '80% (Dangerous)' } } },
    );
    expect(result.score).toBe(75);
    expect(result.labels).toContain('domain score: dangerous');
  });
});

describe('indicator thresholds', () => {
  it('creates an IP Indicator only from the threshold word up', () => {
    expect(ofType(scored('Dangerous', 'Safe'), 'indicator')).toHaveLength(1);
    expect(ofType(scored('Moderate', 'Low'), 'indicator')).toHaveLength(0);
    expect(
      ofType(scored('Moderate', 'Low', { settings: { indicatorThreshold: 'moderate' } }), 'indicator'),
    ).toHaveLength(1);
  });

  it('sets valid_until from indicatorValidityDays', () => {
    const [indicator] = ofType(
      scored('Critical', 'Critical', { settings: { indicatorValidityDays: 7 } }),
      'indicator',
    );
    expect(indicator).toMatchObject({
      valid_from: '2025-06-01T12:00:00.000Z',
      valid_until: '2025-06-08T12:00:00.000Z',
    });
  });

  it('creates a domain Indicator from the phishing probability, whatever the domain score', () => {
    const data = (prob: number) => ({
      main_domain_info: { domain_score: { score: 'safe' } },
      summary: { url_phishing_prob: prob },
    });
    const phishing = domainReport(data(70));
    expect(ofType(phishing, 'indicator')).toHaveLength(1);
    expect(phishing.labels).toContain('phishing');
    expect(phishing.score).toBe(70);
    const below = domainReport(data(69.9));
    expect(ofType(below, 'indicator')).toHaveLength(0);
    expect(below.labels).not.toContain('phishing');
    expect(below.score).toBe(10);
    expect(ofType(domainReport(data(50), { settings: { phishingThreshold: 40 } }), 'indicator')).toHaveLength(
      1,
    );
  });

  it('creates a domain Indicator when the domain score reaches the threshold word', () => {
    const result = domainReport({ main_domain_info: { domain_score: { score: 'dangerous' } } });
    expect(ofType(result, 'indicator')).toHaveLength(1);
  });

  it('escapes the value in the Indicator pattern', () => {
    const value = "https://example.com/it's";
    const result = run(
      { type: 'url', value },
      { kind: 'domain', scanId: '1', report: { data: { summary: { url_phishing_prob: 99 } } } },
    );
    const [indicator] = ofType(result, 'indicator');
    expect(indicator?.pattern).toBe("[url:value = 'https://example.com/it\\'s']");
    expectValidBundle(bundleOf(result));
  });
});

describe('caps', () => {
  const names = Array.from({ length: 8 }, (_, i) => ({
    domain: `d${i}.example.com`,
    confirmed_time: `2024-01-0${i + 1} 00:00:00`,
  }));

  it('links at most maxRelatedDomains host names and domains, reverse-DNS names and the newest domains first', () => {
    const result = ipReport(
      { hostname: { data: [{ domain_name_full: 'ptr.example.net' }] }, domain: { count: 8, data: names } },
      { settings: { maxRelatedDomains: 3 } },
    );
    expect(
      relationships(result, 'resolves-to').map((r) => find(result, r.source_ref as string)?.value),
    ).toEqual(['d7.example.com', 'd6.example.com']);
    expect(linked(result, 'related-to', ids.value('hostname', 'ptr.example.net'), ipId)).toBe(true);
    expect(result.summary).toContain('8 (8 listed)');
  });

  it('keeps the maxVulnerabilities highest-scored CVEs', () => {
    const vulnerability = {
      data: [
        { cve_id: 'CVE-2020-0001', cvssv3_score: 5 },
        { cve_id: 'CVE-2020-0002', cvssv3_score: 9.8 },
        { cve_id: 'CVE-2020-0003', cvssv2_score: 7.5 },
        { cve_id: 'CVE-2020-0004' },
        { cve_id: 'not-a-cve', cvssv3_score: 10 },
      ],
    };
    const two = ipReport({ vulnerability }, { settings: { maxVulnerabilities: 2 } });
    expect(ofType(two, 'vulnerability').map((v) => v.name)).toEqual(['CVE-2020-0002', 'CVE-2020-0003']);
    expect(two.summary).toContain('… and 2 more');
    expect(
      ofType(ipReport({ vulnerability }, { settings: { maxVulnerabilities: 0 } }), 'vulnerability'),
    ).toEqual([]);
  });

  it('links at most maxRelatedDomains contacted hosts', () => {
    const connected = Array.from({ length: 5 }, (_, i) => ({ ip: `198.51.100.${i + 1}`, score: 'safe' }));
    const result = domainReport({ connected_ip: connected }, { settings: { maxRelatedDomains: 2 } });
    expect(relationships(result, 'related-to')).toHaveLength(2);
  });
});

describe('labels', () => {
  it('normalises categories and flags to lower-case single-spaced labels, once each, without counts', () => {
    const result = run(
      { type: 'ipv4-addr', value: IP },
      {
        kind: 'ip',
        report: {
          ip: IP,
          issues: { is_vpn: true, is_tor: 'true', is_proxy: false, is_darkweb: 1 },
          ip_category: {
            data: [{ type: 'Cloud_Service' }, { type: '  MISP ' }, { type: '12' }, { type: 'cloud service' }],
          },
        },
        maliciousInfo: { is_vpn: true, is_malicious: true, can_remote_access: false },
      },
    );
    expect(result.labels).toEqual(['vpn', 'tor', 'darkweb', 'malicious', 'cloud service', 'misp']);
  });

  it('labels only the phishing findings that are present', () => {
    const result = domainReport({
      summary: {
        cred_input: 'Safe',
        suspicious_file: 0,
        diff_domain_favicon: 'Suspicious',
        fake_domain: false,
        dga_score: 7.9,
        punycode: true,
        newborn_domain: '',
        phishing_record: 4,
      },
    });
    expect(result.labels).toEqual(['favicon mismatch', 'punycode']);
  });
});

describe('DNS resolution versus contacted hosts', () => {
  const report = {
    mapped_ip: [{ ip: '192.0.2.1', country: 'de', score: 'low' }],
    dns_record: { dns_record_type_a: { ipv4: ['192.0.2.2'], ipv6: [{ ip: '2001:db8::1', score: 'safe' }] } },
    connected_ip: [{ ip: '198.51.100.9', score: 'dangerous' }, { ip: '192.0.2.1' }],
    network_logs: { data: [{ ip_port: '[2001:db8::99]:443', as_number: '64496', country: 'us' }] },
  };

  it('never turns connected_ip or network logs into resolves-to', () => {
    const result = domainReport(report);
    const resolvesTo = relationships(result, 'resolves-to').map((r) => r.target_ref);
    expect(resolvesTo.sort()).toEqual(
      [
        ids.value('ipv4-addr', '192.0.2.1'),
        ids.value('ipv4-addr', '192.0.2.2'),
        ids.value('ipv6-addr', '2001:db8::1'),
      ].sort(),
    );
    const domain = ids.value('domain-name', 'example.com');
    expect(linked(result, 'related-to', domain, ids.value('ipv4-addr', '198.51.100.9'))).toBe(true);
    expect(linked(result, 'related-to', domain, ids.value('ipv6-addr', '2001:db8::99'))).toBe(true);
    expect(linked(result, 'belongs-to', ids.value('ipv6-addr', '2001:db8::99'), ids.as(64496))).toBe(true);
    expect(linked(result, 'located-at', ids.value('ipv4-addr', '192.0.2.1'), ids.country('Germany'))).toBe(
      true,
    );
    expectValidBundle(bundleOf(result));
  });

  it('relates a Hostname to its addresses (OpenCTI allows resolves-to only from a Domain-Name)', () => {
    const result = run(
      { type: 'hostname', value: 'www.example.com' },
      { kind: 'domain', scanId: '7', report: { data: report } },
    );
    expect(relationships(result, 'resolves-to')).toEqual([]);
    expect(
      linked(
        result,
        'related-to',
        ids.value('hostname', 'www.example.com'),
        ids.value('ipv4-addr', '192.0.2.2'),
      ),
    ).toBe(true);
    expectValidBundle(bundleOf(result));
  });
});

describe('markings', () => {
  const sharedTypes = new Set(['autonomous-system', 'location', 'vulnerability', 'software', 'identity']);

  function markingsByKind(result: ReturnType<typeof run>) {
    const describing: StixObject[] = [];
    const shared: StixObject[] = [];
    const sharedIds = new Set(result.objects.filter((o) => sharedTypes.has(o.type)).map((o) => o.id));
    for (const object of result.objects) {
      if (object.type === 'marking-definition' || object.id === result.observableId) continue;
      const isShared =
        sharedTypes.has(object.type) ||
        (object.type === 'relationship' &&
          sharedIds.has(object.source_ref as string) &&
          sharedIds.has(object.target_ref as string));
      (isShared ? shared : describing).push(object);
    }
    return { describing, shared };
  }

  it("gives describing objects the observable's markings and shared reference objects TLP:CLEAR", () => {
    const result = run(
      { type: 'ipv4-addr', value: '8.8.8.8' },
      { kind: 'ip', report: fixture('ip-report-8.8.8.8.json') },
      { markingRefs: [TLP.red] },
    );
    const { describing, shared } = markingsByKind(result);
    expect(describing.length).toBeGreaterThan(10);
    expect(shared.length).toBeGreaterThan(10);
    for (const object of describing)
      expect([object.id, object.object_marking_refs]).toEqual([object.id, [TLP.red]]);
    for (const object of shared)
      expect([object.id, object.object_marking_refs]).toEqual([object.id, [TLP.clear]]);
    expect(find(result, result.observableId)?.object_marking_refs).toEqual([TLP.red]);
    expect(
      ofType(result, 'marking-definition')
        .map((m) => m.id)
        .sort(),
    ).toEqual([TLP.clear, TLP.red].sort());
  });

  it('keeps non-TLP markings on describing objects and adds TLP:CLEAR when the observable has no TLP', () => {
    const pap = 'marking-definition--89484dde-e3d2-547f-a6c6-d14824429eb1';
    const result = domainReport({ mapped_ip: [{ ip: '192.0.2.1' }] }, { markingRefs: [pap] });
    const relationship = relationships(result, 'resolves-to')[0]!;
    expect(relationship.object_marking_refs).toEqual([pap, TLP.clear]);
    expect(find(result, result.observableId)?.object_marking_refs).toEqual([pap]);
  });

  it('marks describing objects TLP:CLEAR when the observable carries no marking', () => {
    const result = domainReport({ mapped_ip: [{ ip: '192.0.2.1' }] });
    expect(find(result, ids.value('ipv4-addr', '192.0.2.1'))?.object_marking_refs).toEqual([TLP.clear]);
    expect(find(result, result.observableId)).not.toHaveProperty('object_marking_refs');
  });
});

describe('the observable', () => {
  it('is re-emitted over the object OpenCTI sent, keeping its properties and adding to its labels', () => {
    const extension = 'extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82';
    const original: StixObject = {
      type: 'ipv4-addr',
      spec_version: '2.1',
      id: ipId,
      value: IP,
      x_opencti_score: 12,
      labels: ['analyst-tag'],
      object_marking_refs: [TLP.green],
      x_custom: 'kept',
      extensions: {
        [extension]: { extension_type: 'property-extension', score: 12, labels: ['analyst-tag'] },
      },
    };
    const result = scored('Critical', 'Low', { original, markingRefs: [TLP.green] });
    const observable = find(result, ipId)!;
    expect(observable).toMatchObject({
      x_custom: 'kept',
      x_opencti_score: 95,
      object_marking_refs: [TLP.green],
    });
    expect(observable.labels).toEqual(['analyst-tag', 'inbound: critical', 'outbound: low']);
    expect((observable.extensions as Record<string, Record<string, unknown>>)[extension]).toMatchObject({
      score: 95,
      labels: ['analyst-tag', 'inbound: critical', 'outbound: low'],
      description: result.summary,
    });
    expectValidBundle(bundleOf(result));
  });

  it('keeps the standard id OpenCTI sent', () => {
    const stixId = 'ipv4-addr--00000000-0000-5000-8000-000000000001';
    const result = scored('Critical', 'Low', { stixId });
    expect(result.observableId).toBe(stixId);
    expect(relationships(result, 'based-on')[0]?.target_ref).toBe(stixId);
    expectValidBundle(bundleOf(result));
  });

  it('maps an IPv6 report the same way', () => {
    const value = '2001:4860:4860::8888';
    const result = run(
      { type: 'ipv6-addr', value },
      {
        kind: 'ip',
        report: {
          ip: value,
          score: { inbound: 'Low', outbound: 'Low' },
          whois: { data: [{ as_no: 15169, org_country_code: 'US' }] },
        },
      },
    );
    expect(result.observableId).toBe('ipv6-addr--177929b5-cd78-5bed-b828-8d7aac4151b0');
    expect(linked(result, 'located-at', result.observableId, ids.country('United States of America'))).toBe(
      true,
    );
    expectValidBundle(bundleOf(result));
  });
});

describe('tolerance', () => {
  it('names no Country after a code it does not know, and says so', () => {
    const result = ipReport({ whois: { data: [{ org_country_code: 'EU', city: 'Nowhere' }] } });
    expect(ofType(result, 'location')).toEqual([]);
    expect(result.warnings).toEqual(['unknown country code "EU": no Country created']);
  });

  it('warns when the intel kind does not fit the observable type', () => {
    const result = run({ type: 'domain-name', value: 'example.com' }, { kind: 'ip', report: { ip: IP } });
    expect(result.warnings[0]).toMatch(/cannot describe a domain-name/);
    expect(result.counts).toEqual({ entities: 0, relationships: 0 });
    expectValidBundle(bundleOf(result));
  });

  it('warns and still updates the observable when the report holds nothing it knows', () => {
    const result = run({ type: 'ipv4-addr', value: IP }, { kind: 'ip', report: { status: 200 } });
    expect(result.warnings[0]).toMatch(/none of the expected sections/);
    expect(result.objects.map((o) => o.type)).toEqual(['ipv4-addr', 'identity', 'marking-definition']);
  });

  it('warns when the report is about another address', () => {
    expect(ipReport({ ip: '192.0.2.99' }).warnings[0]).toMatch(/about 192\.0\.2\.99/);
  });

  it('maps nothing for an observable value that is not valid STIX', () => {
    const result = run({ type: 'ipv4-addr', value: 'not-an-ip' }, { kind: 'ip', report: {} });
    expect(result.objects).toEqual([]);
    expect(result.warnings).toHaveLength(1);
  });

  it('ignores marking refs that are not marking-definition ids', () => {
    const original: StixObject = {
      type: 'ipv4-addr',
      id: ipId,
      value: IP,
      object_marking_refs: ['junk', 7, TLP.green],
    };
    const result = scored('Low', 'Low', { original, markingRefs: ['also junk'] });
    expect(find(result, ipId)?.object_marking_refs).toEqual([TLP.green]);
    expectValidBundle(bundleOf(result));
  });

  it('gives the same objects for the same input', () => {
    const intel: Intel = { kind: 'ip', report: fixture('ip-report-8.8.8.8.json') };
    const first = run({ type: 'ipv4-addr', value: '8.8.8.8' }, intel);
    const second = run({ type: 'ipv4-addr', value: '8.8.8.8' }, intel);
    expect(second.objects).toEqual(first.objects);
  });
});
