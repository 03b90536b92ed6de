import { parseListenMessage, type ParsedListen } from '../../lib/jobs/parse-listen';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { ALL_TYPES, NOW, TLP, fixture } from './fixtures';

const opts = { scope: ALL_TYPES, now: NOW };

function jobOf(parsed: ParsedListen): EnrichmentJob {
  if (parsed.kind !== 'job') throw new Error(`expected a job, got ${parsed.kind}: ${JSON.stringify(parsed)}`);
  return parsed.job;
}

function answerOnly(parsed: ParsedListen) {
  if (parsed.kind !== 'answer-only') throw new Error(`expected answer-only, got ${parsed.kind}`);
  return parsed;
}

function rejectedOf(parsed: ParsedListen) {
  if (parsed.kind !== 'rejected') throw new Error(`expected rejected, got ${parsed.kind}`);
  return parsed.rejection;
}

/** The message with its stix_entity changed (it travels as a JSON string). */
function withEntity(name: string, change: (entity: Record<string, unknown>) => void) {
  const message = fixture(name);
  const entity = JSON.parse(message.event.stix_entity);
  change(entity);
  message.event.stix_entity = JSON.stringify(entity);
  return message;
}

describe('parseListenMessage: manual and automatic enrichment', () => {
  it('turns a manual enrichment into a forced job on the work, with the markings it states', () => {
    const message = fixture('listen-manual-ipv4.json');
    const job = jobOf(parseListenMessage(message, opts));
    expect(job.origin).toEqual({
      kind: 'enrichment',
      workId: 'work_6f6c3b9a-1e2d-4c5b-8a7f-0e9d8c7b6a51_2026-02-10T10:06:00.123Z',
      mode: 'manual',
      trigger: 'update',
    });
    expect(job.observable).toEqual({
      type: 'ipv4-addr',
      value: '8.8.8.8',
      stixId: 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
      markingRefs: [TLP.green],
      original: JSON.parse(message.event.stix_entity),
    });
    expect(job.force).toBe(true);
    expect(job.receivedAt).toBe('2026-02-10T10:06:01.000Z');
    expect(job.unprocessable).toBeUndefined();
  });

  it('reads an automatic creation with stix_objects null and no markings: markingRefs left unknown', () => {
    const job = jobOf(parseListenMessage(fixture('listen-auto-create-domain.json'), opts));
    expect(job.origin).toEqual({
      kind: 'enrichment',
      workId: 'work_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d_2026-02-10T10:00:01.500Z',
      mode: 'auto',
      trigger: 'create',
    });
    expect(job.observable.type).toBe('domain-name');
    expect(job.observable.value).toBe('example.com');
    // Absent, not []: the TLP gate must ask OpenCTI rather than assume TLP:CLEAR.
    expect('markingRefs' in job.observable).toBe(false);
    expect(job.force).toBeUndefined();
  });

  it('keeps a TLP:RED marking and the draft id of an automatic update', () => {
    const job = jobOf(parseListenMessage(fixture('listen-auto-update-url-tlp-red.json'), opts));
    expect(job.observable).toMatchObject({
      type: 'url',
      value: 'https://example.com/',
      markingRefs: [TLP.red],
    });
    expect(job.origin).toMatchObject({
      kind: 'enrichment',
      mode: 'auto',
      trigger: 'update',
      draftId: 'f3e2d1c0-b9a8-4766-9554-433221100ffe',
    });
  });

  it('refuses a draft id that could not travel as the opencti-draft-id header', () => {
    const message = fixture('listen-auto-update-url-tlp-red.json');
    message.internal.draft_id = 'f3e2d1c0\r\nX-Injected: 1';
    const parsed = parseListenMessage(message, opts);
    expect(parsed.kind).toBe('rejected');
    if (parsed.kind === 'rejected') expect(parsed.rejection.message).toMatch(/draft_id/);
  });

  it('tells markings stated as empty (TLP:CLEAR) from markings not stated', () => {
    const empty = withEntity('listen-manual-ipv4.json', (e) => {
      e.object_marking_refs = [];
    });
    expect(jobOf(parseListenMessage(empty, opts)).observable.markingRefs).toEqual([]);
    const absent = withEntity('listen-manual-ipv4.json', (e) => {
      delete e.object_marking_refs;
    });
    expect(jobOf(parseListenMessage(absent, opts)).observable.markingRefs).toBeUndefined();
    const malformed = withEntity('listen-manual-ipv4.json', (e) => {
      e.object_marking_refs = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    });
    expect(jobOf(parseListenMessage(malformed, opts)).observable.markingRefs).toBeUndefined();
  });

  it('infers the type from the STIX object when entity_type is missing', () => {
    const message = fixture('listen-auto-create-domain.json');
    delete message.event.entity_type;
    expect(jobOf(parseListenMessage(message, opts)).observable.type).toBe('domain-name');
  });

  it('lower-cases a domain name as OpenCTI stores it', () => {
    const message = withEntity('listen-auto-create-domain.json', (e) => {
      e.value = 'Example.COM';
    });
    expect(jobOf(parseListenMessage(message, opts)).observable.value).toBe('example.com');
  });

  it('decodes JSON nested once more than usual, in a field or in the whole body', () => {
    const expected = jobOf(parseListenMessage(fixture('listen-manual-ipv4.json'), opts));
    const doubled = fixture('listen-manual-ipv4.json');
    doubled.event.stix_entity = JSON.stringify(doubled.event.stix_entity);
    expect(jobOf(parseListenMessage(doubled, opts))).toEqual(expected);
    const asText = JSON.stringify(fixture('listen-manual-ipv4.json'));
    expect(jobOf(parseListenMessage(asText, opts))).toEqual(expected);
    expect(jobOf(parseListenMessage(JSON.stringify(asText), opts))).toEqual(expected);
    expect(jobOf(parseListenMessage(Buffer.from(asText), opts))).toEqual(expected);
  });

  it('falls back on stix_objects when stix_entity is missing', () => {
    const message = fixture('listen-manual-ipv4.json');
    delete message.event.stix_entity;
    const job = jobOf(parseListenMessage(message, opts));
    expect(job.observable.value).toBe('8.8.8.8');
    expect(job.observable.markingRefs).toEqual([TLP.green]);
  });

  it('treats a message without mode as automatic (never forced)', () => {
    const message = fixture('listen-manual-ipv4.json');
    delete message.internal.mode;
    delete message.internal.trigger;
    const job = jobOf(parseListenMessage(message, opts));
    expect(job.origin).toEqual({ kind: 'enrichment', workId: message.internal.work_id, mode: 'auto' });
    expect(job.force).toBeUndefined();
  });
});

