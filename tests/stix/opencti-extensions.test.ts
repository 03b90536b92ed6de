/**
 * The bundle that leaves for OpenCTI carries each OpenCTI property twice, at the top level and in
 * OpenCTI's extension, with the same value (docs/opencti-7.md §5), and stays valid STIX 2.1.
 */
import {
  CRIMINAL_IP_AUTHOR,
  OPENCTI_SCO_EXTENSION,
  OPENCTI_SDO_EXTENSION,
  country,
  equalityPattern,
  indicator,
  ipv4Addr,
  openCtiBundle,
  relationship,
  withOpenCtiExtension,
  type StixObject,
} from '../../lib/stix';
import { expectValidBundle } from '../helpers/stix-validator';

const created = new Date('2026-11-20T10:00:00.000Z');
const reference = { source_name: 'Criminal IP', url: 'https://www.criminalip.io/asset/report/203.0.113.7' };
const ip = ipv4Addr('203.0.113.7', {
  createdByRef: CRIMINAL_IP_AUTHOR.id,
  score: 75,
  description: 'Criminal IP: dangerous',
  labels: ['Scanner', 'vpn'],
  externalReferences: [reference],
});
const ext = (object: StixObject, key: string) =>
  (object.extensions as Record<string, Record<string, unknown>>)[key];

describe('OpenCTI extensions', () => {
  it('mirrors score, description, labels, author and references of an observable', () => {
    expect(ext(withOpenCtiExtension(ip), OPENCTI_SCO_EXTENSION)).toEqual({
      extension_type: 'property-extension',
      score: 75,
      description: 'Criminal IP: dangerous',
      labels: ['scanner', 'vpn'],
      created_by_ref: CRIMINAL_IP_AUTHOR.id,
      external_references: [reference],
    });
  });

  it("keeps what OpenCTI's extension held, with our values over its older ones", () => {
    const received: StixObject = {
      ...ip,
      extensions: {
        [OPENCTI_SCO_EXTENSION]: { extension_type: 'property-extension', id: 'internal-1', score: 10 },
      },
    };
    expect(ext(withOpenCtiExtension(received), OPENCTI_SCO_EXTENSION)).toMatchObject({
      id: 'internal-1',
      score: 75,
    });
  });

  it('leaves a property the top level does not set as the extension had it (the analyst rules decided)', () => {
    const { x_opencti_score: _dropped, ...withoutScore } = ip;
    const received: StixObject = {
      ...withoutScore,
      extensions: { [OPENCTI_SCO_EXTENSION]: { extension_type: 'property-extension', score: 80 } },
    };
    expect(ext(withOpenCtiExtension(received), OPENCTI_SCO_EXTENSION)).toMatchObject({ score: 80 });
  });

  it('gives an observable without OpenCTI properties no extension', () => {
    expect(withOpenCtiExtension(ipv4Addr('203.0.113.8')).extensions).toBeUndefined();
  });

  it("mirrors an Indicator's score, detection and main observable type into the SDO extension", () => {
    const sdo = indicator(
      {
        pattern: equalityPattern('ipv4-addr', '203.0.113.7'),
        name: '203.0.113.7',
        validFrom: created,
        validUntil: new Date('2026-12-20T10:00:00.000Z'),
        score: 75,
        mainObservableType: 'IPv4-Addr',
        detection: false,
      },
      { created, createdByRef: CRIMINAL_IP_AUTHOR.id },
    );
    expect(ext(withOpenCtiExtension(sdo), OPENCTI_SDO_EXTENSION)).toEqual({
      extension_type: 'property-extension',
      score: 75,
      detection: false,
      main_observable_type: 'IPv4-Addr',
    });
    expect(
      ext(withOpenCtiExtension(country({ name: 'France', iso2: 'FR' }, { created })), OPENCTI_SDO_EXTENSION),
    ).toEqual({ extension_type: 'property-extension', location_type: 'Country' });
    const edge = relationship('related-to', ip.id, sdo.id, { created });
    expect(withOpenCtiExtension(edge)).toBe(edge);
  });

  it('merges two versions of one object before mirroring, and the bundle is valid STIX 2.1', () => {
    const later = ipv4Addr('203.0.113.7', { labels: ['tor'], createdByRef: CRIMINAL_IP_AUTHOR.id });
    const bundle = openCtiBundle([ip, CRIMINAL_IP_AUTHOR, later]);
    const [observable] = bundle.objects;
    expect(observable!.labels).toEqual(['scanner', 'vpn', 'tor']);
    expect(ext(observable!, OPENCTI_SCO_EXTENSION)!.labels).toEqual(['scanner', 'vpn', 'tor']);
    expectValidBundle(bundle);
  });
});
