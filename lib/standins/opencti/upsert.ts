/**
 * What OpenCTI's workers do with a pushed bundle, for the objects the product writes: observables,
 * indicators and relationships are created or upserted with the platform's rules
 * (src/utils/upsert-utils.js, the same in 6.9.17 and 7.x for these fields):
 *
 * - attributes (score, description, an indicator's validity, detection, confidence…) are replaced
 *   when the incoming confidence, capped by the user's maximum, is at least the stored one (0 when
 *   none), or when the stored value is empty;
 * - labels and external references are only added, whatever the confidence;
 * - `created_by` is replaced only when it is empty or the incoming confidence is strictly higher,
 *   and never by an empty value (7.x).
 *
 * A bundle object without `confidence` comes in at the user's maximum, as OpenCTI does. Where the
 * OpenCTI properties (score, description, author, detection) are read from is PropertySource.
 */
import type { StixBundle, StixObject } from '../../stix/core';
import { mergeStixObjects } from '../../stix/bundle';
import { OPENCTI_SCO_EXTENSION, OPENCTI_SDO_EXTENSION } from '../../stix/opencti-extensions';
import type { StandInObservable } from './model';

/** OpenCTI's property extensions: for SCOs (the platform's own export fills it) and the others. */
const SCO_EXTENSION = OPENCTI_SCO_EXTENSION;
const SDO_EXTENSION = OPENCTI_SDO_EXTENSION;

/**
 * 'top-level': pycti 6.9 … 7.260817.0, `x_opencti_*` first, then the OpenCTI extension;
 * 'extensions': an importer that reads OpenCTI's properties from its extensions only, where
 * newer producers write them (docs/opencti-7.md §5): top-level `x_opencti_*` are ignored, the
 * STIX properties (`labels`, `created_by_ref`) still count.
 */
export type PropertySource = 'top-level' | 'extensions';

const ENTITY_TYPE_OF: Record<string, string> = {
  'ipv4-addr': 'IPv4-Addr',
  'ipv6-addr': 'IPv6-Addr',
  'domain-name': 'Domain-Name',
  hostname: 'Hostname',
  url: 'Url',
};

export interface StandInIndicator {
  id: string;
  standard_id: string;
  name: string;
  pattern: string;
  valid_from: string;
  valid_until?: string;
  score?: number;
  detection?: boolean;
  revoked?: boolean;
  confidence?: number;
  description?: string;
  createdById?: string;
  labels: string[];
  updated_at: string;
}

export interface StandInRelationship {
  standard_id: string;
  relationship_type: string;
  source_ref: string;
  target_ref: string;
}

export type StoredObservable = StandInObservable & { id: string };

/** The stand-in's knowledge that bundles change; observables are the platform's own list. */
export interface Knowledge {
  observables: StoredObservable[];
  indicators: Map<string, StandInIndicator>;
  relationships: Map<string, StandInRelationship>;
}

