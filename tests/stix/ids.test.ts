/**
 * Deterministic ids: every worked example and test vector of docs/opencti.md §11.4 must come out
 * exactly, since an id OpenCTI computes differently would leave our references unresolved.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import {
  OASIS_NAMESPACE,
  StixInputError,
  autonomousSystemId,
  canonicalJson,
  externalReferenceId,
  generateId,
  identifyingHash,
  identityId,
  indicatorId,
  isStixId,
  labelId,
  locationId,
  namedObjectId,
  noteId,
  observableId,
  organizationId,
  relationshipId,
  sightingId,
  softwareId,
  threatActorGroupId,
  vulnerabilityId,
  x509CertificateId,
} from '../../lib/stix';

const ROOT = path.resolve(__dirname, '../..');
const ID_VECTORS = path.join(ROOT, 'tests/fixtures/reference/opencti/id-vectors.json');

const ip8888 = observableId('ipv4-addr', '8.8.8.8');
const usa = locationId('United States of America', 'Country');
const T = '2022-11-25T19:00:05.000Z';

/** OpenCTI's own unit-test vectors (tests/01-unit/domain/identifier-test.js) and platform data. */
const OPENCTI_VECTORS: Array<[string, () => string, string]> = [
  [
    'Malware malware',
    () => namedObjectId('malware', 'malware'),
    'malware--92ddf766-b27c-5159-8f46-27002bba2f04',
  ],
  [
    'Malware SnowFlake',
    () => namedObjectId('malware', 'SnowFlake'),
    'malware--1bc77052-c136-5258-b95d-fc8117fba3fd',
  ],
  [
    'Vulnerability vulnerability',
    () => vulnerabilityId('vulnerability'),
    'vulnerability--2c690168-aec3-57f1-8295-adf53f4dc3da',
  ],
  [
    'Vulnerability CVE-2019-12345',
    () => vulnerabilityId('CVE-2019-12345'),
    'vulnerability--f140924c-f52e-5b3a-b8bb-37a97cee7063',
  ],
  [
    'Infrastructure infra',
    () => namedObjectId('infrastructure', 'infra'),
    'infrastructure--8a20116f-5a41-5508-ae4b-c293ac67c527',
  ],
  ['City Lyon', () => locationId('Lyon', 'City'), 'location--da430873-42c8-57ca-b08b-a797558c6cbd'],
  [
    'Individual julien',
    () => identityId('julien', 'Individual'),
    'identity--d969b177-497f-598d-8428-b128c8f5f819',
  ],
  [
    'Organization with class individual',
    () => identityId('organization', 'individual'),
    'identity--00f7eb8c-6af2-5ed5-9ede-ede4c623de3b',
  ],
  ['Note without created', () => noteId('My note content!'), 'note--2b4ab5af-2307-58e1-8862-a6a269aae798'],
  ['Note with created', () => noteId('My note content!', T), 'note--10861e5c-049e-54f6-9736-81c106e39a0b'],
  [
    'Indicator domain pattern',
    () => indicatorId("[domain-name:value = 'shortsvelventysjo.shop']"),
    'indicator--e3a64916-7775-5262-9246-9d3783cfdfa6',
  ],
  [
    'Threat-Actor-Group CARD04',
    () => threatActorGroupId('CARD04'),
    'threat-actor--6d458783-df3b-5398-8e30-282655ad7b94',
  ],
  // The unit test hashes the literal standard ids 'from_id' and 'to_id'.
  [
    'relationship based-on',
    () => relationshipId('based-on', 'from_id', 'to_id'),
    'relationship--0b11fa67-da01-5d34-9864-67d4d71c3740',
  ],
  [
    'relationship based-on with start_time',
    () => relationshipId('based-on', 'from_id', 'to_id', T),
    'relationship--c5e1e2ce-14d6-535b-911d-267e92119e01',
  ],
  ['sighting', () => sightingId('from_id', 'to_id'), 'sighting--161901df-21bb-527a-b96b-354119279fe2'],
  [
    'sighting with first_seen',
    () => sightingId('from_id', 'to_id', T),
    'sighting--3c59ceea-8e41-5adb-a257-d070d19e6d2b',
  ],
  [
    'Domain-Name domain.com',
    () => observableId('domain-name', 'domain.com'),
    'domain-name--c9d852bc-ec1b-57c8-b013-32f0f402f7a8',
  ],
];

