/**
 * OpenCTI changed its id formulas in 7.x (docs/opencti-7.md §4):
 *
 *   7.260416.0  every string that contributes to an id is trimmed; Note ids also hash
 *               `attribute_abstract` (the STIX `abstract`);
 *   7.260422.0  Software ids hash the lower-cased name.
 *
 * The builders compute the 6.9 ids (ids.ts). For a platform on the newer rules, applyIdRules
 * re-keys the objects whose id changes and every reference to them, relationships included
 * (their ids hash both ends), so the bundle carries the ids the connected platform computes.
 */
import type { StixBundle, StixObject } from './core';
import { generateId, relationshipId, sightingId, type SoftwareIdInput } from './ids';
import { toStixTime, type TimeInput } from './time';
import { StixInputError } from './errors';

export interface IdRules {
  /** 7.260416.0+: contributing strings are trimmed. */
  trimStrings: boolean;
  /** 7.260416.0+: Note ids include `attribute_abstract`. */
  noteAbstract: boolean;
  /** 7.260422.0+: Software ids use the lower-cased name. */
  softwareLowerCaseName: boolean;
}

/** OpenCTI 6.9.x and the 7.x LTS base (7.260309.0). */
export const ID_RULES_6_9: IdRules = {
  trimStrings: false,
  noteAbstract: false,
  softwareLowerCaseName: false,
};
/** OpenCTI 7.260422.0 and later. */
export const ID_RULES_7_LATEST: IdRules = {
  trimStrings: true,
  noteAbstract: true,
  softwareLowerCaseName: true,
};

const trimmed = (rules: IdRules, value: string | undefined) =>
  value !== undefined && rules.trimStrings ? value.trim() : value;

/** A Note's id under `rules`. */
export function noteIdFor(rules: IdRules, content: string, created?: TimeInput, abstract?: string): string {
  if (typeof content !== 'string' || content === '') {
    throw new StixInputError('note content', 'must be a non-empty string', content);
  }
  return generateId('note', {
    attribute_abstract: rules.noteAbstract ? trimmed(rules, abstract) : undefined,
    content: trimmed(rules, content),
    created: created === undefined ? undefined : toStixTime(created, 'note created'),
  });
}

/** A Software's id under `rules`. */
export function softwareIdFor(rules: IdRules, p: SoftwareIdInput): string {
  const name = trimmed(rules, p.name);
  return generateId('software', {
    cpe: trimmed(rules, p.cpe),
    name: name !== undefined && rules.softwareLowerCaseName ? name.toLowerCase() : name,
    swid: trimmed(rules, p.swid),
    vendor: trimmed(rules, p.vendor),
    version: trimmed(rules, p.version),
  });
}

const sameRules = (a: IdRules, b: IdRules) =>
  a.trimStrings === b.trimStrings &&
  a.noteAbstract === b.noteAbstract &&
  a.softwareLowerCaseName === b.softwareLowerCaseName;

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The id the object has under `rules`, for the types whose formula changed; undefined otherwise. */
function rekeyed(object: StixObject, rules: IdRules): string | undefined {
  if (object.type === 'note' && typeof object.content === 'string') {
    return noteIdFor(rules, object.content, str(object.created), str(object.abstract));
  }
  if (object.type === 'software') {
    return softwareIdFor(rules, {
      ...(str(object.name) !== undefined ? { name: str(object.name)! } : {}),
      ...(str(object.cpe) !== undefined ? { cpe: str(object.cpe)! } : {}),
      ...(str(object.swid) !== undefined ? { swid: str(object.swid)! } : {}),
      ...(str(object.vendor) !== undefined ? { vendor: str(object.vendor)! } : {}),
      ...(str(object.version) !== undefined ? { version: str(object.version)! } : {}),
    });
  }
  return undefined;
}

/** Replaces every id of `renamed` found in a `*_ref` / `*_refs` property, however deep. */
function rewriteRefs(value: unknown, renamed: Map<string, string>, key = ''): unknown {
  if (typeof value === 'string') {
    return key.endsWith('_ref') || key.endsWith('_refs') ? (renamed.get(value) ?? value) : value;
  }
  if (Array.isArray(value)) {
    return value.map((item) =>
      typeof item === 'string' && key.endsWith('_refs')
        ? (renamed.get(item) ?? item)
        : rewriteRefs(item, renamed),
    );
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewriteRefs(v, renamed, k);
    return out;
  }
  return value;
}

/** A relationship or sighting's id from its (possibly rewritten) ends. */
function edgeId(object: StixObject): string | undefined {
  if (object.type === 'relationship') {
    const { relationship_type: type, source_ref: source, target_ref: target } = object;
    if (typeof type !== 'string' || typeof source !== 'string' || typeof target !== 'string')
      return undefined;
    return relationshipId(type, source, target, str(object.start_time), str(object.stop_time));
  }
  if (object.type === 'sighting') {
    const where = object.where_sighted_refs;
    if (typeof object.sighting_of_ref !== 'string' || !Array.isArray(where) || where.length !== 1)
      return undefined;
    return sightingId(
      object.sighting_of_ref,
      String(where[0]),
      str(object.first_seen),
      str(object.last_seen),
    );
  }
  return undefined;
}

/**
 * The bundle with the ids `rules` give: Notes and Software re-keyed, references rewritten, and
 * relationships / sightings touching them re-keyed in turn. The 6.9 rules return it unchanged.
 */
export function applyIdRules(bundle: StixBundle, rules: IdRules): StixBundle {
  const objects = objectsUnderIdRules(bundle.objects, rules);
  return objects === bundle.objects ? bundle : { ...bundle, objects };
}

/**
 * applyIdRules for a list of objects: the same list when no id changes. Two objects the newer
 * rules make one (Software "Apache" and "apache") become the first of them, as the platform
 * would merge them into one entity.
 */
export function objectsUnderIdRules(list: StixObject[], rules: IdRules): StixObject[] {
  if (sameRules(rules, ID_RULES_6_9)) return list;
  const renamed = new Map<string, string>();
  for (const object of list) {
    const id = rekeyed(object, rules);
    if (id !== undefined && id !== object.id) renamed.set(object.id, id);
  }
  if (renamed.size === 0) return list;
  const apply = (list: StixObject[], map: Map<string, string>) =>
    list.map((object) => ({
      ...(rewriteRefs(object, map) as StixObject),
      id: map.get(object.id) ?? object.id,
    }));
  let objects = apply(list, renamed);
  // Edges hash their ends: re-key those whose ends moved; an edge between edges takes one more round.
  for (let round = 0; round < 3; round += 1) {
    const moved = new Map<string, string>();
    for (const object of objects) {
      const id = edgeId(object);
      if (id !== undefined && id !== object.id) moved.set(object.id, id);
    }
    if (moved.size === 0) break;
    objects = apply(objects, moved);
  }
  const seen = new Set<string>();
  return objects.filter((object) => !seen.has(object.id) && seen.add(object.id));
}
