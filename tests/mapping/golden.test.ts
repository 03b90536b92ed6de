/**
 * Golden tests: an 8.8.8.8-like IP report and a phishing-like domain report (fixtures in
 * tests/fixtures/mapping), with every OpenCTI id checked against the literal vectors of
 * docs/opencti.md §11.4 or against ids computed in support.ts without lib/stix.
 */
import { expectValidBundle } from '../helpers/stix-validator';
import { bundleOf, find, fixture, ids, linked, NOW, ofType, relationships, run, TLP } from './support';

const AUTHOR = 'identity--0da9a170-128d-5674-890d-0a1ff2638014';

describe('golden: 8.8.8.8-like IP report', () => {
  const result = run(
    { type: 'ipv4-addr', value: '8.8.8.8' },
    { kind: 'ip', report: fixture('ip-report-8.8.8.8.json') },
    { markingRefs: [TLP.amber] },
  );
  const ip = 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7';
  const as15169 = 'autonomous-system--7afc7bdf-d070-5add-90ff-f93503b1654d';
  const usa = 'location--e79b4cf1-a256-5efa-bc74-c94c7c7ffde0';

  it('is a valid bundle with no dangling reference and no warning', () => {
    expectValidBundle(bundleOf(result));
    expect(result.warnings).toEqual([]);
  });

  it('re-emits the observable under its OpenCTI id with score, labels, summary, author and report link', () => {
    expect(result.observableId).toBe(ip);
    const observable = find(result, ip)!;
    // Moderate inbound, DANGEROUS outbound (any case): the higher, dangerous = 75.
    expect(observable.x_opencti_score).toBe(75);
    expect(observable.created_by_ref).toBe(AUTHOR);
    expect(observable.object_marking_refs).toEqual([TLP.amber]);
    expect(observable.x_opencti_description).toBe(result.summary);
    expect(observable.labels).toEqual([
      'inbound: moderate',
      'outbound: dangerous',
      'hosting',
      'cloud',
      'ids',
      'cloud service',
      'dns server',
    ]);
    expect(observable.external_references).toEqual([
      expect.objectContaining({
        source_name: 'Criminal IP',
        url: 'https://www.criminalip.io/asset/report/8.8.8.8',
      }),
    ]);
  });

  it('has the Criminal IP author, AS15169 and the United States of America with OpenCTI ids', () => {
    expect(find(result, AUTHOR)).toMatchObject({ type: 'identity', name: 'Criminal IP' });
    expect(find(result, as15169)).toMatchObject({ number: 15169, name: 'GOOGLE' });
    expect(find(result, usa)).toMatchObject({
      name: 'United States of America',
      x_opencti_aliases: ['USA', 'US'],
      x_opencti_location_type: 'Country',
    });
    expect(as15169).toBe(ids.as(15169));
    expect(usa).toBe(ids.country('United States of America'));
    expect(find(result, 'relationship--d4ed1b59-ab87-50ff-a04a-8656941c31ae')).toMatchObject({
      relationship_type: 'belongs-to',
      source_ref: ip,
      target_ref: as15169,
    });
  });

  it('places the IP in its city, and the city in its country', () => {
    const city = ids.city('Mountain View');
    expect(find(result, city)).toMatchObject({
      name: 'Mountain View',
      latitude: 37.386,
      longitude: -122.0838,
    });
    expect(find(result, ids.relationship('located-at', ip, city))).toBeDefined();
    expect(find(result, ids.relationship('located-at', city, usa))).toBeDefined();
    // The most precise location only: no direct IP → Country link.
    expect(find(result, 'relationship--c1d7b17f-10ed-5d20-9cdc-3bcc0eff2f3a')).toBeUndefined();
  });

  it('maps CVEs with CVSS, NVD references, highest first, linked from the IP and from the software', () => {
    const log4shell = 'vulnerability--693c68fd-9a33-5d6d-b44e-407b6a48b05b';
    expect(log4shell).toBe(ids.vulnerability('CVE-2021-44228'));
    expect(find(result, log4shell)).toMatchObject({
      name: 'CVE-2021-44228',
      x_opencti_cvss_base_score: 10,
      x_opencti_cvss_vector_string: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      external_references: [
        expect.objectContaining({
          source_name: 'cve',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-44228',
        }),
      ],
    });
    // "NETWORK" is an attack vector, not a vector string: left out rather than stored wrongly.
    expect(find(result, ids.vulnerability('CVE-2021-23017'))).not.toHaveProperty(
      'x_opencti_cvss_vector_string',
    );
    expect(ofType(result, 'vulnerability').map((v) => v.name)).toEqual([
      'CVE-2021-44228',
      'CVE-2021-23017',
      'CVE-2016-2183',
    ]);
    expect(linked(result, 'related-to', ip, log4shell)).toBe(true);
    const log4j = ids.software({ name: 'log4j', version: '2.14.1' });
    const nginx = ids.software({ name: 'nginx', version: '1.18.0' });
    expect(linked(result, 'has', log4j, log4shell)).toBe(true);
    expect(linked(result, 'has', nginx, ids.vulnerability('CVE-2021-23017'))).toBe(true);
    expect(linked(result, 'related-to', ip, nginx)).toBe(true);
  });

  it('keeps the latest record per port and protocol', () => {
    const frontend = ids.software({ name: 'Google Frontend' });
    expect(linked(result, 'related-to', ip, frontend)).toBe(true);
    const table = result.summary.split('#### Open ports')[1]!.split('####')[0]!;
    expect(table.match(/^\| 443\/tcp/gm)).toHaveLength(1);
    expect(table).toContain('Google Frontend');
    expect(table).toMatch(/^\| 53\/udp/m);
    expect(table).toMatch(/^\| 53\/tcp/m);
  });

  it('links reverse-DNS host names, pointing domains and the real IP behind the CDN', () => {
    expect(linked(result, 'related-to', ids.value('hostname', 'dns.google'), ip)).toBe(true);
    expect(linked(result, 'resolves-to', ids.value('domain-name', 'dns.google.com'), ip)).toBe(true);
    expect(linked(result, 'resolves-to', ids.value('domain-name', 'google-public-dns.example'), ip)).toBe(
      true,
    );
    expect(linked(result, 'resolves-to', ids.value('domain-name', '8888.example.net'), ip)).toBe(true);
    expect(linked(result, 'related-to', ip, ids.value('ipv4-addr', '8.8.4.4'))).toBe(true);
    expect(relationships(result, 'resolves-to')).toHaveLength(3);
  });

  it('creates the Indicator with an escaped pattern, validity, score, type and detection, based on the IP', () => {
    const indicatorId = 'indicator--7ad3d74b-c761-522d-9359-5e7565a3abb4';
    expect(indicatorId).toBe(ids.indicator("[ipv4-addr:value = '8.8.8.8']"));
    expect(find(result, indicatorId)).toMatchObject({
      pattern: "[ipv4-addr:value = '8.8.8.8']",
      pattern_type: 'stix',
      valid_from: NOW.toISOString(),
      valid_until: '2025-07-01T12:00:00.000Z',
      x_opencti_score: 75,
      x_opencti_main_observable_type: 'IPv4-Addr',
      x_opencti_detection: true,
      object_marking_refs: [TLP.amber],
      created_by_ref: AUTHOR,
    });
    expect(find(result, ids.relationship('based-on', indicatorId, ip))).toBeDefined();
  });

  it('writes a readable summary with scores, flags, ports, IDS, honeypot and top CVEs, escaping Markdown', () => {
    const summary = result.summary;
    expect(summary).toContain('Moderate / Dangerous');
    expect(summary).toContain('ET INFO Observed DNS over HTTPS Domain');
    expect(summary).toContain('#### Honeypot records');
    expect(summary).toContain('`CVE-2021-44228` (CVSS 10)');
    // Text from Criminal IP cannot become a link or HTML, nor break the table.
    expect(summary).not.toContain('[link](http://evil.example)');
    expect(summary).not.toContain('<script>');
    expect(summary).toContain('DNS query \\| \\<script\\>');
  });
});