/** The project's own examples, computed with the same algorithm. */
const PROJECT_VECTORS: Array<[string, () => string, string]> = [
  [
    'IPv4 8.8.8.8',
    () => observableId('ipv4-addr', '8.8.8.8'),
    'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
  ],
  [
    'IPv4 1.1.1.1',
    () => observableId('ipv4-addr', '1.1.1.1'),
    'ipv4-addr--cbd67181-b9f8-595b-8bc3-3971e34fa1cc',
  ],
  [
    'IPv6',
    () => observableId('ipv6-addr', '2001:4860:4860::8888'),
    'ipv6-addr--177929b5-cd78-5bed-b828-8d7aac4151b0',
  ],
  [
    'Domain example.com',
    () => observableId('domain-name', 'example.com'),
    'domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7',
  ],
  [
    'Domain Example.COM hashed as-is',
    () => generateId('domain-name', { value: 'Example.COM' }),
    'domain-name--780351e5-83ad-5bbe-8883-0e6174c2df50',
  ],
  ['Url', () => observableId('url', 'https://example.com/'), 'url--be22e93a-5e33-5678-b19f-8b4ea06df0bd'],
  ['AS15169', () => autonomousSystemId(15169), 'autonomous-system--7afc7bdf-d070-5add-90ff-f93503b1654d'],
  [
    'Hostname',
    () => observableId('hostname', 'host.example.com'),
    'hostname--e862c830-fcab-5bea-833f-0a1acca621a2',
  ],
  [
    'Software name+version',
    () => softwareId({ name: 'nginx', version: '1.18.0' }),
    'software--4e5db5c4-a9b1-5f19-bb1a-aa12901a0a38',
  ],
  [
    'Software cpe',
    () => softwareId({ cpe: 'cpe:2.3:a:f5:nginx:1.18.0:*:*:*:*:*:*:*' }),
    'software--aee1e225-82ff-52ce-a17f-61e70499c414',
  ],
  [
    'X509 SHA-256',
    () => x509CertificateId({ hashes: { 'SHA-256': 'a'.repeat(64) } }),
    'x509-certificate--75cb38d5-2055-5354-b75a-8299a2d670b5',
  ],
  [
    'X509 serial',
    () => x509CertificateId({ serial_number: '01:02:03' }),
    'x509-certificate--c66f8592-22d8-53a4-9d37-046a9fe7d77d',
  ],
  [
    'CVE-2021-44228',
    () => vulnerabilityId('CVE-2021-44228'),
    'vulnerability--693c68fd-9a33-5d6d-b44e-407b6a48b05b',
  ],
  [
    'Country USA',
    () => locationId('United States of America', 'Country'),
    'location--e79b4cf1-a256-5efa-bc74-c94c7c7ffde0',
  ],
  [
    'Country Korea',
    () => locationId('Republic of Korea', 'Country'),
    'location--26a13f85-4350-5792-8743-347a8c7960e6',
  ],
  ['Country France', () => locationId('France', 'Country'), 'location--b8d0549f-de06-5ebd-a6e9-d31a581dba5d'],
  [
    'Country United States',
    () => locationId('United States', 'Country'),
    'location--be4ee2db-ecdd-5acf-a5e1-ce03ef2ec91d',
  ],
  [
    'Country Korea, Republic of',
    () => locationId('Korea, Republic of', 'Country'),
    'location--ed34c905-a4e9-5ab3-be62-29b55c2386ee',
  ],
  ['City Seoul', () => locationId('Seoul', 'City'), 'location--436e1343-f91d-5fb8-a027-700a5f8dca0c'],
  [
    'Region Eastern Asia',
    () => locationId('Eastern Asia', 'Region'),
    'location--c5a2d626-2be3-5cee-b643-773a32d19ce0',
  ],
  ['Region Asia', () => locationId('Asia', 'Region'), 'location--68241bf7-96c8-5542-b488-3b8fe8f51aff'],
  [
    'Organization Criminal IP',
    () => organizationId('Criminal IP'),
    'identity--0da9a170-128d-5674-890d-0a1ff2638014',
  ],
  [
    'Organization Google LLC',
    () => organizationId('Google LLC'),
    'identity--4a902939-3e27-516c-a9a0-33cafc8cc05d',
  ],
  [
    'Infrastructure C2 Server',
    () => namedObjectId('infrastructure', 'C2 Server'),
    'infrastructure--5d19c2c7-c747-51bb-b601-298874d611e0',
  ],
  [
    'Malware Cobalt Strike',
    () => namedObjectId('malware', 'Cobalt Strike'),
    'malware--d2d17342-7c91-563c-bb85-a51d5b5c30e4',
  ],
  [
    'Indicator 8.8.8.8',
    () => indicatorId("[ipv4-addr:value = '8.8.8.8']"),
    'indicator--7ad3d74b-c761-522d-9359-5e7565a3abb4',
  ],
  ['Label criminalip', () => labelId('criminalip'), 'label--0243e4cc-1c39-59e8-a241-618bd7a6d6b3'],
  [
    'External reference by url',
    () => externalReferenceId({ url: 'https://www.criminalip.io/asset/report/8.8.8.8' }),
    'external-reference--66b65c97-60c2-5da9-957d-4dab65c58bff',
  ],
  [
    'External reference by source and id',
    () => externalReferenceId({ source_name: 'Criminal IP', external_id: '8.8.8.8' }),
    'external-reference--f7161db7-9c3a-58df-8ee3-b4a82e61c931',
  ],
  ['Note score', () => noteId('Criminal IP score: Critical'), 'note--4a7b569d-fb37-5e4b-bbae-adba91d01049'],
  [
    'Note score with created',
    () => noteId('Criminal IP score: Critical', '2025-01-01T00:00:00.000Z'),
    'note--1f1b539f-7cfe-545e-a463-42ea0c1df8e4',
  ],
  [
    'belongs-to 8.8.8.8 → AS15169',
    () => relationshipId('belongs-to', ip8888, autonomousSystemId(15169)),
    'relationship--d4ed1b59-ab87-50ff-a04a-8656941c31ae',
  ],
  [
    'located-at 8.8.8.8 → USA',
    () => relationshipId('located-at', ip8888, usa),
    'relationship--c1d7b17f-10ed-5d20-9cdc-3bcc0eff2f3a',
  ],
  [
    'located-at 8.8.8.8 → United States',
    () => relationshipId('located-at', ip8888, locationId('United States', 'Country')),
    'relationship--89b17481-bd2e-5d34-a534-ec6e68f979ff',
  ],
  [
    'resolves-to example.com → 8.8.8.8',
    () => relationshipId('resolves-to', observableId('domain-name', 'example.com'), ip8888),
    'relationship--8135d043-7c7a-5354-b8fb-24af2c89988f',
  ],
  [
    'sighting of 8.8.8.8 at Criminal IP',
    () => sightingId(ip8888, organizationId('Criminal IP')),
    'sighting--d4368679-75ad-5801-b83e-c3ee67ad495d',
  ],
];

