/**
 * Hostile input against both routes, through the local HTTP server over loopback: generated
 * payloads (fast-check) with invalid JSON, wrong types, missing fields, huge and deeply nested
 * bodies, wrong content types and credentials, Unicode and control characters, and injection
 * strings (quotes, backslashes, GraphQL and STIX pattern syntax) in observable values.
 *
 * For every request: the documented status (callback 202 / 401; webhook 202 / 400 / 401 / 413 /
 * 415; 413 from the gateway above 10 MiB), nothing invalid queued, no server error. Then the
 * queue is processed against the stand-ins: no invalid or non-public target reaches Criminal IP,
 * every indicator pattern is one comparison that gives its value back, and OpenCTI refuses no
 * GraphQL request.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { entityTypeOf, normaliseObservable, validateObservable } from '../../lib/jobs';
import { MAX_BODY_BYTES } from '../../lib/jobs/limits';
import { OCTI_EXTENSION } from '../../lib/jobs/stix-entity';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { GATEWAY_MAX_BODY_BYTES } from '../../lib/local/server';
import { targetRejection } from '../../lib/criminalip/targets';
import { OBSERVABLE_STIX_TYPES } from '../../lib/stix/core';
import { observableId } from '../../lib/stix/ids';
import { drain } from '../reliability/support/driver';
import { CONNECTOR_ID, startWorld, WEBHOOK_TOKEN, type World } from '../reliability/support/world';
import { patternsOf, rawRequest, singleComparison } from './support';

type Route = '/opencti/callback' | '/webhook';

let world: World;
const crashes: unknown[] = [];
const onCrash = (error: unknown) => crashes.push(error);
const cases = { callback: 0, webhook: 0 };
const statuses: Record<string, number> = {};

beforeAll(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  world = await startWorld({ env: { INDICATOR_THRESHOLD: 'safe', PHISHING_THRESHOLD: '0' } });
});

afterAll(async () => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  await world?.close();
});

// ---------------------------------------------------------------------------------------------
// Generators

const INJECTIONS = [
  "'",
  '"',
  '\\',
  "\\'",
  "' OR '1'='1",
  "'] OR [ipv4-addr:value = '10.0.0.1",
  "'] AND [file:name = 'x",
  "\\'] OR [x:value = '",
  '"}) { __schema { types { name } } } #',
  'mutation { stixBundlePush(connectorId: "x", bundle: "{}") }',
  '$bundle',
  '{"$ne": null}',
  '\u0000',
  '\u202e',
  '\ufeff',
  '\ud800',
  '%27%5D',
  '\r\nX-Api-Key: stolen',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${7*7}',
  'ǅ𝕏ﬁ',
];

const injection = fc.constantFrom(...INJECTIONS);
const hostileText = fc.oneof(
  injection,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.tuple(injection, fc.string({ maxLength: 10 }), injection).map((parts) => parts.join('')),
);
/** URLs that parse, with quotes, brackets and GraphQL syntax in their path and query. */
const hostileUrl = fc
  .tuple(
    fc.constantFrom('http', 'https', 'ftp', 'javascript', 'file'),
    fc.domain(),
    fc.array(fc.oneof(injection, fc.constantFrom('a', '/', '?q=', '#', '&', '=')), { maxLength: 6 }),
  )
  .map(([scheme, host, parts]) => `${scheme}://${host}/${parts.join('')}`);
const observableValue = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.domain(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  hostileUrl,
  hostileText,
  fc.tuple(fc.ipV4(), injection).map(([ip, text]) => `${ip}${text}`),
  fc.tuple(fc.domain(), injection).map(([name, text]) => `${name}${text}`),
  fc.constantFrom('10.0.0.1', '127.0.0.1', '::1', 'fe80::1', '169.254.169.254', 'printer.local', 'localhost'),
);
const typeName = fc.oneof(
  fc.constantFrom(
    'ipv4-addr',
    'ipv6-addr',
    'domain-name',
    'hostname',
    'url',
    'IPv4-Addr',
    'Url',
    'x-opencti-hostname',
    'email-addr',
    'Text',
    '',
  ),
  hostileText,
);
const notString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);

