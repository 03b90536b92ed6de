import type { StixObject } from '../stix/core';

/**
 * The marking refs an OpenCTI object states. `undefined` when it does not say (the field is
 * absent, or not a list of ids): the TLP gate must then ask OpenCTI rather than assume TLP:CLEAR.
 */
export function markingRefsOf(object: StixObject): string[] | undefined {
  const refs = object.object_marking_refs;
  if (!Array.isArray(refs) || !refs.every((ref): ref is string => typeof ref === 'string')) return undefined;
  return [...refs];
}