describe('test vectors of docs/opencti.md §11.4', () => {
  it.each(OPENCTI_VECTORS)('OpenCTI vector: %s', (_name, compute, expected) => {
    expect(compute()).toBe(expected);
  });

  it.each(PROJECT_VECTORS)('project example: %s', (_name, compute, expected) => {
    expect(compute()).toBe(expected);
  });

  it('covers every id the document lists, no more and no fewer', () => {
    const { documentedIds: documented } = JSON.parse(fs.readFileSync(ID_VECTORS, 'utf8')) as {
      documentedIds: string[];
    };
    expect(documented.length).toBeGreaterThanOrEqual(50);
    const tested = [...OPENCTI_VECTORS, ...PROJECT_VECTORS].map(([, , expected]) => expected);
    expect([...tested].sort()).toEqual([...documented].sort());
  });
});

describe('normalisation before hashing', () => {
  it('lower-cases domain names, as OpenCTI stores them', () => {
    expect(observableId('domain-name', 'Example.COM')).toBe(observableId('domain-name', 'example.com'));
  });

  it('keeps IP, URL and hostname values exactly as given', () => {
    expect(observableId('hostname', 'Host.Example.com')).toBe(
      generateId('hostname', { value: 'Host.Example.com' }),
    );
    expect(observableId('url', 'https://Example.com/A')).not.toBe(
      observableId('url', 'https://example.com/a'),
    );
    expect(observableId('ipv6-addr', '2001:4860:4860:0:0:0:0:8888')).not.toBe(
      observableId('ipv6-addr', '2001:4860:4860::8888'),
    );
  });

  it('lower-cases and trims SDO names and labels, and lower-cases identity classes', () => {
    expect(vulnerabilityId('  cve-2021-44228 ')).toBe(vulnerabilityId('CVE-2021-44228'));
    expect(organizationId(' CRIMINAL IP')).toBe('identity--0da9a170-128d-5674-890d-0a1ff2638014');
    expect(identityId('Julien', ' INDIVIDUAL ')).toBe('identity--d969b177-497f-598d-8428-b128c8f5f819');
    expect(labelId('  CriminalIP ')).toBe(labelId('criminalip'));
  });

  it('keeps the location type as written, so each type has its own id', () => {
    expect(locationId('Seoul', 'City')).not.toBe(locationId('Seoul', 'Region'));
    expect(generateId('location', { name: 'seoul', x_opencti_location_type: 'City' })).toBe(
      locationId('Seoul', 'City'),
    );
    expect(generateId('location', { name: 'seoul', x_opencti_location_type: 'city' })).not.toBe(
      locationId('Seoul', 'City'),
    );
  });

  it('hashes indicator patterns and note content raw, without trimming', () => {
    expect(indicatorId("[ipv4-addr:value = '8.8.8.8'] ")).not.toBe(
      indicatorId("[ipv4-addr:value = '8.8.8.8']"),
    );
    expect(noteId(' Criminal IP score: Critical')).not.toBe(noteId('Criminal IP score: Critical'));
  });

  it('writes times as UTC with milliseconds whatever form they come in', () => {
    const expected = 'relationship--c5e1e2ce-14d6-535b-911d-267e92119e01';
    expect(relationshipId('based-on', 'from_id', 'to_id', new Date(T))).toBe(expected);
    expect(relationshipId('based-on', 'from_id', 'to_id', '2022-11-25T19:00:05Z')).toBe(expected);
    expect(relationshipId('based-on', 'from_id', 'to_id', '2022-11-25T21:00:05+02:00')).toBe(expected);
    expect(noteId('My note content!', new Date(T))).toBe('note--10861e5c-049e-54f6-9736-81c106e39a0b');
  });

  it('adds the stop time to a relationship id, and last_seen to a sighting id', () => {
    // Further vectors of OpenCTI's identifier unit tests (platform and pycti), beyond §11.4.
    expect(relationshipId('based-on', 'from_id', 'to_id', T, '2022-11-26T19:00:05.000Z')).toBe(
      'relationship--a7778a7d-a743-5193-9912-89f88f9ed0b4',
    );
    expect(
      relationshipId(
        'uses',
        'malware--21c45dbe-54ec-5bb7-b8cd-9f27cc518714',
        'attack-pattern--fd8179dd-1632-5ec8-8b93-d2ae121e05a4',
        '2020-02-29T22:30:00.000Z',
        '2020-02-29T22:30:00.000Z',
      ),
    ).toBe('relationship--67f5f01f-6b15-5154-ae31-019a75fedcff');
    const first = sightingId('from_id', 'to_id', T);
    expect(sightingId('from_id', 'to_id', T, '2022-11-26T19:00:05.000Z')).not.toBe(first);
  });

  it('drops empty values: they do not change the id', () => {
    const plain = softwareId({ name: 'nginx', version: '1.18.0' });
    expect(softwareId({ name: 'nginx', version: '1.18.0', cpe: '', vendor: undefined })).toBe(plain);
    expect(generateId('software', { name: 'nginx', version: '1.18.0', swid: null, x: [], y: {} })).toBe(
      plain,
    );
  });

  it('refuses to hash when nothing contributes', () => {
    expect(() => generateId('software', { name: '', cpe: undefined })).toThrow(StixInputError);
    expect(() => vulnerabilityId('   ')).toThrow(StixInputError);
    expect(() => externalReferenceId({ source_name: 'Criminal IP' })).toThrow(
      /url, or a source_name with an external_id/,
    );
    expect(() => x509CertificateId({ hashes: { 'X-CUSTOM': 'abc' } })).toThrow(StixInputError);
  });

  it('refuses observable values that are not of their type', () => {
    expect(() => observableId('ipv4-addr', '999.1.1.1')).toThrow(StixInputError);
    expect(() => observableId('ipv6-addr', '8.8.8.8')).toThrow(StixInputError);
    expect(() => observableId('domain-name', 'exa mple.com')).toThrow(StixInputError);
    expect(() => autonomousSystemId(1.5)).toThrow(StixInputError);
    expect(() => autonomousSystemId(-1)).toThrow(StixInputError);
  });
});

