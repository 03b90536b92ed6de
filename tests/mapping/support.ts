/**
 * Shared material of the mapping tests: settings, sample loading, bundle assembly, and an id
 * computation written independently of lib/stix (docs/opencti.md §11.1) to check its ids against.
 */
import fs from 'node:fs';
import path from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import type { MappingSettings } from '../../lib/config';
import type { Observable } from '../../lib/jobs/types';
import { mapIntel, type MappingResult } from '../../lib/mapping';
import type { Intel } from '../../lib/criminalip/intel';
import { BundleBuilder, type StixBundle, type StixObject } from '../../lib/stix';
import type { IdRules } from '../../lib/stix/id-rules';

export const SAMPLES = path.resolve(__dirname, '../fixtures/reference/criminalip-samples');
export const FIXTURES = path.resolve(__dirname, '../fixtures/mapping');
export const GEOGRAPHY = path.resolve(__dirname, '../fixtures/reference/opencti/geography.json');

export const NOW = new Date('2025-06-01T12:00:00.000Z');

export const TLP = {
  clear: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;

/** The documented defaults, spelt out so a test reads its own thresholds. */
export const SETTINGS: MappingSettings = {
  scoreWords: { safe: 10, low: 30, moderate: 50, dangerous: 75, critical: 95 },
  scorePolicy: 'max',
  indicatorThreshold: 'dangerous',
  phishingThreshold: 70,
  indicatorValidityDays: 30,
  maxRelatedDomains: 50,
  maxVulnerabilities: 100,
  scoreUpdate: 'own',
  indicatorConfidence: 'evidence',
};

export function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function sample(name: string): unknown {
  return readJson(path.join(SAMPLES, name));
}

export function fixture(name: string): unknown {
  return readJson(path.join(FIXTURES, name));
}

export interface RunOptions {
  settings?: Partial<MappingSettings>;
  markingRefs?: string[];
  original?: StixObject;
  stixId?: string;
  idRules?: IdRules;
}

export function run(
  observable: Omit<Observable, 'markingRefs'>,
  intel: Intel,
  options: RunOptions = {},
): MappingResult {
  return mapIntel({
    observable: {
      ...observable,
      ...(options.original ? { original: options.original } : {}),
      ...(options.stixId ? { stixId: options.stixId } : {}),
    },
    intel,
    settings: { ...SETTINGS, ...options.settings },
    markingRefs: options.markingRefs ?? [],
    now: NOW,
    ...(options.idRules ? { idRules: options.idRules } : {}),
  });
}

export function bundleOf(result: MappingResult): StixBundle {
  return new BundleBuilder().add(...result.objects).build();
}

export function ofType(result: MappingResult, type: string): StixObject[] {
  return result.objects.filter((o) => o.type === type);
}

export function find(result: MappingResult, id: string): StixObject | undefined {
  return result.objects.find((o) => o.id === id);
}

export function relationships(result: MappingResult, type?: string): StixObject[] {
  return ofType(result, 'relationship').filter((r) => type === undefined || r.relationship_type === type);
}

/** Is there a relationship of that type from source to target? */
export function linked(result: MappingResult, type: string, source: string, target: string): boolean {
  return relationships(result, type).some((r) => r.source_ref === source && r.target_ref === target);
}

// ---- independent id computation (docs/opencti.md §11.1) -------------------------------------------

const OASIS_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

/**
 * RFC 8785 for the flat objects of strings and integers ids are made of: keys sorted, no blanks,
 * JSON.stringify escaping. Deliberately not lib/stix's canonical-json.
 */
function canonicalFlat(properties: Record<string, string | number>): string {
  const keys = Object.keys(properties).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(properties[k])}`).join(',')}}`;
}

export function expectedId(type: string, properties: Record<string, string | number>): string {
  return `${type}--${uuidv5(canonicalFlat(properties), OASIS_NAMESPACE)}`;
}

export const ids = {
  value: (type: string, value: string) => expectedId(type, { value }),
  as: (number: number) => expectedId('autonomous-system', { number }),
  country: (name: string) =>
    expectedId('location', { name: name.toLowerCase(), x_opencti_location_type: 'Country' }),
  city: (name: string) =>
    expectedId('location', { name: name.toLowerCase(), x_opencti_location_type: 'City' }),
  vulnerability: (name: string) => expectedId('vulnerability', { name: name.toLowerCase() }),
  software: (p: Record<string, string>) => expectedId('software', p),
  indicator: (pattern: string) => expectedId('indicator', { pattern }),
  relationship: (type: string, source: string, target: string) =>
    expectedId('relationship', { relationship_type: type, source_ref: source, target_ref: target }),
  x509: (subject: string) => expectedId('x509-certificate', { subject }),
};
