/**
 * When the request named an Indicator (jobs/indicator-input.ts), the enrichment lands on the
 * observable its pattern names, and the Indicator itself gets Criminal IP's score and a
 * `based-on` link to that observable. The Indicator is the analyst's (or another source's): it is
 * re-emitted as it was sent with only the score added, never replaced by the connector's own
 * Indicator of the same pattern (same id), whose description and validity would overwrite theirs.
 */
import type { EnrichmentJob } from '../jobs/types';
import { CRIMINAL_IP_AUTHOR, relationship, tlpFromMarkingRefs, tlpMarkingId, type StixObject } from '../stix';

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function linkInputIndicator(
  objects: StixObject[],
  job: EnrichmentJob,
  observableId: string,
  score: number | undefined,
  now: Date,
): StixObject[] {
  const input = job.observable.indicator;
  if (!input) return objects;
  const indicator: StixObject = { ...input, ...(score !== undefined ? { x_opencti_score: score } : {}) };
  const markings = strings(input.object_marking_refs);
  const link = relationship('based-on', input.id, observableId, {
    markingRefs: tlpFromMarkingRefs(markings) ? markings : [...markings, tlpMarkingId('TLP:CLEAR')],
    createdByRef: CRIMINAL_IP_AUTHOR.id,
    created: now,
  });
  const rest = objects.filter((o) => o.id !== input.id && o.id !== link.id);
  return [...rest, indicator, link];
}