describe('X.509 hashes resolver', () => {
  const hashes = {
    'SHA-512': 'd'.repeat(128),
    'sha-256': 'c'.repeat(64),
    'sha-1': 'b'.repeat(40),
    md5: 'a'.repeat(32),
  };

  it('keeps one hash with an upper-case key, by priority MD5 > SHA-1 > SHA-256 > SHA-512', () => {
    expect(identifyingHash(hashes)).toEqual({ MD5: 'a'.repeat(32) });
    const { md5: _md5, ...withoutMd5 } = hashes;
    expect(identifyingHash(withoutMd5)).toEqual({ 'SHA-1': 'b'.repeat(40) });
    const { 'sha-1': _sha1, ...onlySha2 } = withoutMd5;
    expect(identifyingHash(onlySha2)).toEqual({ 'SHA-256': 'c'.repeat(64) });
    expect(identifyingHash({ 'SHA-512': 'd'.repeat(128), SSDEEP: '3:abc' })).toEqual({
      'SHA-512': 'd'.repeat(128),
    });
    expect(identifyingHash({ 'sha3-512': 'e', ssdeep: 'f' })).toEqual({ 'SHA3-512': 'e' });
  });

  it('ignores the serial number and subject when a known hash is present', () => {
    expect(
      x509CertificateId({
        hashes: { 'sha-256': 'a'.repeat(64) },
        serial_number: '01:02:03',
        subject: 'CN=x',
      }),
    ).toBe('x509-certificate--75cb38d5-2055-5354-b75a-8299a2d670b5');
    expect(x509CertificateId({ hashes: {}, serial_number: '01:02:03', subject: 'CN=x' })).toBe(
      'x509-certificate--c66f8592-22d8-53a4-9d37-046a9fe7d77d',
    );
    expect(x509CertificateId({ subject: 'CN=x' })).toBe(generateId('x509-certificate', { subject: 'CN=x' }));
  });
});

