/**
 * Builders: every object they make is valid STIX 2.1 (OASIS schemas), carries the OpenCTI
 * properties the platform reads, and has the id OpenCTI computes for it.
 */
import {
  BundleBuilder,
  CRIMINAL_IP_AUTHOR,
  StixInputError,
  autonomousSystem,
  city,
  country,
  domainName,
  equalityPattern,
  hostname,
  indicator,
  isValidObservableValue,
  observableEntityType,
  OBSERVABLE_STIX_TYPES,
  ipv4Addr,
  ipv6Addr,
  markingDefinition,
  note,
  observable,
  organization,
  region,
  relationship,
  sighting,
  software,
  stixTime,
  tlpMarkingId,
  url,
  vulnerability,
  x509Certificate,
  type SdoOptions,
  type StixObject,
} from '../../lib/stix';
import { OBSERVABLE_ENTITY_TYPES } from '../../lib/config';
import { expectValidBundle, validateStixObject } from '../helpers/stix-validator';

const created = new Date('2025-01-01T00:00:00.000Z');
const amber = tlpMarkingId('TLP:AMBER');
const author = CRIMINAL_IP_AUTHOR.id;
const sdo: SdoOptions = { created, createdByRef: author, markingRefs: [amber] };
const report = { source_name: 'Criminal IP', url: 'https://www.criminalip.io/asset/report/8.8.8.8' };

function expectValid(object: StixObject): void {
  expect(validateStixObject(object)).toEqual([]);
}

