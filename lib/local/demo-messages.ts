/**
 * OpenCTI listen messages as the platform's worker POSTs them to the connector's callback, for the
 * demo and the end-to-end tests: the manual-enrichment shape of OpenCTI 6.9 (docs/opencti.md §4.4),
 * with `stix_entity` and `stix_objects` as JSON strings and the observable's TLP marking.
 */
import { randomUUID } from 'node:crypto';
import type { TlpLevel } from '../config';
import { OCTI_EXTENSION } from '../jobs/stix-entity';
import { TLP_MARKINGS, tlpMarkingId } from '../stix/markings';
import { observableId } from '../stix/ids';
import { ENTITY_TYPE_OF, type ObservableStixType, type StixObject } from '../stix/core';

export interface ListenMessageInput {
  workId: string;
  type: ObservableStixType;
  value: string;
  tlp?: TlpLevel;
  mode?: 'manual' | 'auto';
  trigger?: 'create' | 'update';
  /** Creation time of the entity in OpenCTI (default now). */
  createdAt?: Date;
}

/** The observable as OpenCTI exports it: STIX 2.1 with OpenCTI's extension and its markings. */
export function stixEntityOf(
  input: Pick<ListenMessageInput, 'type' | 'value' | 'tlp' | 'createdAt'>,
): StixObject {
  const at = (input.createdAt ?? new Date()).toISOString();
  return {
    id: observableId(input.type, input.value),
    spec_version: '2.1',
    type: input.type,
    value: input.value,
    object_marking_refs: input.tlp ? [tlpMarkingId(input.tlp)] : [],
    extensions: {
      [OCTI_EXTENSION]: {
        extension_type: 'property-extension',
        id: randomUUID(),
        type: ENTITY_TYPE_OF[input.type],
        created_at: at,
        updated_at: at,
        is_inferred: false,
      },
    },
  };
}

/** The body OpenCTI's worker POSTs for a manual (or automatic) enrichment of one observable. */
export function listenMessage(input: ListenMessageInput): Record<string, unknown> {
  const entity = stixEntityOf(input);
  const objects: StixObject[] = [entity];
  if (input.tlp) objects.push(TLP_MARKINGS[input.tlp]);
  return {
    internal: {
      work_id: input.workId,
      applicant_id: null,
      draft_id: null,
      mode: input.mode ?? 'manual',
      trigger: input.trigger ?? 'update',
    },
    event: {
      event_type: 'INTERNAL_ENRICHMENT',
      entity_id: entity.id,
      entity_type: ENTITY_TYPE_OF[input.type],
      stix_entity: JSON.stringify(entity),
      stix_objects: JSON.stringify(objects),
    },
  };
}