describe('RFC 8785 canonicalisation', () => {
  it('sorts keys by UTF-16 code units and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], é: 2, Z: { d: 1.5, c: 1e21 } })).toBe(
      '{"Z":{"c":1e+21,"d":1.5},"a":[true,null,"x"],"b":1,"é":2}',
    );
    expect(canonicalJson({ '\u{1F600}': 1, '\uFB33': 2 })).toBe('{"\u{1F600}":1,"\uFB33":2}');
  });

  it('refuses what JSON cannot carry instead of hashing something else', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(StixInputError);
    expect(() => canonicalJson({ a: '\uD800' })).toThrow(StixInputError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(StixInputError);
  });

  it('agrees with the npm canonicalize package OpenCTI uses, on generated inputs', () => {
    const samples: unknown[] = fc.sample(fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }), {
      numRuns: 400,
      seed: 8785,
    });
    samples.push(
      { value: 'Example.COM' },
      { name: 'criminal ip', identity_class: 'organization' },
      { type: 'sighting', sighting_of_ref: 'from_id', where_sighted_refs: ['to_id'] },
      { s: "quote ' backslash \\ newline \n nul \u0000 line-sep \u2028 emoji 😀 한국어" },
      { n: [0, -1, 0.1, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308] },
    );
    // The package is an ES module only, so it runs in a child Node process.
    const script =
      "import canonicalize from 'canonicalize'; let input = '';" +
      "process.stdin.on('data', (chunk) => { input += chunk; });" +
      "process.stdin.on('end', () => process.stdout.write(JSON.stringify(JSON.parse(input).map((v) => canonicalize(v)))));";
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      input: JSON.stringify(samples),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(child.stderr).toBe('');
    const theirs = JSON.parse(child.stdout) as string[];
    // Both sides see the values after the same JSON round trip (which turns -0 into 0).
    const ours = (JSON.parse(JSON.stringify(samples)) as unknown[]).map((value) => canonicalJson(value));
    expect(ours).toEqual(theirs);
  });

  it('hashes with UUID v5 in the OASIS namespace', () => {
    expect(OASIS_NAMESPACE).toBe('00abedb4-aa42-466c-9c01-fed23315a9b7');
    expect(generateId('ipv4-addr', { value: '8.8.8.8' })).toBe(
      'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
    );
    expect(generateId('ipv4-addr', { value: '8.8.8.8' }, 'b639ff3b-00eb-42ed-aa36-a8dd6f8fb4cf')).not.toBe(
      'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
    );
  });
});

