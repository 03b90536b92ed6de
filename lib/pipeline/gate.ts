/**
 * The gate every job passes before Criminal IP is called: scope first, then the max-TLP rule.
 * An observable outside the scope or marked above CRIMINALIP_MAX_TLP is never sent anywhere.
 */
import type { ObservableEntityType, TlpLevel } from '../config';
import type { Observable } from '../jobs/types';
import { ENTITY_TYPE_OF } from '../stix/core';
import { isTlpAllowed, tlpFromMarkingRefs } from '../stix/markings';
import type { OpenCtiPort } from '../opencti/port';

export type GateDecision =
  | { pass: true; tlp: TlpLevel | undefined }
  | { pass: false; reason: 'out-of-scope' | 'above-max-tlp'; detail: string };

export interface GateSettings {
  scope: readonly ObservableEntityType[];
  maxTlp: TlpLevel;
}

/**
 * Markings come from the message when it carried them; otherwise OpenCTI is asked. An entity
 * OpenCTI does not know (deleted since) has no markings to honour.
 */
async function markingsOf(observable: Observable, opencti: OpenCtiPort): Promise<string[]> {
  if (observable.markingRefs !== undefined) return observable.markingRefs;
  if (!observable.stixId) return [];
  return (await opencti.readMarkings(observable.stixId)) ?? [];
}

export async function gate(
  observable: Observable,
  settings: GateSettings,
  opencti: OpenCtiPort,
): Promise<GateDecision> {
  const entityType = ENTITY_TYPE_OF[observable.type];
  if (!(settings.scope as readonly string[]).includes(entityType)) {
    return {
      pass: false,
      reason: 'out-of-scope',
      detail: `${entityType} is not in CONNECTOR_SCOPE (${settings.scope.join(', ')})`,
    };
  }
  const tlp = tlpFromMarkingRefs(await markingsOf(observable, opencti));
  if (!isTlpAllowed(tlp, settings.maxTlp)) {
    return {
      pass: false,
      reason: 'above-max-tlp',
      detail: `marked ${tlp}, above CRIMINALIP_MAX_TLP ${settings.maxTlp}: not sent to Criminal IP`,
    };
  }
  return { pass: true, tlp };
}