describe('parseListenMessage: work to close without enrichment', () => {
  it('answers a Text entity: the work is closed with the reason', () => {
    const parsed = answerOnly(parseListenMessage(fixture('listen-manual-text.json'), opts));
    expect(parsed.rejection.reason).toBe('unsupported-type');
    expect(parsed.job.origin).toMatchObject({
      kind: 'enrichment',
      workId: 'work_5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d_2026-02-10T12:00:00.000Z',
    });
    expect(parsed.job.unprocessable.reason).toBe('"Text" is not an observable type this connector enriches');
    expect(parsed.job.observable.stixId).toBe('text--4a1c2b3d-5e6f-5a7b-9c8d-0e1f2a3b4c88');
  });

  it('answers a type outside CONNECTOR_SCOPE', () => {
    const parsed = answerOnly(
      parseListenMessage(fixture('listen-auto-update-url-tlp-red.json'), {
        scope: ['IPv4-Addr', 'Domain-Name'],
        now: NOW,
      }),
    );
    expect(parsed.rejection.reason).toBe('out-of-scope');
    expect(parsed.job.unprocessable.reason).toBe('Url is not in CONNECTOR_SCOPE (IPv4-Addr, Domain-Name)');
    expect(parsed.job.origin).toMatchObject({
      kind: 'enrichment',
      draftId: 'f3e2d1c0-b9a8-4766-9554-433221100ffe',
    });
  });

  it.each([
    ['1.2.3.999', /has a part above 255/],
    ['010.0.0.1', /leading zero/],
    ['', /is empty/],
    ['8.8.8.8\n', /control characters/],
  ])('answers an invalid IPv4 value %j with the reason', (value, reason) => {
    const message = withEntity('listen-manual-ipv4.json', (e) => {
      e.value = value;
    });
    const parsed = answerOnly(parseListenMessage(message, opts));
    expect(parsed.rejection.reason).toBe('invalid-value');
    expect(parsed.job.unprocessable.reason).toMatch(reason);
    expect(parsed.job.observable.type).toBe('ipv4-addr');
  });

  it('answers an entity without a value, or a stix_entity that is not JSON', () => {
    const noValue = withEntity('listen-manual-ipv4.json', (e) => {
      delete e.value;
    });
    expect(answerOnly(parseListenMessage(noValue, opts)).job.unprocessable.reason).toMatch(/has no value/);
    const broken = fixture('listen-manual-ipv4.json');
    broken.event.stix_entity = '{"id": "ipv4-addr--2f68';
    broken.event.stix_objects = null;
    const parsed = answerOnly(parseListenMessage(broken, opts));
    expect(parsed.rejection.reason).toBe('malformed-message');
    expect(parsed.job.unprocessable.reason).toBe('event.stix_entity is not valid JSON');
  });

  it('answers a message without entity_id', () => {
    const message = fixture('listen-manual-ipv4.json');
    delete message.event;
    const parsed = answerOnly(parseListenMessage(message, opts));
    expect(parsed.job.unprocessable.reason).toBe('event.entity_id is missing');
  });
});