export interface UpsertContext {
  /** The connector user's max confidence level (OpenCTI caps every incoming confidence by it). */
  userMaxConfidence: number;
  propertiesFrom?: PropertySource;
  now: () => Date;
  newId: () => string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function extensionOf(object: StixObject, key: string): Record<string, unknown> {
  const extension = isRecord(object.extensions) ? object.extensions[key] : undefined;
  return isRecord(extension) ? extension : {};
}

/** The object's top-level `x_opencti_*` properties as the importer sees them. */
function topLevel(object: StixObject, context: UpsertContext): Record<string, unknown> {
  return context.propertiesFrom === 'extensions' ? {} : object;
}

function integer(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function union(current: string[] | undefined, incoming: string[]): string[] {
  return [...new Set([...(current ?? []), ...incoming.map((l) => l.toLowerCase())])];
}

/** The confidence an incoming object is upserted with, and whether it may replace attributes. */
function confidenceOf(object: StixObject, stored: number | undefined, context: UpsertContext) {
  const input = Math.min(integer(object.confidence) ?? context.userMaxConfidence, context.userMaxConfidence);
  return { input, matches: input >= (stored ?? 0), higher: input > (stored ?? 0) };
}

/** Replaced when confidence allows or nothing is stored; an absent input changes nothing. */
function attribute<T>(current: T | undefined, incoming: T | undefined, matches: boolean): T | undefined {
  if (incoming === undefined) return current;
  return matches || current === undefined ? incoming : current;
}

function author(current: string | undefined, incoming: string | undefined, higher: boolean) {
  if (incoming === undefined) return current;
  return current === undefined || higher ? incoming : current;
}

function upsertObservable(knowledge: Knowledge, object: StixObject, context: UpsertContext): void {
  const entityType = ENTITY_TYPE_OF[object.type];
  const value = text(object.value);
  if (!entityType || value === undefined) return;
  const extension = extensionOf(object, SCO_EXTENSION);
  const top = topLevel(object, context);
  const score = integer(top.x_opencti_score) ?? integer(extension.score);
  const description = text(top.x_opencti_description) ?? text(extension.description);
  const createdBy =
    text(object.created_by_ref) ?? text(top.x_opencti_created_by_ref) ?? text(extension.created_by_ref);
  const labels = [...strings(object.labels), ...strings(top.x_opencti_labels), ...strings(extension.labels)];
  const at = context.now().toISOString();
  const existing = knowledge.observables.find((o) => o.standard_id === object.id);
  if (!existing) {
    const { input } = confidenceOf(object, undefined, context);
    knowledge.observables.push({
      id: context.newId(),
      standard_id: object.id,
      entity_type: entityType,
      observable_value: value,
      created_at: at,
      updated_at: at,
      confidence: input,
      labels: union([], labels),
      ...(score !== undefined ? { score } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(createdBy !== undefined ? { createdById: createdBy } : {}),
    });
    return;
  }
  const { input, matches, higher } = confidenceOf(object, existing.confidence, context);
  const nextScore = attribute(existing.score, score, matches);
  const nextDescription = attribute(existing.description, description, matches);
  const nextAuthor = author(existing.createdById, createdBy, higher);
  if (nextScore !== undefined) existing.score = nextScore;
  if (nextDescription !== undefined) existing.description = nextDescription;
  if (nextAuthor !== undefined) existing.createdById = nextAuthor;
  if (matches) existing.confidence = input;
  existing.labels = union(existing.labels, labels);
  existing.updated_at = at;
}

function upsertIndicator(knowledge: Knowledge, object: StixObject, context: UpsertContext): void {
  const extension = extensionOf(object, SDO_EXTENSION);
  const top = topLevel(object, context);
  const score = integer(top.x_opencti_score) ?? integer(extension.score);
  const detectionValue = top.x_opencti_detection ?? extension.detection;
  const detection = typeof detectionValue === 'boolean' ? detectionValue : undefined;
  const pattern = text(object.pattern);
  const validFrom = text(object.valid_from);
  if (pattern === undefined || validFrom === undefined) return;
  const at = context.now().toISOString();
  const labels = strings(object.labels);
  const existing = knowledge.indicators.get(object.id);
  if (!existing) {
    const { input } = confidenceOf(object, undefined, context);
    const created: StandInIndicator = {
      id: context.newId(),
      standard_id: object.id,
      name: text(object.name) ?? pattern,
      pattern,
      valid_from: validFrom,
      confidence: input,
      labels: union([], labels),
      updated_at: at,
    };
    const set = <K extends keyof StandInIndicator>(key: K, value: StandInIndicator[K] | undefined) => {
      if (value !== undefined) created[key] = value;
    };
    set('valid_until', text(object.valid_until));
    set('score', score);
    set('detection', detection);
    set('revoked', typeof object.revoked === 'boolean' ? object.revoked : undefined);
    set('description', text(object.description));
    set('createdById', text(object.created_by_ref));
    knowledge.indicators.set(object.id, created);
    return;
  }
  const { input, matches, higher } = confidenceOf(object, existing.confidence, context);
  const replace = <K extends keyof StandInIndicator>(key: K, value: StandInIndicator[K] | undefined) => {
    const next = attribute(existing[key], value, matches);
    if (next !== undefined) existing[key] = next;
  };
  replace('name', text(object.name));
  replace('valid_from', validFrom);
  replace('valid_until', text(object.valid_until));
  replace('score', score);
  replace('detection', detection);
  replace('revoked', typeof object.revoked === 'boolean' ? object.revoked : undefined);
  replace('description', text(object.description));
  const nextAuthor = author(existing.createdById, text(object.created_by_ref), higher);
  if (nextAuthor !== undefined) existing.createdById = nextAuthor;
  if (matches) existing.confidence = input;
  existing.labels = union(existing.labels, labels);
  existing.updated_at = at;
}

function upsertRelationship(knowledge: Knowledge, object: StixObject): void {
  const type = text(object.relationship_type);
  const source = text(object.source_ref);
  const target = text(object.target_ref);
  if (!type || !source || !target) return;
  knowledge.relationships.set(object.id, {
    standard_id: object.id,
    relationship_type: type,
    source_ref: source,
    target_ref: target,
  });
}

/** Ingests a bundle's objects as the workers would; other object types are accepted and not kept. */
export function ingestBundle(knowledge: Knowledge, bundle: StixBundle, context: UpsertContext): void {
  for (const object of bundle.objects) {
    if (object.type in ENTITY_TYPE_OF) upsertObservable(knowledge, object, context);
    else if (object.type === 'indicator') upsertIndicator(knowledge, object, context);
    else if (object.type === 'relationship') upsertRelationship(knowledge, object);
  }
}

/**
 * The bundle a playbook's next step ("Send for ingestion") works on: the step's input with its
 * answer laid over it, lists joined, the way the platform merges them. A label the step's input
 * carried therefore survives even when the answer left it out.
 */
export function playbookOutput(previous: StixBundle, answer: StixBundle): StixBundle {
  const byId = new Map<string, StixObject>();
  for (const object of [...previous.objects, ...answer.objects]) {
    const earlier = byId.get(object.id);
    byId.set(object.id, earlier ? mergeStixObjects(earlier, object) : object);
  }
  return { ...answer, objects: [...byId.values()] };
}

/** Is the indicator detecting now: detection on, not revoked, and still valid. */
export function isDetecting(indicator: StandInIndicator, now: Date): boolean {
  if (indicator.detection === false || indicator.revoked === true) return false;
  return indicator.valid_until === undefined || new Date(indicator.valid_until).getTime() > now.getTime();
}
