/**
 * POST /webhook bodies → EnrichmentJobs, one per observable.
 *
 * Two forms are accepted:
 * - the template form, rendered by OpenCTI's Generic webhook notifier from docs/webhook-template.ejs
 *   (docs/opencti.md §9): `objects` holds the STIX objects of the notification, with OpenCTI's
 *   extensions; `notification` names the trigger or playbook; `events` lists what happened. The
 *   bare template of docs/opencti.md §9.7 (`playbook` and `trigger_type` at the top) is read too.
 * - the minimal form, for scripts: `{"observables": [{"type": "ipv4-addr", "value": "8.8.8.8"}]}`,
 *   `type` optional (inferred), with an optional `source` and `request_id`.
 *
 * A body that is not one of these forms is refused with a WebhookError (the route answers 400 with
 * its JSON). Inside a well-formed body, an object that cannot be enriched (another type, outside
 * CONNECTOR_SCOPE, an invalid value, a deleted object, a repeat) is only listed in `ignored`: a
 * notification about a report and its observables must still enrich the observables.
 */
// A namespace import lets esbuild keep only the parts of zod we use (about 90 KB instead of 450 KB).
import * as z from 'zod';
import type { ObservableEntityType } from '../config';
import { decodeJson, isRecord, issuesOf } from './decode';
import { webhookJobId, type WebhookDelivery } from './job-id';
import { MAX_WEBHOOK_OBSERVABLES } from './limits';
import { entityTypeOf, observableTypeOf, readObservable } from './observable';
import { quote, type RejectionReason } from './rejections';
import { observableFromStix, octiExtensionOf, StixObjectSchema, stringField } from './stix-entity';
import { JobRejection, type EnrichmentJob, type JobOrigin, type Observable } from './types';

export interface WebhookOptions {
  /** The entity types the connector handles (CONNECTOR_SCOPE). */
  scope: ReadonlyArray<ObservableEntityType>;
  /** When the request was received: `receivedAt`, and the day that tells repeated events apart. */
  now: Date;
  /** At most this many observables per body (default MAX_WEBHOOK_OBSERVABLES). */
  maxObservables?: number;
}

export type WebhookJob = EnrichmentJob & { origin: Extract<JobOrigin, { kind: 'webhook' }> };

export type WebhookIgnoreReason =
  | RejectionReason
  /** The same observable appears earlier in the body. */
  | 'duplicate'
  /** The notification reports the object's deletion. */
  | 'deleted';

export interface IgnoredItem {
  /** Position in `objects` (template form) or `observables` (minimal form). */
  index: number;
  reason: WebhookIgnoreReason;
  detail: string;
}

export interface ParsedWebhook {
  form: 'template' | 'minimal';
  jobs: WebhookJob[];
  ignored: IgnoredItem[];
}

export type WebhookErrorCode =
  /** The body is not JSON. */
  | 'invalid-json'
  /** JSON, but neither form. */
  | 'unrecognised-payload'
  /** One of the forms, with a field of the wrong kind. */
  | 'invalid-payload'
  /** More observables than one body may carry. */
  | 'too-many-observables';

/** A body the webhook cannot take. The route answers 400 with `toJSON()`. */
export class WebhookError extends Error {
  constructor(
    readonly code: WebhookErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'WebhookError';
  }

  toJSON(): { error: WebhookErrorCode; detail: string } {
    return { error: this.code, detail: this.detail };
  }
}

const TemplateSchema = z.object({
  source: z.string().nullish(),
  format: z.string().nullish(),
  notification: z
    .looseObject({
      id: z.string().nullish(),
      name: z.string().nullish(),
      trigger_type: z.string().nullish(),
      created: z.string().nullish(),
    })
    .nullish(),
  playbook: z.string().nullish(),
  trigger_type: z.string().nullish(),
  platform_uri: z.string().nullish(),
  events: z.unknown().optional(),
  objects: z.array(z.unknown()),
});

