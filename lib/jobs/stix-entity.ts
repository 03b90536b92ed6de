/**
 * Reading an observable out of a STIX object as OpenCTI sends it: the `stix_entity` of a listen
 * message, an object of a playbook bundle, an `instance` of the webhook notifier. All three are
 * STIX 2.1 objects with OpenCTI's extensions (docs/opencti.md §12.1).
 */
// A namespace import lets esbuild keep only the parts of zod we use (about 90 KB instead of 450 KB).
import * as z from 'zod';
import type { ObservableEntityType } from '../config';
import type { StixObject } from '../stix/core';
import { isRecord } from './decode';
import { isIndicatorEntity, observableFromIndicator } from './indicator-input';
import { markingRefsOf } from './marking-refs';
import { OPENCTI_SDO_EXTENSION } from '../stix/opencti-extensions';
import { entityTypeOf, normaliseObservable, observableTypeOf } from './observable';
import { quote, rejection } from './rejections';
import type { Observable } from './types';

/** The OpenCTI extension every exported object carries: internal id, entity type, timestamps. */
export const OCTI_EXTENSION = OPENCTI_SDO_EXTENSION;

/** A STIX object: an id and a type; every other property is kept exactly as sent. */
export const StixObjectSchema = z.looseObject({ id: z.string().min(1), type: z.string().min(1) });

/** The object's OpenCTI extension, when it has one. */
export function octiExtensionOf(object: StixObject): Record<string, unknown> | undefined {
  const extensions = object.extensions;
  if (!isRecord(extensions)) return undefined;
  const octi = extensions[OCTI_EXTENSION];
  return isRecord(octi) ? octi : undefined;
}

export function stringField(record: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The observable `object` describes. `declaredType` is the entity type the message states
 * (`event.entity_type` of a listen message) and wins over what the object says; without it the type
 * comes from the object's STIX type, then its OpenCTI extension.
 *
 * Throws JobRejection: unsupported-type (not one of the product's types), out-of-scope (not in
 * `scope`), malformed-message (no value), invalid-value (see observable.ts).
 */
export function observableFromStix(
  object: StixObject,
  declaredType: string | undefined,
  scope: ReadonlyArray<ObservableEntityType>,
): Observable {
  if (isIndicatorEntity(object, declaredType)) return observableFromIndicator(object, scope);
  const type = declaredType
    ? observableTypeOf(declaredType)
    : (observableTypeOf(object.type) ?? observableTypeOf(stringField(octiExtensionOf(object), 'type') ?? ''));
  if (type === undefined) {
    throw rejection(
      'unsupported-type',
      `${quote(declaredType || object.type)} is not an observable type this connector enriches`,
    );
  }
  const entityType = entityTypeOf(type);
  if (!scope.includes(entityType)) {
    throw rejection('out-of-scope', `${entityType} is not in CONNECTOR_SCOPE (${scope.join(', ')})`);
  }
  if (typeof object.value !== 'string') {
    throw rejection('malformed-message', `the ${entityType} ${quote(object.id)} has no value`);
  }
  const markingRefs = markingRefsOf(object);
  return {
    type,
    value: normaliseObservable(type, object.value),
    stixId: object.id,
    ...(markingRefs !== undefined ? { markingRefs } : {}),
    original: object,
  };
}