describe('parseListenMessage: playbook "Enrich through connector"', () => {
  it('reads the 6.9 shape (no entity_type): entity from the bundle, bundle kept whole', () => {
    const message = fixture('playbook-6.9-hostname.json');
    const job = jobOf(parseListenMessage(message, opts));
    expect(job.origin).toEqual({
      kind: 'playbook',
      playbook: {
        eventId: '1739181912345-0',
        executionId: '3c1f0e8a-2b7d-4e6f-9a5c-8d7e6f5a4b3c',
        playbookId: '6e4b6f0a-3d5c-4f7e-9a1b-2c3d4e5f6a70',
        dataInstanceId: 'hostname--e862c830-fcab-5bea-833f-0a1acca621a2',
        stepId: 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9',
        previousStepId: 'b8f1f4d2-7c3a-4e9b-8d5f-1a2b3c4d5e6f',
      },
      bundle: message.event.bundle,
    });
    expect(job.observable).toEqual({
      type: 'hostname',
      value: 'host.example.com',
      stixId: 'hostname--e862c830-fcab-5bea-833f-0a1acca621a2',
      markingRefs: [TLP.amber],
      original: message.event.bundle.objects[0],
    });
    expect(job.force).toBeUndefined();
  });

  it('reads the 7.x shape with entity_type', () => {
    const job = jobOf(parseListenMessage(fixture('playbook-7x-ipv6.json'), opts));
    expect(job.observable).toMatchObject({
      type: 'ipv6-addr',
      value: '2001:4860:4860::8888',
      markingRefs: [TLP.clear],
    });
    expect(job.origin.kind).toBe('playbook');
  });

  it('still answers a playbook whose entity is out of the product: with the bundle it sent', () => {
    const message = fixture('playbook-6.9-text.json');
    const parsed = answerOnly(parseListenMessage(message, opts));
    expect(parsed.rejection.reason).toBe('unsupported-type');
    expect(parsed.job.origin.kind).toBe('playbook');
    if (parsed.job.origin.kind !== 'playbook') return;
    expect(parsed.job.origin.bundle).toEqual(message.event.bundle);
    expect(parsed.job.origin.playbook.stepId).toBe('c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f');
    expect(parsed.job.unprocessable.reason).toMatch(/"text" is not an observable type/);
  });

  it('still answers a playbook whose entity is missing from the bundle', () => {
    const message = fixture('playbook-6.9-hostname.json');
    message.event.entity_id = 'hostname--00000000-0000-5000-8000-000000000000';
    const parsed = answerOnly(parseListenMessage(message, opts));
    expect(parsed.job.unprocessable.reason).toBe(
      'the entity "hostname--00000000-0000-5000-8000-000000000000" is not in the playbook bundle',
    );
    expect(parsed.job.observable.type).toBe('hostname'); // read from the id, for the logs
  });

  it('answers with an empty bundle when the bundle cannot be read', () => {
    const message = fixture('playbook-6.9-hostname.json');
    message.event.bundle = { type: 'bundle', objects: 'nope' };
    const parsed = answerOnly(parseListenMessage(message, opts));
    expect(parsed.job.unprocessable.reason).toMatch(
      /^event.bundle is not a STIX bundle \(objects: .*empty bundle$/,
    );
    if (parsed.job.origin.kind !== 'playbook') throw new Error('playbook origin expected');
    expect(parsed.job.origin.bundle.objects).toEqual([]);
    expect(parsed.job.origin.bundle.id).toMatch(/^bundle--[0-9a-f-]{36}$/);
  });

  it('accepts a bundle sent as a JSON string', () => {
    const message = fixture('playbook-6.9-hostname.json');
    const bundle = message.event.bundle;
    message.event.bundle = JSON.stringify(bundle);
    const job = jobOf(parseListenMessage(message, opts));
    if (job.origin.kind !== 'playbook') throw new Error('playbook origin expected');
    expect(job.origin.bundle).toEqual(bundle);
  });

  it('rejects a playbook reference without its step ids: there is no way to answer it', () => {
    const message = fixture('playbook-6.9-hostname.json');
    delete message.internal.playbook.step_id;
    const rejection = rejectedOf(parseListenMessage(message, opts));
    expect(rejection.reason).toBe('malformed-message');
    expect(rejection.detail).toMatch(/internal\.playbook\.step_id/);
  });
});

describe('parseListenMessage: messages that can never be processed', () => {
  it.each([
    ['not JSON', '{"internal": ', /the body is not valid JSON/],
    ['an array', '[1, 2]', /not an OpenCTI listen message/],
    ['no internal', { event: { entity_id: 'x' } }, /internal: /],
    ['neither work nor playbook', { internal: { work_id: null }, event: {} }, /neither internal.work_id nor/],
    ['a numeric work id', { internal: { work_id: 42 }, event: {} }, /internal.work_id/],
  ])('rejects %s with a clear reason', (_label, body, detail) => {
    const rejection = rejectedOf(parseListenMessage(body, opts));
    expect(rejection.reason).toBe('malformed-message');
    expect(rejection.detail).toMatch(detail);
  });
});

describe('job ids of listen messages', () => {
  it('gives a message delivered twice the same id', () => {
    const first = jobOf(parseListenMessage(fixture('listen-manual-ipv4.json'), opts));
    const again = jobOf(
      parseListenMessage(JSON.stringify(fixture('listen-manual-ipv4.json')), {
        ...opts,
        now: new Date('2026-02-10T10:07:30.000Z'),
      }),
    );
    expect(again.jobId).toBe(first.jobId);
    expect(first.jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives different works, executions and steps different ids', () => {
    const base = jobOf(parseListenMessage(fixture('listen-manual-ipv4.json'), opts)).jobId;
    const otherWork = fixture('listen-manual-ipv4.json');
    otherWork.internal.work_id = 'work_6f6c3b9a-1e2d-4c5b-8a7f-0e9d8c7b6a51_2026-02-10T11:00:00.000Z';
    expect(jobOf(parseListenMessage(otherWork, opts)).jobId).not.toBe(base);

    const step = jobOf(parseListenMessage(fixture('playbook-6.9-hostname.json'), opts)).jobId;
    const otherStep = fixture('playbook-6.9-hostname.json');
    otherStep.internal.playbook.step_id = '0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a';
    const otherExecution = fixture('playbook-6.9-hostname.json');
    otherExecution.internal.playbook.execution_id = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    const ids = new Set([
      step,
      jobOf(parseListenMessage(otherStep, opts)).jobId,
      jobOf(parseListenMessage(otherExecution, opts)).jobId,
    ]);
    expect(ids.size).toBe(3);
  });

  it('gives an answer-only job a stable id too', () => {
    const first = answerOnly(parseListenMessage(fixture('playbook-6.9-text.json'), opts)).job.jobId;
    const again = answerOnly(parseListenMessage(fixture('playbook-6.9-text.json'), opts)).job.jobId;
    expect(again).toBe(first);
  });
});
