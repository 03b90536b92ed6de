/**
 * OpenCTI's own property extensions (docs/opencti-7.md §5, docs/opencti.md §12.1).
 *
 * pycti reads an OpenCTI property from the extension first and from the top-level `x_opencti_*`
 * name second, and newer pycti releases move producers to the extensions. A bundle that carries
 * both, with the same values, is read alike by 6.9, the 7.x LTS and the latest 7.x.
 *
 * The top-level properties stay the truth inside the product: the mapping, the analyst rules
 * (respect.ts) and the neighbour rules decide them. The extensions are filled from them once,
 * as the bundle leaves for OpenCTI (openCtiBundle), so they can never disagree.
 */
import { BundleBuilder } from './bundle';
import type { StixBundle, StixObject } from './core';

/** STIX_EXT_OCTI_SCO: score, description, labels, author and references of an observable. */
export const OPENCTI_SCO_EXTENSION = 'extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82';
/** STIX_EXT_OCTI: OpenCTI's properties of every other object. */
export const OPENCTI_SDO_EXTENSION = 'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba';

/** Extension key ← top-level property, for observables. */
const SCO_MIRROR: ReadonlyArray<readonly [string, string]> = [
  ['score', 'x_opencti_score'],
  ['description', 'x_opencti_description'],
  ['labels', 'labels'],
  ['created_by_ref', 'created_by_ref'],
  ['external_references', 'external_references'],
];

/** Extension key ← top-level property, for the SDO types whose OpenCTI properties we write. */
const SDO_MIRROR: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  indicator: [
    ['score', 'x_opencti_score'],
    ['detection', 'x_opencti_detection'],
    ['main_observable_type', 'x_opencti_main_observable_type'],
  ],
  location: [['location_type', 'x_opencti_location_type']],
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** SDOs, SROs and marking definitions carry `created`; cyber observables never do. */
const isObservable = (object: StixObject) => object.created === undefined && object.type !== 'bundle';

function mirrored(
  object: StixObject,
  key: string,
  pairs: ReadonlyArray<readonly [string, string]>,
): StixObject {
  const values = pairs.filter(([, top]) => object[top] !== undefined);
  if (values.length === 0) return object;
  const extensions = isRecord(object.extensions) ? object.extensions : {};
  // What the extension held already (OpenCTI's internal id, other fields) stays; what we write wins.
  const extension: Record<string, unknown> = {
    ...(isRecord(extensions[key]) ? extensions[key] : {}),
    extension_type: 'property-extension',
  };
  for (const [name, top] of values) extension[name] = object[top];
  return { ...object, extensions: { ...extensions, [key]: extension } };
}

/** The object with its OpenCTI properties also in OpenCTI's extension for its kind. */
export function withOpenCtiExtension(object: StixObject): StixObject {
  if (isObservable(object)) return mirrored(object, OPENCTI_SCO_EXTENSION, SCO_MIRROR);
  const pairs = SDO_MIRROR[object.type];
  return pairs ? mirrored(object, OPENCTI_SDO_EXTENSION, pairs) : object;
}

/** The bundle pushed to (or answered to) OpenCTI: objects kept once each, extensions filled. */
export function openCtiBundle(objects: StixObject[]): StixBundle {
  // Mirrored after the merge: two versions of one object merge their top-level lists first.
  const bundle = new BundleBuilder().add(...objects).build();
  return { ...bundle, objects: bundle.objects.map(withOpenCtiExtension) };
}