/** A STIX-looking object, its fields well or badly typed. */
const stixObject = fc.record(
  {
    id: fc.oneof(
      fc.tuple(fc.constantFrom(...OBSERVABLE_STIX_TYPES), fc.uuid()).map(([t, u]) => `${t}--${u}`),
      hostileText,
    ),
    type: typeName,
    spec_version: fc.constant('2.1'),
    value: fc.oneof(observableValue, notString),
    object_marking_refs: fc.oneof(fc.constant([]), fc.array(hostileText, { maxLength: 2 }), notString),
    extensions: fc.oneof(
      fc.record({
        [OCTI_EXTENSION]: fc.record(
          { type: typeName, id: hostileText, updated_at: hostileText },
          { requiredKeys: [] },
        ),
      }),
      fc.jsonValue({ maxDepth: 3 }),
    ),
  },
  { requiredKeys: ['id', 'type'] },
);

interface Payload {
  body: string;
  /** Null when the form is broken on purpose: the exact answer is then 400, not 202. */
  wellFormed: boolean;
}

/** The webhook's minimal form, each field right or wrong. */
const minimalForm = fc
  .record({
    observables: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.array(
          fc.record({ type: fc.option(typeName, { nil: undefined, freq: 2 }), value: observableValue }),
          { maxLength: 8 },
        ),
      },
      {
        weight: 4,
        arbitrary: fc.array(fc.record({ type: fc.constantFrom('url', 'Url'), value: hostileUrl }), {
          minLength: 1,
          maxLength: 3,
        }),
      },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.record({
            type: fc.option(notString, { nil: undefined }),
            value: fc.oneof(observableValue, notString),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      },
      { weight: 1, arbitrary: notString },
    ),
    source: fc.option(fc.oneof(hostileText, notString), { nil: undefined }),
    request_id: fc.option(fc.oneof(hostileText, notString), { nil: undefined }),
  })
  .map((form): Payload => {
    const stringish = (v: unknown) =>
      v === undefined || (typeof v === 'string' && v.length >= 1 && v.length <= 200);
    const item = (o: unknown) => {
      const { type, value } = (o ?? {}) as { type?: unknown; value?: unknown };
      return (
        typeof value === 'string' && (type === undefined || (typeof type === 'string' && type.length >= 1))
      );
    };
    const items: unknown = form.observables;
    const wellFormed =
      Array.isArray(items) && items.every(item) && stringish(form.source) && stringish(form.request_id);
    return { body: JSON.stringify(form), wellFormed };
  });

/** The notifier template's form: hostile STIX objects, a notification right or wrong. */
const templateForm = fc
  .record({
    notification: fc.oneof(
      fc.record({ id: hostileText, name: hostileText, trigger_type: fc.constant('live') }),
      fc.constant(null),
      fc.integer(),
    ),
    objects: fc.array(fc.oneof(stixObject, notString), { maxLength: 6 }),
    events: fc.oneof(fc.constant([]), fc.jsonValue({ maxDepth: 3 })),
  })
  .map((form): Payload => ({
    body: JSON.stringify(form),
    wellFormed: form.notification === null || typeof form.notification === 'object',
  }));