describe('state kept between calls', () => {
  it('hashes names of any length the way the uuid package does, whatever was hashed before', () => {
    // Ids are hashed from one reused buffer that grows with long names, and a name too long for it
    // is hashed on its own: no call may see bytes a previous, longer or shorter, call left behind.
    const names = ['x', 'é'.repeat(700), 'a', '😀'.repeat(40_000), 'b'.repeat(70_000), 'c', 'ü'.repeat(3)];
    for (const content of [...names, ...[...names].reverse()]) {
      const expected = `note--${uuidv5(canonicalJson({ content }), OASIS_NAMESPACE)}`;
      expect(noteId(content)).toBe(expected);
    }
  });

  it('answers the same for an id however often it was checked, and never remembers a bad one', () => {
    const good = Array.from({ length: 5000 }, (_, i) =>
      observableId('ipv4-addr', `10.0.${i >> 8}.${i & 255}`),
    );
    // More well-formed ids than the remembered set holds, each checked twice.
    for (const id of [...good, ...good]) expect(isStixId(id)).toBe(true);
    for (const bad of [
      'ipv4-addr--not-a-uuid',
      `IPV4-ADDR${good[0]!.slice(9, -1)}`,
      `${good[1]!}0`,
      42,
      null,
    ]) {
      expect(isStixId(bad)).toBe(false);
      expect(isStixId(bad)).toBe(false);
    }
    expect(isStixId(good[0])).toBe(true);
  });
});
