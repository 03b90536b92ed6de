/**
 * Enrichment adds knowledge and never destroys it. OpenCTI's upsert replaces attributes whenever
 * the connector's confidence allows and only ever adds labels, so what the mapping produced is
 * adjusted here, against what the observable holds now, before anything is written:
 *
 * - description: the analyst's text is kept; the summary lives in its own delimited section;
 * - author: an existing observable keeps its `created_by_ref` (Criminal IP only for one without);
 * - score: written only as SCORE_UPDATE allows (score-policy.ts), from who wrote the current one;
 * - verdict labels: the stale ones are left out of the bundle and removed through the API;
 * - Indicator: the connector's own keeps its start and a confidence that never blocks its own
 *   later updates; when the verdict falls below the threshold it stops detecting.
 *
 * The current state comes from the message (OpenCTI sends the observable) or, without one, from
 * OpenCTI itself; label ids, needed to remove a label, always come from OpenCTI.
 */
import type { MappingSettings } from '../config';
import type { EnrichmentJob } from '../jobs/types';
import { mergeDescription } from '../mapping/description';
import type { MappingResult } from '../mapping';
import { OPENCTI_SCO_EXTENSION } from '../stix/opencti-extensions';
import { staleLabels, stateLabelsOf } from '../mapping/verdict-labels';
import {
  CRIMINAL_IP_AUTHOR,
  ENTITY_TYPE_OF,
  equalityPattern,
  indicator as indicatorSdo,
  tlpFromMarkingRefs,
  tlpMarkingId,
  type StixObject,
} from '../stix';
import type { ObservableState, OpenCtiPort } from '../opencti/port';
import type { Ledger, WrittenByUs } from './ports';
import { decideScore, type ScoreDecision } from './score-policy';

export interface RespectInput {
  job: EnrichmentJob;
  mapped: MappingResult;
  settings: MappingSettings;
  opencti: Pick<OpenCtiPort, 'readObservableState'>;
  ledger: Pick<Ledger, 'getWritten'>;
  now: Date;
}