/** Listen messages (enrichment and playbook) as the worker might send them, and worse. */
const listenForm = fc
  .record({
    workId: fc.oneof(fc.constant('known'), hostileText, notString),
    mode: fc.oneof(fc.constantFrom('manual', 'auto'), hostileText),
    trigger: fc.oneof(fc.constantFrom('create', 'update'), hostileText),
    playbook: fc.option(
      fc.record({
        event_id: fc.oneof(hostileText, fc.uuid()),
        execution_id: fc.oneof(hostileText, fc.uuid(), notString),
        playbook_id: fc.uuid(),
        data_instance_id: hostileText,
        step_id: fc.oneof(hostileText, fc.uuid()),
        previous_step_id: fc.uuid(),
      }),
      { nil: undefined },
    ),
    draftId: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, fc.uuid(), hostileText),
    entity: stixObject,
    entityType: fc.option(typeName, { nil: undefined }),
    entityAs: fc.constantFrom('json-string', 'object', 'junk', 'missing'),
    extra: fc.array(stixObject, { maxLength: 3 }),
  })
  .map((m): Payload => {
    const workId = m.workId === 'known' ? world.octi.createWork(CONNECTOR_ID, 'Enrichment (fuzz)') : m.workId;
    const stixEntity =
      m.entityAs === 'json-string'
        ? JSON.stringify(m.entity)
        : m.entityAs === 'object'
          ? m.entity
          : m.entityAs === 'junk'
            ? '{"id": '
            : undefined;
    const event = m.playbook
      ? {
          entity_id: m.entity.id,
          bundle: { type: 'bundle', id: 'bundle--fuzz', objects: [m.entity, ...m.extra] },
        }
      : {
          entity_id: m.entity.id,
          entity_type: m.entityType,
          stix_entity: stixEntity,
          stix_objects: JSON.stringify([m.entity, ...m.extra]),
        };
    const internal = m.playbook
      ? { work_id: null, playbook: m.playbook, mode: m.mode, trigger: m.trigger }
      : { work_id: workId, mode: m.mode, trigger: m.trigger, draft_id: m.draftId };
    return { body: JSON.stringify({ internal, event }), wellFormed: true };
  });

/** Bodies that are not what either route expects at all. */
const junkBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)),
  fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1, max: 3000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.constantFrom('', 'null', '[]', '{}', 'true', '"observables"', '{"observables": {}}', '{"objects": "x"}'),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.opencti+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  'application/json\u00e9',
);

// ---------------------------------------------------------------------------------------------
// One request and the rules it must follow

interface Sent {
  route: Route;
  body: string | Buffer;
  contentType: string | undefined;
  auth: 'valid' | 'missing' | 'wrong';
  /** For the webhook: whether the payload is one of its forms, well typed. */
  wellFormed?: boolean;
}

function headersFor(sent: Sent, wrongCredential: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (sent.contentType) headers['content-type'] = sent.contentType;
  if (sent.auth === 'missing') return headers;
  const credential = sent.auth === 'valid' ? undefined : wrongCredential;
  if (sent.route === '/webhook') headers['x-webhook-token'] = credential ?? WEBHOOK_TOKEN;
  else headers.authorization = credential ?? `Bearer ${world.octi.token}`;
  return headers;
}

const JSON_TYPE = /^application\/(?:json|[a-z0-9.+-]+\+json)\s*(?:;|$)/i;

/** Documented answers: callback 202 / 401; webhook 202 / 400 / 401 / 413 / 415; gateway 413. */
function expectedStatuses(sent: Sent, size: number): number[] {
  if (size > GATEWAY_MAX_BODY_BYTES) return [413];
  if (sent.auth !== 'valid') return [401];
  if (sent.route === '/opencti/callback') return [202];
  if (size > MAX_BODY_BYTES.webhook) return [413];
  if (!sent.contentType || !JSON_TYPE.test(sent.contentType)) return [415];
  if (sent.wellFormed === true) return [202];
  if (sent.wellFormed === false) return [400];
  return [202, 400];
}

