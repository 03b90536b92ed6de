/**
 * mapIntel is total: whatever Criminal IP sends (arbitrary JSON or values, or the real samples with
 * sections deleted, nulled, retyped or replaced), it does not throw and every bundle it produces
 * stays valid STIX 2.1 without dangling references.
 */
import fc from 'fast-check';
import type { Observable } from '../../lib/jobs/types';
import type { Intel } from '../../lib/criminalip/intel';
import { validateBundle } from '../helpers/stix-validator';
import { bundleOf, fixture, run, sample, SETTINGS, TLP } from './support';

type Path = Array<string | number>;

interface Subject {
  name: string;
  observable: Omit<Observable, 'markingRefs'>;
  intel: (body: unknown) => Intel;
  body: unknown;
}

const SUBJECTS: Subject[] = [
  {
    name: 'asset_ip_report.json',
    observable: { type: 'ipv4-addr', value: '1.1.1.1' },
    intel: (report) => ({ kind: 'ip', report }),
    body: sample('asset_ip_report.json'),
  },
  {
    name: 'ip-report-8.8.8.8.json',
    observable: { type: 'ipv4-addr', value: '8.8.8.8' },
    intel: (report) => ({ kind: 'ip', report }),
    body: fixture('ip-report-8.8.8.8.json'),
  },
  {
    name: 'suspicious-info (IPv6 observable)',
    observable: { type: 'ipv6-addr', value: '2001:db8::1' },
    intel: (suspiciousInfo) => ({ kind: 'ip', report: {}, suspiciousInfo }),
    body: sample('feature_ip_suspicious_info_v2_test_fixture.json'),
  },
  {
    name: 'domain_report_v1.json',
    observable: { type: 'domain-name', value: 'google.com' },
    intel: (report) => ({ kind: 'domain', scanId: '14341560', report }),
    body: sample('domain_report_v1.json'),
  },
  {
    name: 'domain-report-phishing.json (URL observable)',
    observable: { type: 'url', value: 'http://secure-login-paypa1.com' },
    intel: (report) => ({ kind: 'domain', scanId: '25436128', report }),
    body: fixture('domain-report-phishing.json'),
  },
  {
    name: 'domain-report-phishing.json (hostname observable)',
    observable: { type: 'hostname', value: 'secure-login-paypa1.com' },
    intel: (report) => ({ kind: 'domain', scanId: '25436128', report }),
    body: fixture('domain-report-phishing.json'),
  },
  {
    name: 'domain_lite_report.json',
    observable: { type: 'domain-name', value: 'www.naver.com' },
    intel: (liteReport) => ({ kind: 'domain', scanId: 'f'.repeat(32), liteReport }),
    body: sample('domain_lite_report.json'),
  },
];

/** Every path to a value inside a JSON document (the root excluded). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => [[...prefix, index], ...pathsOf(item, [...prefix, index])]);
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  }
  return [];
}

type Mutation =
  { kind: 'delete' | 'null' | 'retype'; at: number } | { kind: 'replace'; at: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete' as const, 'null' as const, 'retype' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
);

/** The same value as another JSON type: numbers as strings and back, objects as arrays, and so on. */
function retyped(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return Number.isNaN(Number(value)) ? value.length : Number(value);
  if (typeof value === 'boolean') return value ? 'True' : 0;
  if (Array.isArray(value)) return Object.fromEntries(value.map((item, index) => [String(index), item]));
  if (value !== null && typeof value === 'object') return Object.values(value);
  return 'null';
}

function mutate(body: unknown, mutations: Mutation[]): unknown {
  const copy = structuredClone(body);
  for (const m of mutations) {
    const paths = pathsOf(copy);
    if (paths.length === 0) break;
    const path = paths[m.at % paths.length]!;
    const key = path[path.length - 1]!;
    const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], copy);
    const target = parent as Record<string | number, unknown>;
    if (m.kind === 'replace') target[key] = m.value;
    else if (m.kind === 'null') target[key] = null;
    else if (m.kind === 'retype') target[key] = retyped(target[key]);
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete target[key];
  }
  return copy;
}

const markings = fc.constantFrom<string[]>([], [TLP.amber], [TLP.red, TLP.green], [TLP.clear]);
const settings = fc.record({
  scorePolicy: fc.constantFrom('max' as const, 'inbound' as const, 'outbound' as const),
  indicatorThreshold: fc.constantFrom('safe' as const, 'moderate' as const, 'critical' as const),
  phishingThreshold: fc.integer({ min: 0, max: 100 }),
  maxRelatedDomains: fc.integer({ min: 0, max: 5 }),
  maxVulnerabilities: fc.integer({ min: 0, max: 5 }),
});

function expectTotalAndValid(
  observable: Omit<Observable, 'markingRefs'>,
  intel: Intel,
  options: Parameters<typeof run>[2],
): void {
  const result = run(observable, intel, options);
  expect(result.objects.some((o) => o.id === result.observableId)).toBe(true);
  expect(validateBundle(bundleOf(result))).toEqual([]);
}

describe('mapIntel never throws and stays valid', () => {
  it.each(SUBJECTS.map((s) => [s.name, s] as const))('on deep-partial mutations of %s', (_name, subject) => {
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 12 }),
        markings,
        settings,
        (mutations, refs, s) => {
          expectTotalAndValid(subject.observable, subject.intel(mutate(subject.body, mutations)), {
            markingRefs: refs,
            settings: { ...SETTINGS, ...s },
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('on arbitrary JSON in place of every IP answer', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.option(fc.jsonValue()),
        fc.option(fc.jsonValue()),
        (report, malicious, suspicious) => {
          const intel: Intel = {
            kind: 'ip',
            report,
            ...(malicious === null ? {} : { maliciousInfo: malicious }),
            ...(suspicious === null ? {} : { suspiciousInfo: suspicious }),
          };
          expectTotalAndValid({ type: 'ipv4-addr', value: '192.0.2.1' }, intel, { markingRefs: [TLP.amber] });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('on arbitrary values (not only JSON) in place of domain reports and scan ids', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.string(), (report, liteReport, scanId) => {
        const intel: Intel = { kind: 'domain', scanId, report, liteReport };
        expectTotalAndValid({ type: 'url', value: 'https://example.com/login' }, intel, {});
      }),
      { numRuns: 150 },
    );
  });

  it('on arbitrary JSON shaped like the known sections', () => {
    const section = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ count: fc.nat(), data: fc.array(fc.jsonValue({ maxDepth: 2 })) }),
    );
    const ipKeys = [
      'ip',
      'issues',
      'score',
      'whois',
      'domain',
      'hostname',
      'port',
      'vulnerability',
      'protected_ip',
      'ids',
      'ip_category',
    ];
    const domainKeys = [
      'main_domain_info',
      'summary',
      'mapped_ip',
      'dns_record',
      'connected_ip',
      'network_logs',
      'certificates',
      'page_redirections',
      'classification',
    ];
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...ipKeys), section),
        fc.dictionary(fc.constantFrom(...domainKeys), section),
        (ip, domain) => {
          expectTotalAndValid({ type: 'ipv4-addr', value: '192.0.2.1' }, { kind: 'ip', report: ip }, {});
          expectTotalAndValid(
            { type: 'domain-name', value: 'example.com' },
            { kind: 'domain', scanId: '1', report: { data: domain } },
            {},
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