describe('golden: phishing-like domain report', () => {
  const value = 'secure-login-paypa1.com';
  const result = run(
    { type: 'domain-name', value },
    { kind: 'domain', scanId: '25436128', report: fixture('domain-report-phishing.json') },
    { markingRefs: [TLP.amber] },
  );
  const domain = ids.value('domain-name', value);
  const resolvedV4 = ids.value('ipv4-addr', '203.0.113.10');
  const resolvedV6 = ids.value('ipv6-addr', '2001:db8::10');
  const cdn = ids.value('ipv4-addr', '198.51.100.77');

  it('is a valid bundle with no dangling reference and no warning', () => {
    expectValidBundle(bundleOf(result));
    expect(result.warnings).toEqual([]);
  });

  it('scores the domain from its Critical rating and 96.5 % phishing probability', () => {
    expect(result.observableId).toBe(domain);
    // Critical alone gives 95; a phishing probability above the threshold raises it to round(96.5).
    expect(result.score).toBe(97);
    expect(find(result, domain)).toMatchObject({ x_opencti_score: 97, created_by_ref: AUTHOR });
  });

  it('labels the phishing findings without counts', () => {
    expect(result.labels).toEqual([
      'domain score: critical',
      'phishing',
      'credential harvesting',
      'suspicious file',
      'favicon mismatch',
      'look-alike domain',
      'newborn domain',
      'dga',
      'safe browsing hit',
      'file exposure',
    ]);
  });

  it('resolves to the DNS answers, with their AS and country, and only relates the contacted hosts', () => {
    expect(find(result, ids.relationship('resolves-to', domain, resolvedV4))).toBeDefined();
    expect(find(result, ids.relationship('resolves-to', domain, resolvedV6))).toBeDefined();
    expect(linked(result, 'belongs-to', resolvedV4, ids.as(64500))).toBe(true);
    expect(linked(result, 'located-at', resolvedV4, ids.country('Netherlands'))).toBe(true);
    expect(linked(result, 'related-to', domain, cdn)).toBe(true);
    expect(linked(result, 'related-to', domain, ids.value('ipv4-addr', '198.51.100.78'))).toBe(true);
    expect(linked(result, 'resolves-to', domain, cdn)).toBe(false);
    // The resolved address was contacted too: resolves-to says it, no extra related-to.
    expect(linked(result, 'related-to', domain, resolvedV4)).toBe(false);
  });

  it('maps the site certificate (not third-party ones) and the redirect targets', () => {
    const certificate = ids.x509(value);
    expect(find(result, certificate)).toMatchObject({
      subject: value,
      issuer: 'R3',
      validity_not_before: '2025-05-01T00:00:00.000Z',
      validity_not_after: '2025-07-30T23:59:59.000Z',
      object_marking_refs: [TLP.amber],
    });
    expect(linked(result, 'related-to', domain, certificate)).toBe(true);
    expect(find(result, ids.x509('*.cdn.example.net'))).toBeUndefined();
    expect(
      linked(result, 'related-to', domain, ids.value('url', 'https://secure-login-paypa1.com/signin')),
    ).toBe(true);
    expect(
      linked(result, 'related-to', domain, ids.value('url', 'https://secure-login-paypa1.com/signin/verify')),
    ).toBe(true);
    // The chain's starting URL is where the scan began, not a redirect target.
    expect(find(result, ids.value('url', 'http://secure-login-paypa1.com/'))).toBeUndefined();
  });

  it('creates an Indicator for the domain, based on it', () => {
    const pattern = `[domain-name:value = '${value}']`;
    const indicator = find(result, ids.indicator(pattern));
    expect(indicator).toMatchObject({
      pattern,
      x_opencti_score: 97,
      x_opencti_main_observable_type: 'Domain-Name',
      x_opencti_detection: true,
      valid_until: '2025-07-01T12:00:00.000Z',
    });
    expect(String(indicator!.description)).toContain('phishing probability 96.5%');
    expect(find(result, ids.relationship('based-on', ids.indicator(pattern), domain))).toBeDefined();
  });

  it('links the scan report page and summarises the findings', () => {
    expect(find(result, domain)!.external_references).toEqual([
      expect.objectContaining({ url: 'https://www.criminalip.io/domain/report?scan_id=25436128' }),
    ]);
    expect(result.summary).toContain('| Credential input form | Suspicious |');
    expect(result.summary).toContain('| **Phishing probability** | 96.5% |');
    expect(result.summary).toContain('PayPal: Log in to your account');
  });
});