/** A queued job is either an observable the product can enrich, or a callback that only needs an answer. */
function invalidJob(job: EnrichmentJob, route: Route): string | undefined {
  if (job.unprocessable) {
    return route === '/opencti/callback' ? undefined : `webhook queued an unprocessable job ${job.jobId}`;
  }
  const { type, value } = job.observable;
  if (!(OBSERVABLE_STIX_TYPES as readonly string[]).includes(type)) return `unknown type ${type}`;
  if (!world.config.opencti.scope.includes(entityTypeOf(type))) return `${type} out of scope`;
  try {
    validateObservable(type, value);
    if (normaliseObservable(type, value) !== value)
      return `${type} ${JSON.stringify(value)} is not normalised`;
  } catch (error) {
    return `${type} ${JSON.stringify(value)} queued although invalid: ${(error as Error).message}`;
  }
  if (job.observable.stixId !== undefined && typeof job.observable.stixId !== 'string')
    return 'stixId not a string';
  return undefined;
}

async function send(sent: Sent, wrongCredential = 'not-the-token'): Promise<void> {
  cases[sent.route === '/webhook' ? 'webhook' : 'callback'] += 1;
  const before = [...world.trace.accepted.keys()];
  const acceptances = world.trace.acceptances;
  const answer = await rawRequest(`${world.server.url}${sent.route}`, {
    headers: headersFor(sent, wrongCredential),
    body: sent.body,
  });
  statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
  const size = Buffer.byteLength(sent.body);
  const expected = expectedStatuses(sent, size);
  if (!expected.includes(answer.status)) {
    throw new Error(
      `${sent.route} (auth ${sent.auth}, ${size} bytes, ${String(sent.contentType)}) answered ${answer.status}, expected ${expected.join(' or ')}: ${answer.body.slice(0, 300)}`,
    );
  }
  const queued = world.trace.acceptances - acceptances;
  if (answer.status !== 202 && queued > 0) throw new Error(`${answer.status} but ${queued} jobs queued`);
  if (answer.status === 202) {
    const told = (JSON.parse(answer.body) as { queued?: unknown }).queued;
    if (told !== queued) throw new Error(`answered queued ${String(told)} but queued ${queued}`);
  } else if (answer.status < 500) {
    JSON.parse(answer.body); // every refusal is a JSON body
  }
  const fresh = [...world.trace.accepted.entries()]
    .filter(([id]) => !before.includes(id))
    .map(([, job]) => job);
  for (const job of fresh) {
    const problem = invalidJob(job, sent.route);
    if (problem) throw new Error(problem);
  }
}

// ---------------------------------------------------------------------------------------------

const RUNS = { credentials: 200, minimal: 260, urls: 150, template: 200, listen: 260, junk: 260 };