const MinimalSchema = z.object({
  observables: z.array(z.object({ type: z.string().min(1).optional(), value: z.string() })),
  source: z.string().min(1).max(200).optional(),
  request_id: z.string().min(1).max(200).optional(),
});

const FORMS_HINT =
  'expected a JSON object with `objects` (the body of docs/webhook-template.ejs) or `observables` ' +
  '(the minimal form: {"observables": [{"type": "ipv4-addr", "value": "8.8.8.8"}]})';

export function parseWebhookPayload(body: unknown, opts: WebhookOptions): ParsedWebhook {
  const decoded = decodeJson(body);
  if (!decoded.ok) throw new WebhookError('invalid-json', `the body ${decoded.problem}`);
  const payload = decoded.value;
  if (!isRecord(payload)) throw new WebhookError('unrecognised-payload', FORMS_HINT);
  const hasObjects = payload.objects !== undefined;
  const hasObservables = payload.observables !== undefined;
  if (hasObjects && hasObservables) {
    throw new WebhookError(
      'unrecognised-payload',
      'the body has both `objects` and `observables`: send one form',
    );
  }
  if (hasObjects) return parseTemplateForm(payload, opts);
  if (hasObservables) return parseMinimalForm(payload, opts);
  throw new WebhookError('unrecognised-payload', FORMS_HINT);
}

/** Collects jobs and ignored items, and drops repeats of an observable already taken. */
class Collector {
  readonly jobs: WebhookJob[] = [];
  readonly ignored: IgnoredItem[] = [];
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly origin: WebhookJob['origin'],
    private readonly receivedAt: Date,
  ) {}

  ignore(index: number, reason: WebhookIgnoreReason, detail: string): void {
    this.ignored.push({ index, reason, detail });
  }

  take(index: number, observable: Observable, delivery: WebhookDelivery): void {
    const key = JSON.stringify([observable.type, observable.value]);
    const first = this.seen.get(key);
    if (first !== undefined) {
      this.ignore(
        index,
        'duplicate',
        `${entityTypeOf(observable.type)} ${quote(observable.value)} is already item ${first}`,
      );
      return;
    }
    this.seen.set(key, index);
    this.jobs.push({
      jobId: webhookJobId(delivery, { type: observable.type, value: observable.value }),
      observable,
      origin: this.origin,
      receivedAt: this.receivedAt.toISOString(),
    });
  }
}

function tooMany(count: number, max: number, field: string): WebhookError {
  return new WebhookError(
    'too-many-observables',
    `${count} observables in \`${field}\`, at most ${max} per body: split the notification (e.g. narrower playbook filters)`,
  );
}

function parseTemplateForm(payload: Record<string, unknown>, opts: WebhookOptions): ParsedWebhook {
  const parsed = TemplateSchema.safeParse(payload);
  if (!parsed.success) throw new WebhookError('invalid-payload', issuesOf(parsed.error));
  const { notification, objects } = parsed.data;

  const max = opts.maxObservables ?? MAX_WEBHOOK_OBSERVABLES;
  const candidates = objects.filter(isObservableObject).length;
  if (candidates > max) throw tooMany(candidates, max, 'objects');

  const name = notification?.name ?? parsed.data.playbook ?? undefined;
  const origin = { kind: 'webhook', source: label(name, 'OpenCTI notifier') } as const;
  const deleted = deletedInstanceIds(parsed.data.events);
  // Repeats of one event (one notification per target user) share the object's modification time
  // and the day; a later change, or a scheduled playbook on a later day, makes a new job.
  const day = opts.now.toISOString().slice(0, 10);
  const out = new Collector(origin, opts.now);

  objects.forEach((item, index) => {
    const object = StixObjectSchema.safeParse(item);
    if (!object.success) {
      out.ignore(index, 'malformed-message', `objects[${index}] is not a STIX object with an id and a type`);
      return;
    }
    const stix = object.data;
    const octi = octiExtensionOf(stix);
    const internalId = stringField(octi, 'id');
    if (deleted.has(stix.id) || (internalId !== undefined && deleted.has(internalId))) {
      out.ignore(index, 'deleted', `${quote(stix.id)} was deleted: nothing to enrich`);
      return;
    }
    let observable: Observable;
    try {
      observable = observableFromStix(stix, undefined, opts.scope);
    } catch (error) {
      if (!(error instanceof JobRejection)) throw error;
      out.ignore(index, error.reason as RejectionReason, error.detail ?? error.reason);
      return;
    }
    const version =
      stringField(octi, 'updated_at') ?? (typeof stix.modified === 'string' ? stix.modified : '');
    const delivery: WebhookDelivery = {
      form: 'template',
      sender: name ?? null,
      event: JSON.stringify([stix.id, version, day]),
    };
    out.take(index, observable, delivery);
  });
  return { form: 'template', jobs: out.jobs, ignored: out.ignored };
}

