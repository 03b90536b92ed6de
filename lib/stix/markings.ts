/**
 * TLP marking definitions as OpenCTI knows them (docs/opencti.md §14) and the connector max-TLP
 * rule. OpenCTI gives TLP markings static ids; the ones STIX 2.1 defines are emitted in their
 * spec form, and TLP:AMBER+STRICT, which STIX 2.1 lacks, in the statement form OpenCTI's own
 * connectors use (`x_opencti_definition_type` / `x_opencti_definition`).
 */
import { TLP_LEVELS, type TlpLevel } from '../config';
import type { StixObject } from './core';

export type { TlpLevel } from '../config';

export interface MarkingDefinition extends StixObject {
  type: 'marking-definition';
  spec_version: '2.1';
  id: string;
  created: string;
  name: string;
  definition_type: 'tlp' | 'statement';
  definition: { tlp: string } | { statement: string };
  x_opencti_definition_type?: 'TLP';
  x_opencti_definition?: TlpLevel;
}

const TLP_CLEAR_ID = 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9';
const TLP_GREEN_ID = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
const TLP_AMBER_ID = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
const TLP_AMBER_STRICT_ID = 'marking-definition--826578e1-40ad-459f-bc73-ede076f81f37';
const TLP_RED_ID = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';

/** The creation time STIX 2.1 fixes for its TLP marking objects. */
const STIX_TLP_CREATED = '2017-01-20T00:00:00.000Z';

function stixTlp(id: string, colour: 'white' | 'green' | 'amber' | 'red'): MarkingDefinition {
  return Object.freeze({
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: STIX_TLP_CREATED,
    definition_type: 'tlp',
    name: `TLP:${colour.toUpperCase()}`,
    definition: Object.freeze({ tlp: colour }),
  });
}

// TLP:CLEAR (TLP 2.0) and TLP:WHITE (TLP 1.0) are one marking in OpenCTI with the spec's WHITE id.
const TLP_WHITE = stixTlp(TLP_CLEAR_ID, 'white');

const TLP_AMBER_STRICT: MarkingDefinition = Object.freeze({
  type: 'marking-definition',
  spec_version: '2.1',
  id: TLP_AMBER_STRICT_ID,
  created: '2022-08-01T00:00:00.000Z',
  name: 'TLP:AMBER+STRICT',
  definition_type: 'statement',
  definition: Object.freeze({ statement: 'custom' }),
  x_opencti_definition_type: 'TLP',
  x_opencti_definition: 'TLP:AMBER+STRICT',
});

/** The marking-definition object of each TLP level, with OpenCTI's static ids. */
export const TLP_MARKINGS: Readonly<Record<TlpLevel, MarkingDefinition>> = Object.freeze({
  'TLP:CLEAR': TLP_WHITE,
  'TLP:WHITE': TLP_WHITE,
  'TLP:GREEN': stixTlp(TLP_GREEN_ID, 'green'),
  'TLP:AMBER': stixTlp(TLP_AMBER_ID, 'amber'),
  'TLP:AMBER+STRICT': TLP_AMBER_STRICT,
  'TLP:RED': stixTlp(TLP_RED_ID, 'red'),
});

export function tlpMarkingId(level: TlpLevel): string {
  return TLP_MARKINGS[level].id;
}

// A shared id reads back as TLP:CLEAR, the name OpenCTI 6.x shows for it.
const LEVEL_BY_ID: ReadonlyMap<string, TlpLevel> = new Map([
  [TLP_CLEAR_ID, 'TLP:CLEAR'],
  [TLP_GREEN_ID, 'TLP:GREEN'],
  [TLP_AMBER_ID, 'TLP:AMBER'],
  [TLP_AMBER_STRICT_ID, 'TLP:AMBER+STRICT'],
  [TLP_RED_ID, 'TLP:RED'],
]);

/** Whether the id is one of OpenCTI's static TLP marking ids. */
export function isTlpMarkingId(id: string): boolean {
  return LEVEL_BY_ID.has(id);
}

/** How restrictive each level is; CLEAR and WHITE are the same level. */
const RESTRICTION: Readonly<Record<TlpLevel, number>> = {
  'TLP:CLEAR': 0,
  'TLP:WHITE': 0,
  'TLP:GREEN': 1,
  'TLP:AMBER': 2,
  'TLP:AMBER+STRICT': 3,
  'TLP:RED': 4,
};

/** The most restrictive of the levels; an empty list means no marking, i.e. TLP:CLEAR. */
export function mostRestrictiveTlp(levels: readonly TlpLevel[]): TlpLevel {
  return levels.reduce<TlpLevel>(
    (most, level) => (RESTRICTION[level] > RESTRICTION[most] ? level : most),
    'TLP:CLEAR',
  );
}

/**
 * The most restrictive TLP among marking refs, or undefined when none is a TLP marking. Other
 * markings (PAP, statements, custom TLPs with random ids) are ignored.
 */
export function tlpFromMarkingRefs(refs: readonly string[]): TlpLevel | undefined {
  const levels = refs.flatMap((ref) => {
    const level = LEVEL_BY_ID.get(ref);
    return level ? [level] : [];
  });
  return levels.length === 0 ? undefined : mostRestrictiveTlp(levels);
}

/**
 * The TLPs a connector configured with a given max TLP may process, as OpenCTI's
 * `check_max_tlp` lists them (not `x_opencti_order`, which differs between fresh and upgraded
 * platforms).
 */
const ALLOWED_UNDER: Readonly<Record<TlpLevel, readonly TlpLevel[]>> = {
  'TLP:RED': TLP_LEVELS,
  'TLP:AMBER+STRICT': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT'],
  'TLP:AMBER': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER'],
  'TLP:GREEN': ['TLP:WHITE', 'TLP:CLEAR', 'TLP:GREEN'],
  'TLP:CLEAR': ['TLP:WHITE', 'TLP:CLEAR'],
  'TLP:WHITE': ['TLP:WHITE', 'TLP:CLEAR'],
};

/** Whether data marked `tlp` may be sent on under `maxTlp`; no TLP marking counts as TLP:CLEAR. */
export function isTlpAllowed(tlp: TlpLevel | undefined, maxTlp: TlpLevel): boolean {
  return ALLOWED_UNDER[maxTlp].includes(tlp ?? 'TLP:CLEAR');
}