describe('hostile input on POST /opencti/callback and POST /webhook', () => {
  it('refuses every request without the right credential, and queues nothing', async () => {
    const token = world.octi.token;
    const wrong = fc.oneof(
      hostileText,
      fc.constantFrom(
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token}x`,
        `Bearer ${token.toUpperCase()}`,
        `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
        `Bearer ${WEBHOOK_TOKEN}`,
        WEBHOOK_TOKEN.slice(0, -1),
        `${WEBHOOK_TOKEN} `.repeat(2),
        token,
        'Bearer',
        'Bearer ',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Route>('/opencti/callback', '/webhook'),
        fc.constantFrom<'missing' | 'wrong'>('missing', 'wrong'),
        // Header values are visible ASCII on the wire; anything else never reaches the server.
        wrong.filter(
          (w) =>
            /^[\t\x20-\x7e]*$/.test(w) &&
            w.trim() !== token &&
            w.trim() !== `Bearer ${token}` &&
            w.trim() !== WEBHOOK_TOKEN,
        ),
        fc.oneof(
          minimalForm.map((p) => p.body),
          listenForm.map((p) => p.body),
          junkBody,
        ),
        async (route, auth, credential, body) => {
          const before = world.trace.acceptances;
          await send({ route, body, contentType: 'application/json', auth }, credential);
          expect(world.trace.acceptances).toBe(before);
        },
      ),
      { numRuns: RUNS.credentials, seed: 11 },
    );
  });

  it('answers the webhook minimal form with 202 or 400 as documented, queueing only valid observables', async () => {
    await fc.assert(
      fc.asyncProperty(minimalForm, contentType, async (payload, type) => {
        await send({
          route: '/webhook',
          body: payload.body,
          contentType: type,
          auth: 'valid',
          wellFormed: payload.wellFormed,
        });
      }),
      { numRuns: RUNS.minimal, seed: 12 },
    );
  });

  it('queues URLs that carry quotes, backslashes and GraphQL or pattern syntax as the values they are', async () => {
    const url = fc
      .tuple(
        fc.constantFrom('http', 'https'),
        fc.domain(),
        fc.array(fc.oneof(injection, fc.constantFrom('a', '/', '?q=', '&x=', '#')), {
          minLength: 1,
          maxLength: 6,
        }),
      )
      .map(([scheme, host, parts]) => `${scheme}://${host}/${parts.join('')}`);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(url, { minLength: 1, maxLength: 3 }),
        fc.uuid(),
        async (urls, requestId) => {
          const body = JSON.stringify({
            observables: urls.map((value) => ({ type: 'url', value })),
            request_id: requestId,
          });
          await send({
            route: '/webhook',
            body,
            contentType: 'application/json',
            auth: 'valid',
            wellFormed: true,
          });
        },
      ),
      { numRuns: RUNS.urls, seed: 16 },
    );
  });

  it('answers the notifier template form as documented, queueing only valid observables', async () => {
    await fc.assert(
      fc.asyncProperty(templateForm, async (payload) => {
        await send({
          route: '/webhook',
          body: payload.body,
          contentType: 'application/json',
          auth: 'valid',
          wellFormed: payload.wellFormed,
        });
      }),
      { numRuns: RUNS.template, seed: 13 },
    );
  });

  it('answers every listen message 202, queueing a valid observable or an answer-only job', async () => {
    await fc.assert(
      fc.asyncProperty(listenForm, fc.option(contentType, { nil: undefined }), async (payload, type) => {
        await send({ route: '/opencti/callback', body: payload.body, contentType: type, auth: 'valid' });
      }),
      { numRuns: RUNS.listen, seed: 14 },
    );
  });

  it('answers junk, deep nesting and wrong content types as documented', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Route>('/opencti/callback', '/webhook'),
        junkBody,
        fc.option(contentType, { nil: undefined }),
        async (route, body, type) => {
          await send({ route, body, contentType: type, auth: 'valid' });
        },
      ),
      { numRuns: RUNS.junk, seed: 15 },
    );
  });

  it('answers bodies at and beyond the size limits as documented', async () => {
    const pad = (bytes: number, shape: (padding: string) => string) => {
      const empty = Buffer.byteLength(shape(''));
      return shape('x'.repeat(bytes - empty));
    };
    const minimal = (padding: string) =>
      JSON.stringify({ observables: [{ value: '8.8.8.8' }], source: 'size', pad: padding });
    const listen = (padding: string) =>
      JSON.stringify({ internal: { work_id: 'w' }, event: { pad: padding } });
    const sizes: Sent[] = [
      {
        route: '/webhook',
        body: pad(MAX_BODY_BYTES.webhook, minimal),
        contentType: 'application/json',
        auth: 'valid',
        wellFormed: true,
      },
      {
        route: '/webhook',
        body: pad(MAX_BODY_BYTES.webhook + 1, minimal),
        contentType: 'application/json',
        auth: 'valid',
      },
      {
        route: '/webhook',
        body: pad(MAX_BODY_BYTES.webhook + 1, minimal),
        contentType: 'text/plain',
        auth: 'valid',
      },
      {
        route: '/opencti/callback',
        body: pad(MAX_BODY_BYTES.callback, listen),
        contentType: 'application/json',
        auth: 'valid',
      },
      {
        route: '/opencti/callback',
        body: pad(MAX_BODY_BYTES.callback + 1, listen),
        contentType: 'application/json',
        auth: 'valid',
      },
      {
        route: '/opencti/callback',
        body: pad(GATEWAY_MAX_BODY_BYTES + 1, listen),
        contentType: 'application/json',
        auth: 'valid',
      },
      {
        route: '/webhook',
        body: pad(GATEWAY_MAX_BODY_BYTES + 1, minimal),
        contentType: 'application/json',
        auth: 'missing',
      },
      {
        route: '/webhook',
        body: '['.repeat(200_000) + ']'.repeat(200_000),
        contentType: 'application/json',
        auth: 'valid',
      },
      {
        route: '/opencti/callback',
        body: '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
        contentType: 'application/json',
        auth: 'valid',
      },
      {
        route: '/webhook',
        body: JSON.stringify({
          observables: Array.from({ length: 101 }, (_, i) => ({ value: `45.1.${i}.1` })),
        }),
        contentType: 'application/json',
        auth: 'valid',
        wellFormed: false,
      },
    ];
    for (const sent of sizes) await send(sent);
  });

  it('keeps every invalid or non-public target from Criminal IP, every pattern one comparison, every GraphQL request valid', async () => {
    await drain(world, { maxBatches: 20_000 });
    expect(crashes).toEqual([]);
    const health = await rawRequest(`${world.server.url}/health`, { method: 'GET' });
    expect(health.status).toBe(200);

    // Criminal IP saw only valid, public targets: an IP parameter is one public address, a scan
    // query a domain or an http(s) URL the product accepts.
    const calls = world.cip.calls;
    for (const call of calls) {
      expect(call.outcome).not.toMatch(/invalid-target|missing-parameter|unknown-endpoint|invalid-api-key/);
      const ip = call.query.ip;
      if (ip !== undefined) {
        const parsed = ipaddr.isValid(ip) ? ipaddr.process(ip) : undefined;
        expect(parsed?.range()).toBe('unicast');
      }
      const query = call.query.query ?? call.form?.query;
      if (query !== undefined) {
        const type = /^https?:\/\//i.test(query) ? 'url' : 'domain-name';
        expect({ query, problem: targetRejection(type, query) }).toEqual({ query, problem: undefined });
      }
    }

    // Every pattern written is a single comparison whose value is the observable's own.
    const bundles = [...world.octi.bundles(), ...world.octi.playbookAnswers().map((a) => a.bundle)];
    let patterns = 0;
    for (const bundle of bundles) {
      for (const pattern of patternsOf(bundle)) {
        patterns += 1;
        const { type, value } = singleComparison(pattern);
        expect(bundle.objects.some((o) => o.id === observableId(type as never, value))).toBe(true);
      }
    }
    const hostilePatterns = bundles
      .flatMap(patternsOf)
      .filter((p) => /\\\\|\\'|\]\s*(OR|AND)/.test(p)).length;

    // OpenCTI refused no document: every value travelled as a variable of a valid operation.
    const rejected = world.octi.requests.filter((r) => r.outcome === 'rejected');
    expect(rejected.map((r) => `${r.operationName}: ${r.errorCode}`)).toEqual([]);

    const total = cases.callback + cases.webhook;
    console.log(
      `Hostile input: ${total} fuzz cases (callback ${cases.callback}, webhook ${cases.webhook}); answers ${JSON.stringify(statuses)}; ` +
        `jobs queued ${world.trace.accepted.size}; Criminal IP calls ${calls.length} (none refused as invalid); ` +
        `${patterns} indicator patterns checked (${hostilePatterns} with escaped quotes or backslashes); ` +
        `${world.octi.requests.length} OpenCTI requests, ${rejected.length} refused; process crashes ${crashes.length}`,
    );
    expect(total).toBeGreaterThanOrEqual(1000);
    expect(patterns).toBeGreaterThan(0);
    expect(hostilePatterns).toBeGreaterThan(0);
  });
});