function parseMinimalForm(payload: Record<string, unknown>, opts: WebhookOptions): ParsedWebhook {
  const max = opts.maxObservables ?? MAX_WEBHOOK_OBSERVABLES;
  if (Array.isArray(payload.observables) && payload.observables.length > max) {
    throw tooMany(payload.observables.length, max, 'observables');
  }
  const parsed = MinimalSchema.safeParse(payload);
  if (!parsed.success) throw new WebhookError('invalid-payload', issuesOf(parsed.error));
  const { observables, source, request_id: requestId } = parsed.data;

  const origin = { kind: 'webhook', source: label(source, 'script') } as const;
  // Without a request id every POST is a new request; with one, a re-sent POST is recognised.
  const delivery: WebhookDelivery = {
    form: 'minimal',
    sender: source ?? null,
    event: requestId ?? `unkeyed:${opts.now.toISOString()}`,
  };
  const out = new Collector(origin, opts.now);

  observables.forEach((item, index) => {
    const type = item.type === undefined ? undefined : observableTypeOf(item.type);
    if (item.type !== undefined && type === undefined) {
      out.ignore(
        index,
        'unsupported-type',
        `${quote(item.type)} is not an observable type this connector enriches`,
      );
      return;
    }
    let read: { type: Observable['type']; value: string };
    try {
      read = readObservable(item.value, type);
    } catch (error) {
      if (!(error instanceof JobRejection)) throw error;
      out.ignore(index, error.reason as RejectionReason, error.detail ?? error.reason);
      return;
    }
    const entityType = entityTypeOf(read.type);
    if (!opts.scope.includes(entityType)) {
      out.ignore(index, 'out-of-scope', `${entityType} is not in CONNECTOR_SCOPE (${opts.scope.join(', ')})`);
      return;
    }
    out.take(index, read, delivery);
  });
  return { form: 'minimal', jobs: out.jobs, ignored: out.ignored };
}

/** True for an object whose type is one of the product's observable types: these count to the limit. */
function isObservableObject(item: unknown): boolean {
  if (!isRecord(item)) return false;
  const type = typeof item.type === 'string' ? observableTypeOf(item.type) : undefined;
  return type !== undefined;
}

/**
 * Ids the notification reports as deleted (a live trigger on deletions): every event about them
 * is a deletion. Events are informational otherwise, so a malformed list is simply not used.
 */
function deletedInstanceIds(events: unknown): Set<string> {
  const operations = new Map<string, Set<string>>();
  if (Array.isArray(events)) {
    for (const group of events) {
      if (!isRecord(group) || !Array.isArray(group.events)) continue;
      for (const event of group.events) {
        if (!isRecord(event) || typeof event.instance_id !== 'string' || typeof event.operation !== 'string')
          continue;
        const seen = operations.get(event.instance_id) ?? new Set<string>();
        seen.add(event.operation.toLowerCase());
        operations.set(event.instance_id, seen);
      }
    }
  }
  return new Set([...operations].filter(([, ops]) => ops.size === 1 && ops.has('delete')).map(([id]) => id));
}

/** A name fit for a work title and a log line: no control characters, not too long. */
function label(name: string | null | undefined, fallback: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const clean = (name ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim();
  return clean.length === 0 ? fallback : clean.slice(0, 120);
}
