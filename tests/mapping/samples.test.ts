/**
 * Every real response shape in tests/fixtures/reference/criminalip-samples that is a report maps to a bundle that
 * is valid against the OASIS schemas and has no dangling reference.
 */
import { expectValidBundle } from '../helpers/stix-validator';
import { bundleOf, ids, linked, ofType, run, sample, TLP } from './support';

type ConnectorFixtures = Record<string, { asset_ip_report: unknown; feature_ip_malicious_info?: unknown }>;

describe('IP report samples', () => {
  it('maps the full asset report (asset_ip_report.json) into a valid bundle', () => {
    const result = run(
      { type: 'ipv4-addr', value: '1.1.1.1' },
      { kind: 'ip', report: sample('asset_ip_report.json') },
      { markingRefs: [TLP.amber] },
    );
    expectValidBundle(bundleOf(result));
    expect(result.warnings).toEqual([]);
    // Critical inbound, Moderate outbound: the higher one under the default policy.
    expect(result.score).toBe(95);
    expect(result.labels).toEqual(
      expect.arrayContaining(['inbound: critical', 'outbound: moderate', 'hosting', 'ids', 'anonymous vpn']),
    );
    const ip = ids.value('ipv4-addr', '1.1.1.1');
    expect(linked(result, 'belongs-to', ip, ids.as(8075))).toBe(true);
    expect(linked(result, 'located-at', ip, ids.city('San Jose'))).toBe(true);
    expect(linked(result, 'located-at', ids.city('San Jose'), ids.country('United States of America'))).toBe(
      true,
    );
    expect(linked(result, 'resolves-to', ids.value('domain-name', 'xyhaidy.shop'), ip)).toBe(true);
    expect(linked(result, 'related-to', ip, ids.vulnerability('CVE-2021-23017'))).toBe(true);
    // protected_ip names the address itself here: no self-relationship.
    expect(linked(result, 'related-to', ip, ip)).toBe(false);
  });

  it('maps the minimal XSOAR mock with empty issues', () => {
    const result = run(
      { type: 'ipv4-addr', value: '1.1.1.1' },
      { kind: 'ip', report: sample('asset_ip_report_xsoar_test_fixture.json') },
    );
    expectValidBundle(bundleOf(result));
    expect(result.score).toBe(10);
    expect(ofType(result, 'indicator')).toEqual([]);
  });

  const connector = sample('opencti_connector_test_fixtures.json') as ConnectorFixtures;
  it.each(Object.keys(connector))('maps the official connector fixture %s', (name) => {
    const entry = connector[name]!;
    const report = entry.asset_ip_report as { ip?: string };
    const value = typeof report.ip === 'string' ? report.ip : '192.0.2.1';
    const result = run(
      { type: 'ipv4-addr', value },
      { kind: 'ip', report, maliciousInfo: entry.feature_ip_malicious_info ?? undefined },
    );
    expectValidBundle(bundleOf(result));
  });

  it('reads as_no given as a string ("15169") and a country code in upper case', () => {
    const entry = connector['test_process_ipv4_enrichment_with_whois_and_vulnerabilities']!;
    const result = run(
      { type: 'ipv4-addr', value: '8.8.8.8' },
      { kind: 'ip', report: entry.asset_ip_report },
    );
    expect(linked(result, 'belongs-to', ids.value('ipv4-addr', '8.8.8.8'), ids.as(15169))).toBe(true);
    expect(
      linked(result, 'located-at', ids.city('Mountain View'), ids.country('United States of America')),
    ).toBe(true);
  });

  it('maps malicious-info and suspicious-info alongside the report', () => {
    const result = run(
      { type: 'ipv4-addr', value: '1.1.1.1' },
      {
        kind: 'ip',
        report: sample('asset_ip_report_xsoar_test_fixture.json'),
        maliciousInfo: sample('feature_ip_malicious_info_parser_test_fixture.json'),
        suspiciousInfo: sample('feature_ip_suspicious_info_v2_test_fixture.json'),
      },
    );
    expectValidBundle(bundleOf(result));
    expect(result.labels).toEqual(expect.arrayContaining(['remote access', 'cloud', 'suspicious']));
    expect(result.summary).toContain('Potential trojan activity detected');
    expect(linked(result, 'belongs-to', ids.value('ipv4-addr', '1.1.1.1'), ids.as(13335))).toBe(true);
  });
});

describe('domain report samples', () => {
  it('maps the full report (domain_report_v1.json) into a valid bundle', () => {
    const result = run(
      { type: 'domain-name', value: 'google.com' },
      { kind: 'domain', scanId: '14341560', report: sample('domain_report_v1.json') },
      { markingRefs: [TLP.green] },
    );
    expectValidBundle(bundleOf(result));
    expect(result.warnings).toEqual([]);
    const domain = ids.value('domain-name', 'google.com');
    expect(linked(result, 'resolves-to', domain, ids.value('ipv4-addr', '172.217.25.174'))).toBe(true);
    expect(linked(result, 'resolves-to', domain, ids.value('ipv6-addr', '2404:6800:400a:813::200e'))).toBe(
      true,
    );
    // google.com's phishing_record of 1 is no reason for an Indicator.
    expect(ofType(result, 'indicator')).toEqual([]);
    expect(result.score).toBe(30);
  });

  it('maps the lite report (domain_lite_report.json) with its "20% (Safe)" score and string A records', () => {
    const result = run(
      { type: 'domain-name', value: 'www.naver.com' },
      {
        kind: 'domain',
        scanId: '0123456789abcdef0123456789abcdef',
        liteReport: sample('domain_lite_report.json'),
      },
    );
    expectValidBundle(bundleOf(result));
    expect(result.score).toBe(10);
    expect(result.labels).toEqual(expect.arrayContaining(['domain score: safe', 'searchengines', 'company']));
    const domain = ids.value('domain-name', 'www.naver.com');
    expect(linked(result, 'resolves-to', domain, ids.value('ipv4-addr', '223.130.200.107'))).toBe(true);
    expect(linked(result, 'resolves-to', domain, ids.value('ipv4-addr', '23.202.169.64'))).toBe(true);
  });

  it('maps the full report for a URL observable through the Domain-Name of its host', () => {
    const result = run(
      { type: 'url', value: 'http://google.com' },
      { kind: 'domain', scanId: '14341560', report: sample('domain_report_v1.json') },
    );
    expectValidBundle(bundleOf(result));
    const url = ids.value('url', 'http://google.com');
    const domain = ids.value('domain-name', 'google.com');
    expect(linked(result, 'related-to', url, domain)).toBe(true);
    expect(linked(result, 'resolves-to', domain, ids.value('ipv4-addr', '172.217.25.174'))).toBe(true);
  });
});
