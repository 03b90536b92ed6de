/**
 * The mapping writes the ids the connected platform computes: OpenCTI 7.260422.0+ hashes the
 * lower-cased Software name, so an IP's services land on the Software the platform already has
 * instead of a twin. The expected ids are OpenCTI's own vectors (id-vectors-7.json).
 */
import vectors from '../fixtures/reference/opencti/id-vectors-7.json';
import { idRulesFor, parsePlatformVersion } from '../../lib/opencti/platform-version';
import { relationshipId } from '../../lib/stix/ids';
import { expectValidBundle } from '../helpers/stix-validator';
import { bundleOf, fixture, ofType, relationships, run, type RunOptions } from './support';

const vector = (rules: '6.9' | '7.x') =>
  vectors.vectors.find((v) => v.type === 'software' && v.rules === rules)!;
const rulesOf = (raw: string) => idRulesFor(parsePlatformVersion(raw));

/** 203.0.113.7 with OpenSSH 8.9p1 on port 22, the service of OpenCTI's Software vectors. */
function openSshHost(options: RunOptions = {}) {
  const { name, version } = vector('6.9').input as { name: string; version: string };
  return run(
    { type: 'ipv4-addr', value: '203.0.113.7' },
    {
      kind: 'ip',
      report: {
        ip: '203.0.113.7',
        port: {
          count: 1,
          data: [{ app_name: name, app_version: version, open_port_no: 22, protocol: 'ssh', socket: 'tcp' }],
        },
      },
    },
    options,
  );
}

describe('Software ids follow the platform', () => {
  it.each([
    ['no platform known (6.9 rules)', undefined, '6.9'],
    ['6.9.17', '6.9.17', '6.9'],
    ['the LTS 7.260309.0-lts.7', '7.260309.0-lts.7', '6.9'],
    ['7.260422.0', '7.260422.0', '7.x'],
    ['7.260817.0', '7.260817.0', '7.x'],
  ] as const)('on %s: the id of OpenCTI’s %s vector', (_name, platform, rules) => {
    const result = openSshHost(platform ? { idRules: rulesOf(platform) } : {});
    const software = ofType(result, 'software');
    expect(software.map((s) => [s.name, s.id])).toEqual([['OpenSSH', vector(rules).id]]);
    // The edge to it hashes the new end, and nothing points at an id the bundle lacks.
    const toSoftware = relationships(result).filter((r) => r.target_ref === software[0]!.id);
    expect(toSoftware.length).toBeGreaterThan(0);
    for (const r of toSoftware) {
      expect(r.id).toBe(
        relationshipId(r.relationship_type as string, r.source_ref as string, r.target_ref as string),
      );
    }
    expectValidBundle(bundleOf(result));
  });

  it('changes nothing but Software ids and the edges to them on a full report', () => {
    const intel = { kind: 'ip', report: fixture('ip-report-8.8.8.8.json') } as const;
    const old = run({ type: 'ipv4-addr', value: '8.8.8.8' }, intel);
    const latest = run({ type: 'ipv4-addr', value: '8.8.8.8' }, intel, { idRules: rulesOf('7.260817.0') });
    expect(latest.objects).toHaveLength(old.objects.length);
    const moved = old.objects.filter((o, i) => latest.objects[i]!.id !== o.id).map((o) => o.type);
    expect(moved).toContain('software'); // "Google Frontend" is not lower case
    expect(new Set(moved)).toEqual(new Set(['software', 'relationship']));
    expect(latest.observableId).toBe(old.observableId);
    expect(latest.indicatorId).toBe(old.indicatorId);
    expectValidBundle(bundleOf(latest));
  });
});
