/** TLP markings: OpenCTI's static ids, the most-restrictive rule and the connector max-TLP table. */
import { TLP_LEVELS, type TlpLevel } from '../../lib/config';
import {
  TLP_MARKINGS,
  isTlpAllowed,
  isTlpMarkingId,
  markingDefinition,
  mostRestrictiveTlp,
  tlpFromMarkingRefs,
  tlpMarkingId,
} from '../../lib/stix';
import { validateStixObject } from '../helpers/stix-validator';

const ID = {
  clear: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  amberStrict: 'marking-definition--826578e1-40ad-459f-bc73-ede076f81f37',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};

describe('static TLP marking ids (docs/opencti.md §14)', () => {
  it.each<[TlpLevel, string]>([
    ['TLP:CLEAR', ID.clear],
    ['TLP:WHITE', ID.clear],
    ['TLP:GREEN', ID.green],
    ['TLP:AMBER', ID.amber],
    ['TLP:AMBER+STRICT', ID.amberStrict],
    ['TLP:RED', ID.red],
  ])('%s has id %s', (level, id) => {
    expect(tlpMarkingId(level)).toBe(id);
    expect(TLP_MARKINGS[level].id).toBe(id);
  });

  it.each(TLP_LEVELS)('the %s marking-definition object is valid STIX 2.1', (level) => {
    expect(validateStixObject(markingDefinition(level))).toEqual([]);
  });

  it('writes the STIX 2.1 TLP objects in their spec form and AMBER+STRICT as OpenCTI connectors do', () => {
    expect(markingDefinition('TLP:GREEN')).toMatchObject({
      definition_type: 'tlp',
      definition: { tlp: 'green' },
      name: 'TLP:GREEN',
      created: '2017-01-20T00:00:00.000Z',
    });
    expect(markingDefinition('TLP:CLEAR')).toMatchObject({ definition: { tlp: 'white' }, name: 'TLP:WHITE' });
    expect(markingDefinition('TLP:AMBER+STRICT')).toMatchObject({
      definition_type: 'statement',
      x_opencti_definition_type: 'TLP',
      x_opencti_definition: 'TLP:AMBER+STRICT',
    });
  });

  it('cannot be altered by a caller', () => {
    expect(() => {
      (markingDefinition('TLP:RED') as { name: string }).name = 'TLP:CLEAR';
    }).toThrow(TypeError);
  });
});

describe('tlpFromMarkingRefs', () => {
  it('reads each static id back as its level, the shared CLEAR/WHITE id as TLP:CLEAR', () => {
    expect(tlpFromMarkingRefs([ID.clear])).toBe('TLP:CLEAR');
    expect(tlpFromMarkingRefs([ID.green])).toBe('TLP:GREEN');
    expect(tlpFromMarkingRefs([ID.amber])).toBe('TLP:AMBER');
    expect(tlpFromMarkingRefs([ID.amberStrict])).toBe('TLP:AMBER+STRICT');
    expect(tlpFromMarkingRefs([ID.red])).toBe('TLP:RED');
  });

  it('picks the most restrictive TLP whatever the order', () => {
    expect(tlpFromMarkingRefs([ID.red, ID.clear, ID.green])).toBe('TLP:RED');
    expect(tlpFromMarkingRefs([ID.green, ID.amberStrict, ID.amber])).toBe('TLP:AMBER+STRICT');
    expect(tlpFromMarkingRefs([ID.amber, ID.green])).toBe('TLP:AMBER');
    expect(tlpFromMarkingRefs([ID.clear, ID.green])).toBe('TLP:GREEN');
  });

  it('ignores marking ids it does not know (PAP, statements, custom markings)', () => {
    const pap = 'marking-definition--1d8ec2a3-2d7e-5a1e-bc9d-b2b8c2f1a0f1';
    const tlp2Green = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
    expect(tlpFromMarkingRefs([pap, tlp2Green])).toBeUndefined();
    expect(tlpFromMarkingRefs([pap, ID.green, 'not-an-id'])).toBe('TLP:GREEN');
    expect(tlpFromMarkingRefs([])).toBeUndefined();
    expect(isTlpMarkingId(pap)).toBe(false);
    expect(isTlpMarkingId(ID.amberStrict)).toBe(true);
  });
});

describe('mostRestrictiveTlp', () => {
  it('orders CLEAR = WHITE < GREEN < AMBER < AMBER+STRICT < RED', () => {
    expect(mostRestrictiveTlp(['TLP:GREEN', 'TLP:WHITE'])).toBe('TLP:GREEN');
    expect(mostRestrictiveTlp(['TLP:AMBER+STRICT', 'TLP:AMBER'])).toBe('TLP:AMBER+STRICT');
    expect(mostRestrictiveTlp(['TLP:AMBER', 'TLP:RED', 'TLP:CLEAR'])).toBe('TLP:RED');
    expect(['TLP:CLEAR', 'TLP:WHITE']).toContain(mostRestrictiveTlp(['TLP:WHITE', 'TLP:CLEAR']));
  });

  it('treats no level at all as TLP:CLEAR', () => {
    expect(mostRestrictiveTlp([])).toBe('TLP:CLEAR');
  });
});

describe('isTlpAllowed: the connector max-TLP rule table (check_max_tlp)', () => {
  // docs/opencti.md §14, row by row: which TLPs each max_tlp lets through.
  const RULES: Record<TlpLevel, TlpLevel[]> = {
    'TLP:RED': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED'],
    'TLP:AMBER+STRICT': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT'],
    'TLP:AMBER': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER'],
    'TLP:GREEN': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN'],
    'TLP:CLEAR': ['TLP:WHITE', 'TLP:CLEAR'],
    'TLP:WHITE': ['TLP:WHITE', 'TLP:CLEAR'],
  };
  const pairs = TLP_LEVELS.flatMap((max) =>
    TLP_LEVELS.map((tlp): [TlpLevel, TlpLevel, boolean] => [max, tlp, RULES[max].includes(tlp)]),
  );

  it('has a case for every pair of levels', () => {
    expect(pairs).toHaveLength(36);
  });

  it.each(pairs)('max %s, data %s → allowed %s', (max, tlp, allowed) => {
    expect(isTlpAllowed(tlp, max)).toBe(allowed);
  });

  it.each(TLP_LEVELS)('an unmarked observable counts as TLP:CLEAR under max %s', (max) => {
    expect(isTlpAllowed(undefined, max)).toBe(true);
  });

  it('follows the marking refs of a real observable', () => {
    expect(isTlpAllowed(tlpFromMarkingRefs([ID.green, ID.amberStrict]), 'TLP:AMBER')).toBe(false);
    expect(isTlpAllowed(tlpFromMarkingRefs([ID.green, ID.amberStrict]), 'TLP:AMBER+STRICT')).toBe(true);
  });
});
