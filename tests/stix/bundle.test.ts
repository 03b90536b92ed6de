/** Bundle assembly (de-duplication, merging, dangling references) and the test validator itself. */
import {
  BundleBuilder,
  CRIMINAL_IP_AUTHOR,
  danglingRefs,
  domainName,
  ipv4Addr,
  markingDefinition,
  mergeStixObjects,
  relationship,
  tlpMarkingId,
  type StixBundle,
  type StixObject,
} from '../../lib/stix';
import { expectValidBundle, validateBundle, validateStixObject } from '../helpers/stix-validator';

const created = new Date('2025-01-01T00:00:00.000Z');
const green = tlpMarkingId('TLP:GREEN');
const amber = tlpMarkingId('TLP:AMBER');

describe('BundleBuilder', () => {
  it('keeps one object per id, in order of first appearance', () => {
    const ip = ipv4Addr('8.8.8.8');
    const domain = domainName('example.com');
    const builder = new BundleBuilder().add(ip, domain).add(ipv4Addr('8.8.8.8'));
    expect(builder.objects().map((object) => object.id)).toEqual([ip.id, domain.id]);
    expect(builder.size).toBe(2);
    expect(builder.has(ip.id)).toBe(true);
    expect(builder.has(ipv4Addr('1.1.1.1').id)).toBe(false);
  });

  it('merges two versions of one object: later properties win, lists keep both sides', () => {
    const first = ipv4Addr('8.8.8.8', { score: 40, labels: ['dns'], markingRefs: [green] });
    const later = ipv4Addr('8.8.8.8', {
      score: 85,
      labels: ['scanner', 'dns'],
      markingRefs: [amber],
      externalReferences: [
        { source_name: 'Criminal IP', url: 'https://www.criminalip.io/asset/report/8.8.8.8' },
      ],
    });
    const merged = new BundleBuilder().add(first, later).get(first.id);
    expect(merged).toMatchObject({
      x_opencti_score: 85,
      labels: ['dns', 'scanner'],
      x_opencti_labels: ['dns', 'scanner'],
      object_marking_refs: [green, amber],
      external_references: [
        { source_name: 'Criminal IP', url: 'https://www.criminalip.io/asset/report/8.8.8.8' },
      ],
    });
    expect(mergeStixObjects(later, first)).toMatchObject({ x_opencti_score: 40 });
    // Inputs are left untouched.
    expect(first.x_opencti_score).toBe(40);
    expect(first.labels).toEqual(['dns']);
  });

  it('builds a bundle with a fresh random bundle id', () => {
    const builder = new BundleBuilder().add(ipv4Addr('8.8.8.8'));
    const one = builder.build();
    const two = builder.build();
    expect(one.type).toBe('bundle');
    expect(one.id).toMatch(/^bundle--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(one.id).not.toBe(two.id);
    expect(one.objects).toEqual(two.objects);
  });
});

describe('danglingRefs', () => {
  const ip = ipv4Addr('8.8.8.8', { createdByRef: CRIMINAL_IP_AUTHOR.id, markingRefs: [green] });
  const domain = domainName('example.com');
  const rel = relationship('resolves-to', domain.id, ip.id, { created, createdByRef: CRIMINAL_IP_AUTHOR.id });
  const bundleOf = (...objects: StixObject[]): StixBundle => ({ type: 'bundle', id: 'bundle--x', objects });

  it('finds nothing when every reference is in the bundle or a static TLP marking', () => {
    expect(danglingRefs(bundleOf(CRIMINAL_IP_AUTHOR, ip, domain, rel))).toEqual([]);
  });

  it('lists each missing target once, from *_ref and *_refs properties', () => {
    expect(danglingRefs(bundleOf(ip, rel))).toEqual([CRIMINAL_IP_AUTHOR.id, domain.id]);
  });

  it('looks into nested properties such as granular markings', () => {
    const marking = 'marking-definition--3a7b0f6c-1d2e-4f5a-8b9c-0d1e2f3a4b5c';
    const withGranular = { ...domain, granular_markings: [{ marking_ref: marking, selectors: ['value'] }] };
    expect(danglingRefs(bundleOf(withGranular))).toEqual([marking]);
  });

  it('accepts references to objects known to exist in OpenCTI already', () => {
    expect(danglingRefs(bundleOf(rel, ip), new Set([domain.id, CRIMINAL_IP_AUTHOR.id]))).toEqual([]);
  });
});

describe('the STIX validator used by tests', () => {
  const ip = ipv4Addr('8.8.8.8');

  it('accepts valid objects and bundles', () => {
    expect(validateStixObject(ip)).toEqual([]);
    expectValidBundle(new BundleBuilder().add(ip, markingDefinition('TLP:RED')).build());
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a bad IPv4 value', { ...ip, value: '8.8.8.888' }, /\/value must match pattern/],
    [
      'an SDO without modified',
      { ...CRIMINAL_IP_AUTHOR, modified: undefined },
      /must have required property 'modified'/,
    ],
    [
      'a timestamp without milliseconds',
      { ...CRIMINAL_IP_AUTHOR, created: '2024-01-01T00:00:00Z' },
      /\/created/,
    ],
    ['an empty label list', { ...ip, labels: [] }, /labels/],
    ['a location with neither country, region nor coordinates', locationWithout(), /anyOf/],
    [
      'a latitude out of range',
      { ...locationWithout(), latitude: 91, longitude: 0 },
      /\/latitude must be <= 90/,
    ],
    ['an id of another type', { ...ip, id: domainName('example.com').id }, /\/id/],
    [
      'a hostname without value',
      { type: 'hostname', spec_version: '2.1', id: 'hostname--e862c830-fcab-5bea-833f-0a1acca621a2' },
      /non-empty string/,
    ],
    ['an OpenCTI score above 100', { ...ip, x_opencti_score: 150 }, /x_opencti_score/],
    ['a domain name with a space', { ...domainName('example.com'), value: 'exa mple.com' }, /idn-hostname/],
  ])('reports %s', (_name, object, message) => {
    const errors = validateStixObject(object);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });

  it('reports a malformed envelope, duplicate ids and dangling references in a bundle', () => {
    expect(validateBundle({ type: 'bundle', id: 'bundle--1', objects: [] }).join('\n')).toMatch(
      /bundle \/id|objects/,
    );
    const duplicated = {
      type: 'bundle',
      id: 'bundle--6f1c2c1e-33b9-4cbe-9e8b-2d6a4c1f9b2e',
      objects: [ip, ip],
    };
    expect(validateBundle(duplicated)).toEqual([`objects[1] ${ip.id}: duplicate id in the bundle`]);
    const rel = relationship('resolves-to', domainName('example.com').id, ip.id, { created });
    const dangling = new BundleBuilder().add(ip, rel).build();
    expect(validateBundle(dangling)).toEqual([
      `dangling reference: ${domainName('example.com').id} is neither in the bundle nor a static TLP marking`,
    ]);
    expect(validateBundle(dangling, { knownRefs: [domainName('example.com').id] })).toEqual([]);
  });

  function locationWithout(): Record<string, unknown> {
    return {
      type: 'location',
      spec_version: '2.1',
      id: 'location--b8d0549f-de06-5ebd-a6e9-d31a581dba5d',
      created: '2025-01-01T00:00:00.000Z',
      modified: '2025-01-01T00:00:00.000Z',
      name: 'France',
      x_opencti_location_type: 'Country',
    };
  }
});
