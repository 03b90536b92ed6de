import fc from 'fast-check';
import { inferObservableType, normaliseObservable, validateObservable } from '../../lib/jobs/observable';
import { parseListenMessage } from '../../lib/jobs/parse-listen';
import { parseWebhookPayload, WebhookError } from '../../lib/jobs/parse-webhook';
import { JobRejection, type EnrichmentJob } from '../../lib/jobs/types';
import { OBSERVABLE_STIX_TYPES } from '../../lib/stix/core';
import { ALL_TYPES, NOW, fixture } from './fixtures';

const opts = { scope: ALL_TYPES, now: NOW };
const RUNS = { numRuns: 400 };

/** Every job a parser makes carries a value that is valid and already in its kept form. */
function expectUsable(job: EnrichmentJob): void {
  expect(() => validateObservable(job.observable.type, job.observable.value)).not.toThrow();
  expect(normaliseObservable(job.observable.type, job.observable.value)).toBe(job.observable.value);
}

// Values near the edge: real observables, their broken neighbours and arbitrary text.
const observableish = fc.oneof(
  fc.constantFrom(
    '8.8.8.8',
    '010.1.1.1',
    '2001:db8::1',
    'fe80::1%eth0',
    'Example.COM.',
    'bücher.de',
    'host_1.example.com',
    'https://example.com/a"b',
    'ftp://x',
    'a..b',
    '',
    ' 8.8.8.8',
  ),
  fc.ipV4(),
  fc.ipV6(),
  fc.domain(),
  fc.webUrl(),
  fc.string(),
  fc.string({ unit: 'binary' }),
);

const stixType = fc.oneof(
  fc.constantFrom(...OBSERVABLE_STIX_TYPES, 'text', 'report', 'x-opencti-hostname'),
  fc.string(),
);
const stixObject = fc.record(
  {
    id: fc.oneof(fc.string(), fc.constant('ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7')),
    type: stixType,
    value: fc.oneof(observableish, fc.jsonValue()),
    object_marking_refs: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

const LISTEN_FIXTURES = [
  'listen-manual-ipv4.json',
  'listen-auto-create-domain.json',
  'listen-auto-update-url-tlp-red.json',
  'playbook-6.9-hostname.json',
  'playbook-7x-ipv6.json',
];

/** Real messages with one entity changed: reaches the job and answer-only paths often. */
const mutatedListen = fc
  .record({
    name: fc.constantFrom(...LISTEN_FIXTURES),
    value: fc.option(observableish, { nil: undefined }),
    entityType: fc.option(fc.oneof(fc.constantFrom(...ALL_TYPES, 'Text'), fc.jsonValue()), {
      nil: undefined,
    }),
    markings: fc.option(fc.jsonValue(), { nil: undefined }),
    doubleEncode: fc.boolean(),
  })
  .map(({ name, value, entityType, markings, doubleEncode }) => {
    const message = fixture(name);
    const fromBundle = message.event.bundle !== undefined;
    const entity = fromBundle ? message.event.bundle.objects[0] : JSON.parse(message.event.stix_entity);
    if (value !== undefined) entity.value = value;
    if (markings !== undefined) entity.object_marking_refs = markings;
    if (entityType !== undefined) message.event.entity_type = entityType;
    if (!fromBundle) message.event.stix_entity = JSON.stringify(entity);
    return doubleEncode ? JSON.stringify(message) : message;
  });

describe('parsers on arbitrary input', () => {
  it('parseListenMessage never throws, and every job it makes is usable', () => {
    const listenish = fc.record(
      {
        internal: fc.record(
          {
            work_id: fc.oneof(fc.string(), fc.constant(null), fc.jsonValue()),
            mode: fc.oneof(fc.constantFrom('manual', 'auto'), fc.jsonValue()),
            trigger: fc.oneof(fc.constantFrom('create', 'update'), fc.jsonValue()),
            playbook: fc.oneof(
              fc.constant(null),
              fc.constant(fixture('playbook-6.9-hostname.json').internal.playbook),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: [] },
        ),
        event: fc.record(
          {
            entity_id: fc.oneof(
              fc.constant('ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7'),
              fc.jsonValue(),
            ),
            entity_type: fc.oneof(fc.constantFrom(...ALL_TYPES, 'Text'), fc.jsonValue()),
            stix_entity: fc.oneof(
              stixObject.map((o) => JSON.stringify(o)),
              stixObject,
              fc.jsonValue(),
            ),
            stix_objects: fc.oneof(
              fc.constant(null),
              fc.array(stixObject).map((a) => JSON.stringify(a)),
              fc.jsonValue(),
            ),
            bundle: fc.oneof(
              fc.record({ type: fc.constant('bundle'), objects: fc.array(stixObject) }),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), listenish, mutatedListen, mutatedListen, fc.string()), (body) => {
        const parsed = parseListenMessage(body, opts);
        expect(['job', 'answer-only', 'rejected']).toContain(parsed.kind);
        if (parsed.kind === 'job') expectUsable(parsed.job);
        if (parsed.kind === 'answer-only') expect(parsed.job.unprocessable.reason.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('parseWebhookPayload throws nothing but WebhookError, and every job it makes is usable', () => {
    const webhookish = fc.oneof(
      fc.record(
        { objects: fc.array(fc.oneof(stixObject, fc.jsonValue())), events: fc.jsonValue() },
        { requiredKeys: ['objects'] },
      ),
      fc.record(
        {
          observables: fc.array(
            fc.record({ type: stixType, value: observableish }, { requiredKeys: ['value'] }),
          ),
          request_id: fc.string(),
        },
        { requiredKeys: ['observables'] },
      ),
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), webhookish, fc.string()), (body) => {
        let jobs: EnrichmentJob[] = [];
        try {
          jobs = parseWebhookPayload(body, opts).jobs;
        } catch (error) {
          expect(error).toBeInstanceOf(WebhookError);
          return;
        }
        jobs.forEach(expectUsable);
      }),
      RUNS,
    );
  });
});

describe('observable rules on arbitrary values', () => {
  it('normalisation throws only JobRejection and is idempotent', () => {
    fc.assert(
      fc.property(fc.constantFrom(...OBSERVABLE_STIX_TYPES), observableish, (type, value) => {
        let kept: string;
        try {
          kept = normaliseObservable(type, value);
        } catch (error) {
          expect(error).toBeInstanceOf(JobRejection);
          return;
        }
        expect(normaliseObservable(type, kept)).toBe(kept);
      }),
      RUNS,
    );
  });

  it('accepts generated IP addresses, domains and URLs under the type it infers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.webUrl(), fc.domain()), (value) => {
        const type = inferObservableType(value);
        expect(type).toBeDefined();
        expect(() => validateObservable(type!, value)).not.toThrow();
      }),
      RUNS,
    );
  });
});