export interface Respected {
  objects: StixObject[];
  /** The observable's id in OpenCTI, for the label removal. */
  entityId: string;
  /** Stale verdict labels to take off the observable, with their OpenCTI label ids. */
  staleLabels: Array<{ value: string; id: string }>;
  score: ScoreDecision;
  /** What to remember as written by the connector, once the write succeeded. */
  written: WrittenByUs;
  /** Whether the connector's Indicator stopped detecting with this write. */
  indicatorEnded: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function scoExtension(object: StixObject | undefined): Record<string, unknown> {
  const extensions = object?.extensions;
  const ext = isRecord(extensions) ? extensions[OPENCTI_SCO_EXTENSION] : undefined;
  return isRecord(ext) ? ext : {};
}

/** The observable's state as the message states it (OpenCTI exports it in the SCO extension). */
export function stateFromStix(object: StixObject): ObservableState {
  const ext = scoExtension(object);
  const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const score = num(ext.score) ?? num(object.x_opencti_score);
  const description = str(ext.description) ?? str(object.x_opencti_description);
  const createdByRef =
    str(object.created_by_ref) ?? str(object.x_opencti_created_by_ref) ?? str(ext.created_by_ref);
  const labels = [
    ...new Set([...strings(object.labels), ...strings(object.x_opencti_labels), ...strings(ext.labels)]),
  ];
  return {
    ...(score !== undefined ? { score } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(createdByRef !== undefined ? { createdByRef } : {}),
    labels: labels.map((value) => ({ value })),
  };
}

/** The observable rewritten: description, author, score and labels as decided. */
function adjustObservable(
  object: StixObject,
  state: ObservableState | undefined,
  summary: string,
  score: ScoreDecision,
  stale: ReadonlySet<string>,
): StixObject {
  const next: StixObject = { ...object };
  const description = mergeDescription(state?.description, summary);
  const author = state?.createdByRef ?? CRIMINAL_IP_AUTHOR.id;
  const kept = state?.score;
  const keepLabel = (l: string) => !stale.has(l.toLowerCase());

  next.x_opencti_description = description;
  next.created_by_ref = author;
  if (next.x_opencti_created_by_ref !== undefined) next.x_opencti_created_by_ref = author;
  if (score.write !== undefined) next.x_opencti_score = score.write;
  else if (kept !== undefined) next.x_opencti_score = kept;
  else delete next.x_opencti_score;
  for (const key of ['labels', 'x_opencti_labels'] as const) {
    if (Array.isArray(next[key])) next[key] = strings(next[key]).filter(keepLabel);
  }
  if (isRecord(next.extensions) && isRecord(next.extensions[OPENCTI_SCO_EXTENSION])) {
    const ext: Record<string, unknown> = { ...next.extensions[OPENCTI_SCO_EXTENSION] };
    ext.description = description;
    ext.created_by_ref = author;
    if (next.x_opencti_score !== undefined) ext.score = next.x_opencti_score;
    else delete ext.score;
    if (Array.isArray(ext.labels)) ext.labels = strings(ext.labels).filter(keepLabel);
    next.extensions = { ...next.extensions, [OPENCTI_SCO_EXTENSION]: ext };
  }
  return next;
}

/** Markings for an object describing the observable: its own, plus TLP:CLEAR when none is a TLP. */
function describingMarkings(observable: StixObject): string[] {
  const refs = strings(observable.object_marking_refs);
  return tlpFromMarkingRefs(refs) ? refs : [...refs, tlpMarkingId('TLP:CLEAR')];
}

/** The connector's Indicator, no longer detecting: its validity ends now, detection off. */
function endedIndicator(
  job: EnrichmentJob,
  own: NonNullable<WrittenByUs['indicator']>,
  observable: StixObject,
  mapped: MappingResult,
  now: Date,
): StixObject | undefined {
  const validFrom = new Date(own.validFrom);
  if (Number.isNaN(validFrom.getTime())) return undefined;
  const validUntil = now.getTime() > validFrom.getTime() ? now : new Date(validFrom.getTime() + 1000);
  const built = indicatorSdo(
    {
      pattern: equalityPattern(job.observable.type, job.observable.value),
      name: job.observable.value,
      validFrom,
      validUntil,
      ...(mapped.score !== undefined ? { score: mapped.score } : {}),
      mainObservableType: ENTITY_TYPE_OF[job.observable.type],
      detection: false,
    },
    {
      markingRefs: describingMarkings(observable),
      createdByRef: CRIMINAL_IP_AUTHOR.id,
      created: validFrom,
      description: `Indicator from Criminal IP data: no longer rated at or above the indicator threshold (${now.toISOString()}); detection ended.`,
      // The confidence it was written with: an equal confidence lets the upsert replace its validity.
      ...(own.confidence !== undefined ? { confidence: own.confidence } : {}),
    },
  );
  return built.id === own.id ? built : undefined;
}

/** The connector's Indicator, renewed: its first start kept, confidence never below the stored one. */
function renewedIndicator(object: StixObject, own: WrittenByUs['indicator']): StixObject {
  const next: StixObject = { ...object };
  if (own && own.id === object.id) {
    if (new Date(own.validFrom).getTime() < new Date(String(object.valid_from)).getTime()) {
      next.valid_from = own.validFrom;
    }
    if (own.confidence !== undefined) {
      const incoming = typeof next.confidence === 'number' ? next.confidence : 0;
      next.confidence = Math.max(incoming, own.confidence);
    }
  }
  return next;
}

async function currentState(
  job: EnrichmentJob,
  entityId: string,
  opencti: RespectInput['opencti'],
): Promise<ObservableState | undefined> {
  if (job.observable.original) return stateFromStix(job.observable.original);
  return (await opencti.readObservableState(entityId)) ?? undefined;
}

export async function respectAnalysts(input: RespectInput): Promise<Respected> {
  const { job, mapped, settings, opencti, ledger, now } = input;
  const entityId = mapped.observableId;
  let state = await currentState(job, entityId, opencti);
  const ours = await ledger.getWritten(entityId);
  const score = decideScore(settings.scoreUpdate, mapped.score, state?.score, ours?.score);

  let stale = staleLabels(
    (state?.labels ?? []).map((l) => l.value),
    mapped.labels,
    ours?.stateLabels ?? [],
  );
  // Removing a label takes its OpenCTI id, which a message does not carry.
  if (stale.length > 0 && state?.labels.some((l) => l.id === undefined)) {
    const read = await opencti.readObservableState(entityId);
    if (read) {
      state = { ...state, labels: read.labels };
      stale = staleLabels(
        read.labels.map((l) => l.value),
        mapped.labels,
        ours?.stateLabels ?? [],
      );
    }
  }
  const staleSet = new Set(stale.map((l) => l.toLowerCase()));
  const staleWithIds = (state?.labels ?? []).filter(
    (l): l is { value: string; id: string } => l.id !== undefined && staleSet.has(l.value.toLowerCase()),
  );

  // An Indicator sent for enrichment is someone else's, even when it has our pattern (and id).
  const ownIndicatorId = mapped.indicatorId !== job.observable.indicator?.id ? mapped.indicatorId : undefined;
  let indicator: WrittenByUs['indicator'];
  let indicatorEnded = false;
  const objects: StixObject[] = [];
  let observable: StixObject | undefined;
  for (const object of mapped.objects) {
    if (object.id === entityId) {
      observable = adjustObservable(object, state, mapped.summary, score, staleSet);
      objects.push(observable);
    } else if (object.id === ownIndicatorId) {
      const renewed = renewedIndicator(object, ours?.indicator);
      indicator = {
        id: renewed.id,
        validFrom: String(renewed.valid_from),
        ...(typeof renewed.confidence === 'number' ? { confidence: renewed.confidence } : {}),
      };
      objects.push(renewed);
    } else {
      objects.push(object);
    }
  }
  if (!ownIndicatorId && ours?.indicator && observable) {
    const ended = endedIndicator(job, ours.indicator, observable, mapped, now);
    if (ended) {
      objects.push(ended);
      indicatorEnded = true;
    }
  }

  const written: WrittenByUs = {
    ...(score.write !== undefined
      ? { score: score.write }
      : ours?.score !== undefined
        ? { score: ours.score }
        : {}),
    stateLabels: stateLabelsOf(mapped.labels),
    ...(indicator ? { indicator } : {}),
    at: now.toISOString(),
  };
  return { objects, entityId, staleLabels: staleWithIds, score, written, indicatorEnded };
}
