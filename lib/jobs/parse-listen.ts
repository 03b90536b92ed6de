/**
 * OpenCTI listen messages → one EnrichmentJob (docs/opencti.md §4.3–4.6).
 *
 * The OpenCTI worker POSTs each message of the connector's listen queue to POST /opencti/callback
 * and re-POSTs it forever on any non-2xx answer. So this parser never throws: it says what to do.
 *
 * Shapes handled:
 * - manual and automatic enrichment: `internal.work_id`, `internal.mode` (manual | auto),
 *   `internal.trigger` (create | update), `internal.draft_id`; `event.entity_id`,
 *   `event.entity_type`, `event.stix_entity` (a JSON string of the STIX object) and
 *   `event.stix_objects` (a JSON string of an array, or null);
 * - playbook "Enrich through connector": `internal.playbook` {event_id, execution_id, playbook_id,
 *   data_instance_id, step_id, previous_step_id}, `event.entity_id` and `event.bundle` (an object);
 *   OpenCTI 6.9 sends no `entity_type` (7.x does), so the type comes from the STIX object, which is
 *   taken from the bundle by `id == entity_id`, as pycti does.
 * JSON strings nested once more (a relay that encoded twice) are decoded too.
 *
 * What a message becomes (ParsedListen):
 * - `job`: an observable to enrich.
 * - `answer-only`: OpenCTI waits on this request but it holds nothing to enrich (a Text entity, a
 *   type outside CONNECTOR_SCOPE, an invalid value, an entity missing from the bundle). A playbook
 *   that is not answered stalls, and an open work stays "in progress" forever, so this is still a
 *   job, queued like the others, flagged `unprocessable`: the pipeline closes the work in error with
 *   the reason, or answers the playbook step with its bundle unchanged, and calls no one else.
 * - `rejected`: nothing can be enriched and there is nothing to answer (not a listen message, no
 *   work id, a playbook reference without its ids). The route logs it and still answers 202, or the
 *   worker would re-POST it forever.
 */
// A namespace import lets esbuild keep only the parts of zod we use (about 90 KB instead of 450 KB).
import * as z from 'zod';
import type { ObservableEntityType } from '../config';
import type { StixBundle, StixObject } from '../stix/core';
import { decodeJson, isRecord, issuesOf } from './decode';
import { listenJobId, stableUuid, type ListenOrigin } from './job-id';
import { inferObservableType, observableTypeOf, stixTypeOfId } from './observable';
import { quote, rejection, type RejectionReason } from './rejections';
import { observableFromStix, StixObjectSchema } from './stix-entity';
import { JobRejection, type EnrichmentJob, type Observable } from './types';

export interface ListenOptions {
  /** The entity types the connector handles (CONNECTOR_SCOPE). */
  scope: ReadonlyArray<ObservableEntityType>;
  /** When the message was received: the job's `receivedAt`. */
  now: Date;
}

/** A job with an observable to enrich, from an OpenCTI work or a playbook step. */
export type ListenJob = EnrichmentJob & { origin: ListenOrigin; unprocessable?: undefined };

/**
 * A job that is only answered, never enriched. `unprocessable.reason` is the sentence for the work
 * or the logs. `observable` is informational only: the best reading of the entity, its value
 * possibly empty and its type a guess when the entity is of a type this product does not handle.
 */
export type AnswerOnlyJob = EnrichmentJob & { origin: ListenOrigin; unprocessable: { reason: string } };

export type ParsedListen =
  | { kind: 'job'; job: ListenJob }
  | { kind: 'answer-only'; job: AnswerOnlyJob; rejection: JobRejection }
  | { kind: 'rejected'; rejection: JobRejection };

const MessageSchema = z.object({
  internal: z.looseObject({
    work_id: z.string().nullish(),
    playbook: z.unknown().optional(),
    mode: z.unknown().optional(),
    trigger: z.unknown().optional(),
    draft_id: z.unknown().optional(),
  }),
  event: z.unknown().optional(),
});

const PlaybookSchema = z.object({
  event_id: z.string().min(1),
  execution_id: z.string().min(1),
  playbook_id: z.string().min(1),
  data_instance_id: z.string().min(1),
  step_id: z.string().min(1),
  previous_step_id: z.string().min(1),
});