describe('observables (SCOs)', () => {
  const options = {
    markingRefs: [amber, amber],
    createdByRef: author,
    score: 85,
    description: 'Criminal IP: Critical inbound risk',
    labels: ['Criminal IP', ' scanner ', 'criminal ip'],
    externalReferences: [report, report],
  };

  it('carries spec_version 2.1 and the OpenCTI custom properties', () => {
    const ip = ipv4Addr('8.8.8.8', options);
    expect(ip).toEqual({
      type: 'ipv4-addr',
      spec_version: '2.1',
      id: 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
      value: '8.8.8.8',
      object_marking_refs: [amber],
      created_by_ref: author,
      x_opencti_created_by_ref: author,
      x_opencti_score: 85,
      x_opencti_description: 'Criminal IP: Critical inbound risk',
      labels: ['criminal ip', 'scanner'],
      x_opencti_labels: ['criminal ip', 'scanner'],
      external_references: [report],
    });
    expectValid(ip);
  });

  it('leaves out what was not given (STIX forbids empty lists)', () => {
    expect(ipv4Addr('1.1.1.1', { labels: [], markingRefs: [] })).toEqual({
      type: 'ipv4-addr',
      spec_version: '2.1',
      id: 'ipv4-addr--cbd67181-b9f8-595b-8bc3-3971e34fa1cc',
      value: '1.1.1.1',
    });
  });

  it.each([
    ['ipv4-addr', '8.8.8.8', 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7'],
    ['ipv6-addr', '2001:4860:4860::8888', 'ipv6-addr--177929b5-cd78-5bed-b828-8d7aac4151b0'],
    ['domain-name', 'Example.COM', 'domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7'],
    ['hostname', 'host.example.com', 'hostname--e862c830-fcab-5bea-833f-0a1acca621a2'],
    ['url', 'https://example.com/', 'url--be22e93a-5e33-5678-b19f-8b4ea06df0bd'],
  ] as const)('observable(%s, %s) has OpenCTI’s id and validates', (type, value, id) => {
    const built = observable(type, value, options);
    expect(built.id).toBe(id);
    expect(built.type).toBe(type);
    expectValid(built);
  });

  it('lower-cases domain names and keeps host names as given', () => {
    expect(domainName('WWW.Example.com').value).toBe('www.example.com');
    expect(hostname('Mail.Example.com').value).toBe('Mail.Example.com');
    expect(ipv6Addr('2001:db8::1/64').value).toBe('2001:db8::1/64');
    expect(url('https://例え.jp/パス?q=1').value).toBe('https://例え.jp/パス?q=1');
  });

  it.each([
    ['ipv4-addr', '256.1.1.1'],
    ['ipv4-addr', '8.8.8.8 '],
    ['ipv6-addr', '2001:db8::zz'],
    ['domain-name', 'bad domain.com'],
    ['domain-name', '-bad.example'],
    ['hostname', ''],
    ['url', 'not a url'],
    ['url', 'https://example.com/\u0000'],
  ] as const)('refuses %s value %j with StixInputError', (type, value) => {
    expect(() => observable(type, value)).toThrow(StixInputError);
  });

  it('tells mapping code which values it may emit, without throwing', () => {
    expect(isValidObservableValue('ipv4-addr', '10.0.0.0/8')).toBe(true);
    expect(isValidObservableValue('ipv4-addr', '10.0.0.0/33')).toBe(false);
    expect(isValidObservableValue('domain-name', 'xn--r8jz45g.jp')).toBe(true);
    expect(isValidObservableValue('domain-name', '例え.jp')).toBe(true);
    expect(isValidObservableValue('domain-name', 'a'.repeat(64) + '.com')).toBe(false);
    expect(isValidObservableValue('hostname', '_sip._tcp.example.com')).toBe(true);
    expect(isValidObservableValue('domain-name', '_sip._tcp.example.com')).toBe(false);
    expect(isValidObservableValue('url', 'javascript')).toBe(false);
  });

  it('names the OpenCTI entity type of each observable type', () => {
    expect(OBSERVABLE_STIX_TYPES.map(observableEntityType)).toEqual([...OBSERVABLE_ENTITY_TYPES]);
  });

  it('refuses a score outside 0-100 and refs of the wrong kind', () => {
    expect(() => ipv4Addr('8.8.8.8', { score: 101 })).toThrow(/x_opencti_score/);
    expect(() => ipv4Addr('8.8.8.8', { score: 50.5 })).toThrow(StixInputError);
    expect(() => ipv4Addr('8.8.8.8', { createdByRef: amber })).toThrow(/identity id/);
    expect(() => ipv4Addr('8.8.8.8', { markingRefs: [author] })).toThrow(/marking-definition id/);
    expect(() => ipv4Addr('8.8.8.8', { externalReferences: [{ source_name: 'x' }] })).toThrow(StixInputError);
  });

  it('builds autonomous systems, certificates and software with their OpenCTI ids', () => {
    const as = autonomousSystem({ number: 15169, name: 'GOOGLE' }, options);
    expect(as.id).toBe('autonomous-system--7afc7bdf-d070-5add-90ff-f93503b1654d');
    expectValid(as);

    const cert = x509Certificate(
      {
        hashes: { sha256: 'a'.repeat(64), sha1: 'b'.repeat(40) },
        serial_number: '01:02:03',
        subject: 'CN=dns.google',
        issuer: 'CN=WR2, O=Google Trust Services, C=US',
        validity_not_before: '2025-01-01T00:00:00Z',
        validity_not_after: new Date('2025-03-01T00:00:00.000Z'),
      },
      options,
    );
    // Hash names are written the STIX way, and the SHA-1 outranks the SHA-256 in the id.
    expect(cert.hashes).toEqual({ 'SHA-256': 'a'.repeat(64), 'SHA-1': 'b'.repeat(40) });
    expect(cert.validity_not_before).toBe('2025-01-01T00:00:00.000Z');
    expect(cert.id).not.toBe('x509-certificate--75cb38d5-2055-5354-b75a-8299a2d670b5');
    expect(x509Certificate({ hashes: { 'SHA-256': 'a'.repeat(64) } }).id).toBe(
      'x509-certificate--75cb38d5-2055-5354-b75a-8299a2d670b5',
    );
    expectValid(cert);

    const nginx = software({ name: 'nginx', version: '1.18.0' }, options);
    expect(nginx.id).toBe('software--4e5db5c4-a9b1-5f19-bb1a-aa12901a0a38');
    expectValid(nginx);
    const withCpe = software({ name: 'nginx', cpe: 'cpe:2.3:a:f5:nginx:1.18.0:*:*:*:*:*:*:*', vendor: 'F5' });
    expectValid(withCpe);
    expect(() => software({ name: 'nginx', cpe: 'cpe:/a:nginx:nginx:1.18.0' })).toThrow(/CPE 2\.3/);
    expect(() => x509Certificate({ issuer: 'CN=only issuer' })).toThrow(StixInputError);
  });
});

describe('domain objects (SDOs)', () => {
  it('gives every SDO its timestamps, author, markings, lower-cased labels and confidence', () => {
    const org = organization('Google LLC', {
      ...sdo,
      modified: new Date('2025-02-01T00:00:00.000Z'),
      labels: ['ISP', 'isp', 'Cloud'],
      confidence: 80,
      externalReferences: [report],
    });
    expect(org).toMatchObject({
      type: 'identity',
      spec_version: '2.1',
      id: 'identity--4a902939-3e27-516c-a9a0-33cafc8cc05d',
      name: 'Google LLC',
      identity_class: 'organization',
      created: '2025-01-01T00:00:00.000Z',
      modified: '2025-02-01T00:00:00.000Z',
      created_by_ref: author,
      object_marking_refs: [amber],
      labels: ['isp', 'cloud'],
      confidence: 80,
      external_references: [report],
    });
    expectValid(org);
  });

  it('refuses a modified time before created, and confidence outside 0-100', () => {
    expect(() => organization('X', { created, modified: new Date('2024-01-01T00:00:00Z') })).toThrow(
      /modified/,
    );
    expect(() => organization('X', { created, confidence: 101 })).toThrow(/confidence/);
    expect(() => organization('X', { created: new Date('invalid') })).toThrow(StixInputError);
  });

  it('builds the Criminal IP author with its fixed id, TLP:CLEAR and a reference to criminalip.io', () => {
    expect(CRIMINAL_IP_AUTHOR).toMatchObject({
      id: 'identity--0da9a170-128d-5674-890d-0a1ff2638014',
      name: 'Criminal IP',
      identity_class: 'organization',
      object_marking_refs: [tlpMarkingId('TLP:CLEAR')],
      external_references: [{ source_name: 'Criminal IP', url: 'https://www.criminalip.io' }],
    });
    expect(typeof CRIMINAL_IP_AUTHOR.description).toBe('string');
    expectValid(CRIMINAL_IP_AUTHOR);
    expect(Object.isFrozen(CRIMINAL_IP_AUTHOR.external_references)).toBe(true);
  });

  it('builds countries that match the geography dataset, with `country` as STIX requires', () => {
    const usa = country({ name: 'United States of America', aliases: ['USA', 'US'] }, sdo);
    expect(usa).toMatchObject({
      id: 'location--e79b4cf1-a256-5efa-bc74-c94c7c7ffde0',
      name: 'United States of America',
      x_opencti_location_type: 'Country',
      x_opencti_aliases: ['USA', 'US'],
      country: 'US',
    });
    expectValid(usa);
    const korea = country({ name: 'Republic of Korea', iso2: 'kr' }, sdo);
    expect(korea).toMatchObject({ id: 'location--26a13f85-4350-5792-8743-347a8c7960e6', country: 'KR' });
    expectValid(korea);
    // Without an ISO code, the name fills `country` so the object stays valid.
    const france = country({ name: 'France' }, sdo);
    expect(france).toMatchObject({ id: 'location--b8d0549f-de06-5ebd-a6e9-d31a581dba5d', country: 'France' });
    expectValid(france);
    expect(() => country({ name: 'France', iso2: 'FRA' }, sdo)).toThrow(/two-letter/);
  });

  it('builds cities with coordinates or a country, and refuses one with neither', () => {
    const seoul = city({ name: 'Seoul', latitude: 37.5665, longitude: 126.978 }, sdo);
    expect(seoul).toMatchObject({ id: 'location--436e1343-f91d-5fb8-a027-700a5f8dca0c', latitude: 37.5665 });
    expectValid(seoul);
    const lyon = city({ name: 'Lyon', country: 'fr' }, sdo);
    expect(lyon).toMatchObject({ id: 'location--da430873-42c8-57ca-b08b-a797558c6cbd', country: 'FR' });
    expectValid(lyon);
    expect(() => city({ name: 'Seoul' }, sdo)).toThrow(/latitude and longitude, or a country/);
    expect(() => city({ name: 'Seoul', latitude: 37.5 }, sdo)).toThrow(/both latitude and longitude/);
    expect(() => city({ name: 'Seoul', latitude: 91, longitude: 0 }, sdo)).toThrow(/latitude/);
  });

  it('builds regions with the STIX region vocabulary form', () => {
    const eastAsia = region('Eastern Asia', sdo);
    expect(eastAsia).toMatchObject({
      id: 'location--c5a2d626-2be3-5cee-b643-773a32d19ce0',
      region: 'eastern-asia',
      x_opencti_location_type: 'Region',
    });
    expectValid(eastAsia);
  });

  it('builds CVEs with CVSS, the cve reference and the NVD page', () => {
    const log4shell = vulnerability(
      {
        name: 'cve-2021-44228',
        cvssScore: 10,
        cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
        description: 'Apache Log4j2 JNDI features do not protect against attacker-controlled LDAP endpoints.',
      },
      { ...sdo, externalReferences: [report] },
    );
    expect(log4shell).toMatchObject({
      id: 'vulnerability--693c68fd-9a33-5d6d-b44e-407b6a48b05b',
      name: 'CVE-2021-44228',
      x_opencti_cvss_base_score: 10,
      x_opencti_cvss_vector_string: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      external_references: [
        {
          source_name: 'cve',
          external_id: 'CVE-2021-44228',
          url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-44228',
        },
        report,
      ],
    });
    expectValid(log4shell);
    const named = vulnerability({ name: 'Heartbleed' }, sdo);
    expect(named.external_references).toBeUndefined();
    expectValid(named);
    expect(() => vulnerability({ name: 'CVE-2021-1', cvssScore: 11 }, sdo)).toThrow(/cvssScore/);
  });

  it('builds indicators with a STIX pattern, validity and the OpenCTI indicator properties', () => {
    const ioc = indicator(
      {
        pattern: equalityPattern('ipv4-addr', '8.8.8.8'),
        name: '8.8.8.8',
        validFrom: created,
        validUntil: new Date('2025-04-01T00:00:00.000Z'),
        score: 90,
        mainObservableType: 'IPv4-Addr',
        detection: true,
        indicatorTypes: ['malicious-activity'],
      },
      sdo,
    );
    expect(ioc).toMatchObject({
      id: 'indicator--7ad3d74b-c761-522d-9359-5e7565a3abb4',
      pattern: "[ipv4-addr:value = '8.8.8.8']",
      pattern_type: 'stix',
      valid_from: '2025-01-01T00:00:00.000Z',
      valid_until: '2025-04-01T00:00:00.000Z',
      x_opencti_score: 90,
      x_opencti_main_observable_type: 'IPv4-Addr',
      x_opencti_detection: true,
      indicator_types: ['malicious-activity'],
    });
    expectValid(ioc);
    const hostile = indicator(
      {
        pattern: equalityPattern('url', "https://x.example/'] OR [ipv4-addr:value = '1.1.1.1"),
        name: 'hostile url',
        validFrom: created,
        validUntil: new Date('2025-01-02T00:00:00.000Z'),
        mainObservableType: 'Url',
      },
      sdo,
    );
    expectValid(hostile);
    expect(() =>
      indicator(
        { pattern: 'x', name: 'x', validFrom: created, validUntil: created, mainObservableType: 'Url' },
        sdo,
      ),
    ).toThrow(/validUntil/);
  });

  it('builds notes whose id includes their creation time', () => {
    const summary = note(
      {
        content: 'Criminal IP score: Critical',
        abstract: 'Criminal IP summary',
        objectRefs: [ipv4Addr('8.8.8.8').id],
      },
      sdo,
    );
    expect(summary).toMatchObject({
      id: 'note--1f1b539f-7cfe-545e-a463-42ea0c1df8e4',
      content: 'Criminal IP score: Critical',
      abstract: 'Criminal IP summary',
      object_refs: ['ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7'],
    });
    expectValid(summary);
    expect(() => note({ content: 'x', objectRefs: [author] }, sdo)).toThrow(/at least 2/);
    expect(() => note({ content: 'about nothing', objectRefs: [] }, sdo)).toThrow(/at least one/);
  });
});

describe('relationships and sightings', () => {
  const ip = ipv4Addr('8.8.8.8').id;

  it('builds relationships with the ids OpenCTI computes from both ends', () => {
    const rel = relationship('belongs-to', ip, autonomousSystem({ number: 15169 }).id, sdo);
    expect(rel).toMatchObject({
      id: 'relationship--d4ed1b59-ab87-50ff-a04a-8656941c31ae',
      relationship_type: 'belongs-to',
      source_ref: ip,
      target_ref: 'autonomous-system--7afc7bdf-d070-5add-90ff-f93503b1654d',
      created: '2025-01-01T00:00:00.000Z',
      modified: '2025-01-01T00:00:00.000Z',
    });
    expect(rel).not.toHaveProperty('start_time');
    expectValid(rel);
  });

  it('puts start and stop times in the object and in the id', () => {
    const start = new Date('2025-01-01T00:00:00.000Z');
    const stop = new Date('2025-02-01T00:00:00.000Z');
    const timed = relationship('resolves-to', domainName('example.com').id, ip, {
      ...sdo,
      startTime: start,
      stopTime: stop,
    });
    expect(timed).toMatchObject({ start_time: stixTime(start), stop_time: stixTime(stop) });
    expect(timed.id).not.toBe('relationship--8135d043-7c7a-5354-b8fb-24af2c89988f');
    expectValid(timed);
    expect(() => relationship('resolves-to', ip, ip, { ...sdo, startTime: stop, stopTime: start })).toThrow(
      /stopTime/,
    );
  });

  it('refuses unknown relationship types and ends that are not STIX ids', () => {
    expect(() => relationship('uses' as 'has', ip, ip, sdo)).toThrow(/relationship_type/);
    expect(() => relationship('has', 'from_id', ip, sdo)).toThrow(StixInputError);
  });

  it('builds sightings at an identity', () => {
    const seen = sighting(ip, CRIMINAL_IP_AUTHOR.id, { ...sdo, count: 3 });
    expect(seen).toMatchObject({
      id: 'sighting--d4368679-75ad-5801-b83e-c3ee67ad495d',
      sighting_of_ref: ip,
      where_sighted_refs: [CRIMINAL_IP_AUTHOR.id],
      count: 3,
    });
    expectValid(seen);
    expect(() => sighting(ip, ip, sdo)).toThrow(/identity or location/);
  });
});

describe('a bundle holding every shape', () => {
  it('validates against the OASIS schemas with no dangling reference', () => {
    const ip = ipv4Addr('8.8.8.8', {
      score: 70,
      createdByRef: author,
      markingRefs: [amber],
      labels: ['dns'],
    });
    const v6 = ipv6Addr('2001:4860:4860::8888', { createdByRef: author });
    const domain = domainName('dns.google', { createdByRef: author });
    const host = hostname('dns.google.internal', { createdByRef: author });
    const link = url('https://dns.google/', { createdByRef: author });
    const as = autonomousSystem({ number: 15169, name: 'GOOGLE' }, { createdByRef: author });
    const cert = x509Certificate(
      { serial_number: '01:02:03', subject: 'CN=dns.google' },
      { createdByRef: author },
    );
    const server = software({ name: 'nginx', version: '1.18.0' }, { createdByRef: author });
    const usa = country({ name: 'United States of America', aliases: ['USA', 'US'] }, sdo);
    const mountainView = city({ name: 'Mountain View', latitude: 37.386, longitude: -122.0838 }, sdo);
    const americas = region('Northern America', sdo);
    const google = organization('Google LLC', sdo);
    const log4shell = vulnerability({ name: 'CVE-2021-44228', cvssScore: 10 }, sdo);
    const ioc = indicator(
      {
        pattern: equalityPattern('ipv4-addr', ip.value),
        name: ip.value,
        validFrom: created,
        validUntil: new Date('2025-04-01T00:00:00.000Z'),
        score: 70,
        mainObservableType: 'IPv4-Addr',
      },
      sdo,
    );
    const summary = note({ content: 'Criminal IP score: Dangerous', objectRefs: [ip.id, ioc.id] }, sdo);
    const relations = [
      relationship('belongs-to', ip.id, as.id, sdo),
      relationship('located-at', ip.id, mountainView.id, sdo),
      relationship('located-at', mountainView.id, usa.id, sdo),
      relationship('located-at', usa.id, americas.id, sdo),
      relationship('resolves-to', domain.id, ip.id, sdo),
      relationship('resolves-to', domain.id, v6.id, sdo),
      relationship('related-to', host.id, domain.id, sdo),
      relationship('related-to', link.id, domain.id, sdo),
      relationship('has', ip.id, log4shell.id, sdo),
      relationship('has', ip.id, server.id, sdo),
      relationship('related-to', ip.id, cert.id, sdo),
      relationship('related-to', as.id, google.id, sdo),
      relationship('based-on', ioc.id, ip.id, sdo),
      relationship('communicates-with', ip.id, v6.id, sdo),
    ];
    const bundle = new BundleBuilder()
      .add(CRIMINAL_IP_AUTHOR, markingDefinition('TLP:AMBER'), markingDefinition('TLP:CLEAR'))
      .add(markingDefinition('TLP:AMBER+STRICT'))
      .add(ip, v6, domain, host, link, as, cert, server)
      .add(usa, mountainView, americas, google, log4shell, ioc, summary, ...relations)
      .add(sighting(ip.id, CRIMINAL_IP_AUTHOR.id, sdo))
      .build();
    expect(bundle.objects).toHaveLength(4 + 8 + 7 + relations.length + 1);
    expectValidBundle(bundle);
  });
});
