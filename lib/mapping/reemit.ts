/**
 * The enriched observable as it goes back to OpenCTI.
 *
 * When OpenCTI sent the observable's STIX object (listen message, playbook), it is re-emitted with
 * all its properties so that a playbook's next step still sees them, and the enrichment is laid
 * over it: score, description and author replaced, labels and external references added to what
 * it had; markings are the enriched object's, which mapIntel makes the union of both. OpenCTI's own SCO extension, which its importer reads before the top-level
 * properties, is updated the same way.
 */
import type { StixObject } from '../stix';
import { OPENCTI_SCO_EXTENSION } from '../stix/opencti-extensions';

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function objectList(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value)
    ? value.filter(
        (v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v),
      )
    : [];
}

function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

function referenceKey(ref: Record<string, unknown>): string {
  return JSON.stringify([ref.source_name, ref.url, ref.external_id]);
}

function mergeReferences(...lists: unknown[]): Array<Record<string, unknown>> {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const ref of lists.flatMap(objectList))
    if (!byKey.has(referenceKey(ref))) byKey.set(referenceKey(ref), ref);
  return [...byKey.values()];
}

function updatedExtensions(original: unknown, enriched: StixObject, labels: string[]): unknown {
  if (typeof original !== 'object' || original === null || Array.isArray(original)) return original;
  const extensions = original as Record<string, unknown>;
  const octi = extensions[OPENCTI_SCO_EXTENSION];
  if (typeof octi !== 'object' || octi === null || Array.isArray(octi)) return original;
  const current = octi as Record<string, unknown>;
  const next: Record<string, unknown> = { ...current, labels: union(stringList(current.labels), labels) };
  if (enriched.x_opencti_score !== undefined) next.score = enriched.x_opencti_score;
  if (enriched.x_opencti_description !== undefined) next.description = enriched.x_opencti_description;
  if (enriched.created_by_ref !== undefined) next.created_by_ref = enriched.created_by_ref;
  next.external_references = mergeReferences(current.external_references, enriched.external_references);
  return { ...extensions, [OPENCTI_SCO_EXTENSION]: next };
}

/**
 * The enriched observable under `id`, laid over `original` when OpenCTI sent one of the same type.
 */
export function reemitObservable(
  enriched: StixObject,
  original: StixObject | undefined,
  id: string,
): StixObject {
  if (!original || original.type !== enriched.type) return { ...enriched, id };
  const labels = union(
    stringList(original.labels),
    stringList(original.x_opencti_labels),
    stringList(enriched.labels),
  );
  const references = mergeReferences(original.external_references, enriched.external_references);
  const merged: StixObject = { ...original, ...enriched, id };
  if (labels.length > 0) {
    merged.labels = labels;
    merged.x_opencti_labels = labels;
  }
  // The enriched object already carries the original's valid markings (mapIntel merges them).
  if (enriched.object_marking_refs === undefined) delete merged.object_marking_refs;
  if (references.length > 0) merged.external_references = references;
  if (original.extensions !== undefined)
    merged.extensions = updatedExtensions(original.extensions, enriched, labels);
  return merged;
}