const BundleSchema = z.looseObject({
  type: z.literal('bundle').optional(),
  id: z.string().min(1).optional(),
  objects: z.array(StixObjectSchema),
});

/** Where the entity could not be read, the sentence saying why. */
type EntityReading = { ok: true; entity: StixObject } | { ok: false; problem: string };

export function parseListenMessage(body: unknown, opts: ListenOptions): ParsedListen {
  const decoded = decodeJson(body);
  if (!decoded.ok) return rejected('malformed-message', `the body ${decoded.problem}`);
  const message = MessageSchema.safeParse(decoded.value);
  if (!message.success) {
    return rejected('malformed-message', `not an OpenCTI listen message (${issuesOf(message.error)})`);
  }
  const { internal } = message.data;
  const event = isRecord(message.data.event) ? message.data.event : {};

  // A playbook step is answered with playbookStepExecution whatever else the message holds (pycti).
  if (internal.playbook !== undefined && internal.playbook !== null) {
    return parsePlaybook(internal.playbook, event, opts);
  }
  if (internal.work_id) {
    return parseEnrichment(internal.work_id, internal, event, opts);
  }
  return rejected(
    'malformed-message',
    'the message has neither internal.work_id nor internal.playbook: there is nothing to enrich or to answer',
  );
}

function parseEnrichment(
  workId: string,
  internal: Record<string, unknown>,
  event: Record<string, unknown>,
  opts: ListenOptions,
): ParsedListen {
  // Messages from before `mode` existed were automatic; only an explicit "manual" forces fresh data.
  const mode =
    typeof internal.mode === 'string' && internal.mode.toLowerCase() === 'manual' ? 'manual' : 'auto';
  const trigger =
    internal.trigger === 'create' || internal.trigger === 'update' ? internal.trigger : undefined;
  const draftId = nonEmpty(internal.draft_id);
  // The draft id travels as an HTTP header (opencti-draft-id): only an id's characters may pass.
  if (draftId !== undefined && !DRAFT_ID.test(draftId)) {
    return rejected('malformed-message', 'internal.draft_id is not an OpenCTI draft id');
  }
  const origin: ListenOrigin = {
    kind: 'enrichment',
    workId,
    mode,
    ...(trigger !== undefined ? { trigger } : {}),
    ...(draftId !== undefined ? { draftId } : {}),
  };
  const entityId = nonEmpty(event.entity_id);
  const reading: EntityReading =
    entityId === undefined
      ? { ok: false, problem: 'event.entity_id is missing' }
      : enrichmentEntity(event, entityId);
  return conclude(origin, entityId, nonEmpty(event.entity_type), reading, opts, mode === 'manual');
}

/** `stix_entity`, or else the object with the entity's id in `stix_objects`. */
function enrichmentEntity(event: Record<string, unknown>, entityId: string): EntityReading {
  const fromEntity = readStixObject(event.stix_entity);
  if (fromEntity.ok) return fromEntity;
  const objects = decodeJson(event.stix_objects);
  if (objects.ok && Array.isArray(objects.value)) {
    const found = StixObjectSchema.safeParse(objects.value.find((o) => isRecord(o) && o.id === entityId));
    if (found.success) return { ok: true, entity: found.data };
  }
  return { ok: false, problem: `event.stix_entity ${fromEntity.problem}` };
}

function readStixObject(value: unknown): EntityReading {
  if (value === undefined || value === null) return { ok: false, problem: 'is missing' };
  const decoded = decodeJson(value);
  if (!decoded.ok) return { ok: false, problem: decoded.problem };
  const parsed = StixObjectSchema.safeParse(decoded.value);
  if (!parsed.success) return { ok: false, problem: `is not a STIX object (${issuesOf(parsed.error)})` };
  return { ok: true, entity: parsed.data };
}

function parsePlaybook(raw: unknown, event: Record<string, unknown>, opts: ListenOptions): ParsedListen {
  const ref = PlaybookSchema.safeParse(raw);
  if (!ref.success) {
    return rejected(
      'malformed-message',
      `the playbook step cannot be answered without its ids (${issuesOf(ref.error, 'internal.playbook')})`,
    );
  }
  const p = ref.data;
  const playbook = {
    eventId: p.event_id,
    executionId: p.execution_id,
    playbookId: p.playbook_id,
    dataInstanceId: p.data_instance_id,
    stepId: p.step_id,
    previousStepId: p.previous_step_id,
  };
  const read = readBundle(
    event.bundle,
    `bundle--${stableUuid(['playbook-bundle', p.execution_id, p.step_id])}`,
  );
  const origin: ListenOrigin = { kind: 'playbook', playbook, bundle: read.bundle };
  const entityId = nonEmpty(event.entity_id);

  let reading: EntityReading;
  if (read.problem !== undefined) {
    reading = {
      ok: false,
      problem: `event.bundle ${read.problem}; the step is answered with an empty bundle`,
    };
  } else if (entityId === undefined) {
    reading = { ok: false, problem: 'event.entity_id is missing' };
  } else {
    const entity = read.bundle.objects.find((o) => o.id === entityId);
    reading = entity
      ? { ok: true, entity }
      : { ok: false, problem: `the entity ${quote(entityId)} is not in the playbook bundle` };
  }
  return conclude(origin, entityId, nonEmpty(event.entity_type), reading, opts, false);
}

/**
 * The bundle as received, to be answered back. A bundle that cannot be read is replaced by an
 * empty one: the platform re-adds the objects missing from an answer, so the playbook goes on. A
 * bundle without an id gets one, as StixBundle requires.
 */
function readBundle(value: unknown, fallbackId: string): { bundle: StixBundle; problem?: string } {
  const empty: StixBundle = { type: 'bundle', id: fallbackId, objects: [] };
  if (value === undefined || value === null) return { bundle: empty, problem: 'is missing' };
  const decoded = decodeJson(value);
  if (!decoded.ok) return { bundle: empty, problem: decoded.problem };
  const parsed = BundleSchema.safeParse(decoded.value);
  if (!parsed.success) return { bundle: empty, problem: `is not a STIX bundle (${issuesOf(parsed.error)})` };
  return { bundle: { ...parsed.data, type: 'bundle', id: parsed.data.id ?? fallbackId } };
}

/** The job for the entity, or the answer-only job saying why there is nothing to enrich. */
function conclude(
  origin: ListenOrigin,
  entityId: string | undefined,
  declaredType: string | undefined,
  reading: EntityReading,
  opts: ListenOptions,
  force: boolean,
): ParsedListen {
  const receivedAt = opts.now.toISOString();
  try {
    if (!reading.ok) throw rejection('malformed-message', reading.problem);
    const observable = observableFromStix(reading.entity, declaredType, opts.scope);
    const job: ListenJob = {
      jobId: listenJobId(origin, { type: observable.type, value: observable.value }),
      observable,
      origin,
      receivedAt,
      ...(force ? { force: true } : {}),
    };
    return { kind: 'job', job };
  } catch (error) {
    if (!(error instanceof JobRejection)) throw error;
    const entity = reading.ok ? reading.entity : undefined;
    const job: AnswerOnlyJob = {
      jobId: listenJobId(origin, { entityId: entityId ?? entity?.id ?? '' }),
      observable: bestReading(entity, entityId, declaredType),
      origin,
      receivedAt,
      unprocessable: { reason: error.detail ?? error.reason },
    };
    return { kind: 'answer-only', job, rejection: error };
  }
}

/** What an unenrichable entity looks like, for logs: never enriched, so any guess is harmless. */
function bestReading(
  entity: StixObject | undefined,
  entityId: string | undefined,
  declaredType: string | undefined,
): Observable {
  const value = typeof entity?.value === 'string' ? entity.value.slice(0, 256) : '';
  const type =
    observableTypeOf(declaredType ?? '') ??
    observableTypeOf(entity?.type ?? '') ??
    observableTypeOf(stixTypeOfId(entityId ?? '') ?? '') ??
    inferObservableType(value) ??
    'hostname';
  const stixId = entity?.id ?? entityId;
  return {
    type,
    value,
    ...(stixId !== undefined ? { stixId } : {}),
    ...(entity !== undefined ? { original: entity } : {}),
  };
}

function rejected(reason: RejectionReason, detail: string): ParsedListen {
  return { kind: 'rejected', rejection: rejection(reason, detail) };
}

/** OpenCTI draft ids are UUIDs; letters, digits and dashes are all a header may carry here. */
const DRAFT_ID = /^[A-Za-z0-9-]{1,100}$/;

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
