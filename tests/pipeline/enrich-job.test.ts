import type { EnrichmentJob } from '../../lib/jobs/types';
import { tlpMarking, type RecordedPlaybookAnswer } from '../../lib/standins/opencti';
import { tlpMarkingId } from '../../lib/stix';
import { ID_RULES_6_9, ID_RULES_7_LATEST, softwareIdFor } from '../../lib/stix/id-rules';
import { softwareId } from '../../lib/stix/ids';
import { expectValidBundle } from '../helpers/stix-validator';
import { CONNECTOR_ID, enrichmentJob, playbookJob, startHarness, type Harness } from './harness';

const SERVICES_IP = '64.62.197.76';
const RED = tlpMarkingId('TLP:RED');
const AMBER = tlpMarkingId('TLP:AMBER');
const AMBER_STRICT = tlpMarkingId('TLP:AMBER+STRICT');

describe('enrichJob: listen-message enrichment', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('moves the work to received, pushes a valid bundle into it and closes it', async () => {
    const job = enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [AMBER] });
    const outcome = await h.run(job);

    expect(outcome).toMatchObject({ kind: 'written', calls: 1, cached: false });
    const workId = job.origin.kind === 'enrichment' ? job.origin.workId : '';
    const ops = h.octi.requests.map((r) => r.operationName);
    // The job carries no STIX object from OpenCTI: what the observable holds is read first.
    expect(ops).toEqual(['WorkToReceived', 'ObservableState', 'StixBundlePush', 'WorkToProcessed']);
    const [push] = h.octi.pushes();
    expect(push?.workId).toBe(workId);
    expect(push?.connectorId).toBe(CONNECTOR_ID);
    expectValidBundle(push!.bundle);
    const observable = push!.bundle.objects.find((o) => o.type === 'ipv4-addr' && o.value === SERVICES_IP);
    expect(observable?.object_marking_refs).toEqual([AMBER]);
    expect(h.octi.works().get(workId)).toMatchObject({ inError: false });
    expect(h.cip.stats().byEndpoint).toEqual({ 'ip-report': 1 });
  });

  it('serves a second enrichment within the freshness window from the cache, still writing back', async () => {
    await h.run(enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] }));
    const second = await h.run(enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] }));

    expect(second).toMatchObject({ kind: 'written', calls: 0, cached: true });
    expect(h.cip.stats().calls).toBe(1);
    expect(h.octi.pushes()).toHaveLength(2);
  });

  it('treats a duplicate delivery of the same request as done: no call, no second push', async () => {
    const job = enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] });
    await h.run(job);
    const again = await h.run(job, { receiveCount: 2 });

    expect(again).toMatchObject({ kind: 'skipped', reason: 'duplicate-delivery' });
    expect(h.cip.stats().calls).toBe(1);
    expect(h.octi.pushes()).toHaveLength(1);
  });

  it('never sends a TLP:RED observable to Criminal IP and still closes its work', async () => {
    const job = enrichmentJob(h, { type: 'ipv4-addr', value: '8.8.8.8', markingRefs: [RED] });
    const outcome = await h.run(job);

    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'above-max-tlp', calls: 0 });
    expect(h.cip.stats().calls).toBe(0);
    const work = h.octi.works().get(job.origin.kind === 'enrichment' ? job.origin.workId : '');
    expect(work?.status).toBe('complete');
    expect(work?.messages.join(' ')).toMatch(/TLP:RED, above CRIMINALIP_MAX_TLP TLP:AMBER/);
    expect(h.octi.pushes()).toHaveLength(0);
  });

  it('reads the markings from OpenCTI when the message carried none', async () => {
    const observable = {
      type: 'ipv4-addr' as const,
      value: '8.8.8.8',
      stixId: 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
    };
    h.octi.setMarkings(observable.stixId, [tlpMarking('TLP:RED')]);
    const outcome = await h.run(enrichmentJob(h, observable));

    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'above-max-tlp' });
    expect(h.cip.stats().calls).toBe(0);
    expect(h.octi.requests.map((r) => r.operationName)).toContain('EntityMarkings');
  });

  it('refuses an observable type outside CONNECTOR_SCOPE before any call', async () => {
    await h.close();
    h = await startHarness({ CONNECTOR_SCOPE: 'IPv4-Addr' });
    const outcome = await h.run(
      enrichmentJob(h, { type: 'domain-name', value: 'google.com', markingRefs: [] }),
    );

    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'out-of-scope', calls: 0 });
    expect(h.cip.stats().calls).toBe(0);
  });

  it('records a permanent failure (invalid key) on the work, in error, without retrying', async () => {
    await h.close();
    h = await startHarness({ CRIMINALIP_API_KEY: 'a-key-criminal-ip-refuses' });
    const job = enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] });
    const outcome = await h.run(job);

    expect(outcome).toMatchObject({ kind: 'failed', permanent: true });
    expect(h.cip.stats().calls).toBe(1);
    const work = h.octi.works().get(job.origin.kind === 'enrichment' ? job.origin.workId : '');
    expect(work).toMatchObject({ inError: true });
    expect(JSON.stringify(h.octi.requests)).not.toContain('a-key-criminal-ip-refuses');
  });

  it('lets a transient failure throw so that the queue redelivers it', async () => {
    h.cip.setFaults({ rates: { 'server-error': 1 } });
    const job = enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] });
    await expect(h.run(job)).rejects.toThrow(/Criminal IP/);
    // The client retried within the attempt (CRIMINALIP_MAX_RETRIES=2): 3 calls, no more.
    expect(h.cip.stats().calls).toBe(3);
    expect(h.octi.pushes()).toHaveLength(0);
  });

  it('on the last delivery, tells the analyst on the work that the job waits in the dead-letter queue', async () => {
    h.cip.setFaults({ rates: { 'server-error': 1 } });
    const job = enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] });
    await expect(h.run(job, { receiveCount: 5, maxReceiveCount: 5 })).rejects.toThrow();
    const work = h.octi.works().get(job.origin.kind === 'enrichment' ? job.origin.workId : '');
    expect(work?.status).not.toBe('complete');
    expect(work?.messages.join(' ')).toMatch(/dead-letter queue/);
  });

  it('stops every call once credits are exhausted and keeps jobs waiting', async () => {
    h.cip.setCredits(0);
    const first = await h.run(enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] }));
    expect(first).toMatchObject({ kind: 'retry-later' });
    expect(await h.ledger.getQuotaPause()).toBeGreaterThan(Date.now());
    expect(h.metrics).toContainEqual({ name: 'QuotaExhausted', value: 1 });

    const callsSoFar = h.cip.stats().calls;
    const second = await h.run(
      enrichmentJob(h, { type: 'ipv4-addr', value: '179.61.228.2', markingRefs: [] }),
    );
    expect(second).toMatchObject({ kind: 'retry-later', calls: 0 });
    expect(h.cip.stats().calls).toBe(callsSoFar);
  });

  it('ignores an automatic update echo of its own write-back within the freshness window', async () => {
    await h.run(enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] }));
    const echo = await h.run(
      enrichmentJob(
        h,
        { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] },
        { mode: 'auto', trigger: 'update' },
      ),
    );
    expect(echo).toMatchObject({ kind: 'skipped', reason: 'fresh', calls: 0 });
    expect(h.octi.pushes()).toHaveLength(1);
  });
});

describe('enrichJob: domains and URLs', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('reuses a recent scan: three calls (quick verdict, listing, report), no new scan', async () => {
    const outcome = await h.run(
      enrichmentJob(h, { type: 'domain-name', value: 'google.com', markingRefs: [] }),
    );
    // The quick verdict, the listing of past scans, the report.
    expect(outcome).toMatchObject({ kind: 'written', calls: 3 });
    expect(h.cip.stats().scansStarted.full).toBe(0);
    expectValidBundle(h.octi.bundles()[0]!);
  });

  it('waits for a new scan in the queue, not in the process, and resumes where it left off', async () => {
    const url = 'http://account-verify-paypal.com.secure-signin.xyz/login.php';
    let job = enrichmentJob(h, { type: 'url', value: url, markingRefs: [] });
    let outcome = await h.run(job);
    let hops = 0;
    while (outcome.kind === 'retry-later' && hops < 10) {
      expect(outcome.job.scan?.scanId).toBeTruthy();
      expect(outcome.delaySeconds).toBeGreaterThan(0);
      job = outcome.job;
      hops += 1;
      outcome = await h.run(job);
    }
    expect(hops).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ kind: 'written' });
    expect(h.cip.stats().scansStarted.full).toBe(1);
    const bundle = h.octi.bundles()[0]!;
    expectValidBundle(bundle);
    expect(bundle.objects.some((o) => o.type === 'indicator')).toBe(true);
  });
});

const BUNDLE_UUID4 = /^bundle--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The step's objects as they came, in a bundle with a fresh id (the platform's may be a bare uuid). */
function expectUnchangedAnswer(answer: RecordedPlaybookAnswer | undefined, job: EnrichmentJob) {
  if (job.origin.kind !== 'playbook') throw new Error('playbook job expected');
  expect(answer?.bundle.objects).toEqual(job.origin.bundle.objects);
  expect(answer?.bundle.id).toMatch(BUNDLE_UUID4);
  expect(answer?.previousBundle).toEqual(job.origin.bundle);
}

describe('enrichJob: playbook steps', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('answers with the step bundle plus the enrichment', async () => {
    const job = playbookJob({ type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] });
    const outcome = await h.run(job);

    expect(outcome).toMatchObject({ kind: 'written' });
    const [answer] = h.octi.playbookAnswers();
    expect(answer?.answer).toMatchObject({
      stepId: 'step-enrich',
      previousStepId: 'step-listen',
      playbookId: 'playbook-1',
    });
    expect(answer?.bundle.objects.length).toBeGreaterThan(1);
    expect(answer?.bundle.objects.map((o) => o.id)).toContain(job.observable.stixId);
    // A valid STIX 2.1 bundle of its own, whatever id the platform gave the step's bundle.
    expect(answer?.bundle.id).toMatch(BUNDLE_UUID4);
    expect(answer?.bundle.id).not.toBe(job.origin.kind === 'playbook' ? job.origin.bundle.id : undefined);
    expectValidBundle(answer!.bundle);
    expect(answer?.previousBundle).toEqual(job.origin.kind === 'playbook' ? job.origin.bundle : undefined);
    expect(h.octi.requests.map((r) => r.operationName)).toEqual(['PlaybookStepExecution']);
  });

  it.each([
    ['above max TLP', { markingRefs: [RED] }, {}],
    ['out of scope', { markingRefs: [] }, { CONNECTOR_SCOPE: 'Url' }],
    ['AMBER+STRICT above max AMBER', { markingRefs: [AMBER_STRICT] }, {}],
  ])('answers with the original bundle unchanged when %s', async (_name, extra, env) => {
    await h.close();
    h = await startHarness(env);
    const job = playbookJob({ type: 'ipv4-addr', value: SERVICES_IP, ...extra });
    await h.run(job);
    const [answer] = h.octi.playbookAnswers();
    expectUnchangedAnswer(answer, job);
    expect(h.cip.stats().calls).toBe(0);
  });

  it('lets AMBER+STRICT through when the maximum is AMBER+STRICT', async () => {
    await h.close();
    h = await startHarness({ CRIMINALIP_MAX_TLP: 'TLP:AMBER+STRICT' });
    const outcome = await h.run(
      playbookJob({ type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [AMBER_STRICT] }),
    );
    expect(outcome).toMatchObject({ kind: 'written', calls: 1 });
  });

  it('answers with the original bundle when the observable is unknown to Criminal IP or enrichment failed', async () => {
    h.cip.setFaults({ rates: { 'server-error': 1 } });
    const job = playbookJob({ type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] });
    await expect(h.run(job, { receiveCount: 1, maxReceiveCount: 3 })).rejects.toThrow();
    expect(h.octi.playbookAnswers()).toHaveLength(0);

    const last = await h.run(job, { receiveCount: 3, maxReceiveCount: 3 });
    expect(last).toMatchObject({ kind: 'failed' });
    const [answer] = h.octi.playbookAnswers();
    expectUnchangedAnswer(answer, job);
  });

  it('answers an unprocessable request at once with the original bundle', async () => {
    const job = {
      ...playbookJob({
        type: 'ipv4-addr',
        value: '',
        stixId: 'malware--92ddf766-b27c-5159-8f46-27002bba2f04',
        markingRefs: [],
      }),
      unprocessable: { reason: 'Malware is not an observable this connector enriches' },
    };
    const outcome = await h.run(job);
    expect(outcome).toMatchObject({ kind: 'skipped', calls: 0 });
    expect(h.octi.playbookAnswers()).toHaveLength(1);
  });
});

describe('enrichJob: webhook jobs', () => {
  it('creates a work for the push', async () => {
    const h = await startHarness();
    try {
      const outcome = await h.run({
        jobId: 'webhook-1',
        observable: { type: 'ipv4-addr', value: '179.61.228.2', markingRefs: [] },
        origin: { kind: 'webhook', source: 'opencti-playbook' },
        receivedAt: new Date().toISOString(),
      });
      expect(outcome).toMatchObject({ kind: 'written', calls: 1 });
      expect(h.octi.requests.map((r) => r.operationName)).toEqual([
        'ObservableState',
        'WorkAdd',
        'WorkToReceived',
        'StixBundlePush',
        'WorkToProcessed',
      ]);
      const labels = (h.octi.bundles()[0]!.objects.find((o) => o.type === 'ipv4-addr')?.x_opencti_labels ??
        []) as string[];
      expect(labels).toEqual(expect.arrayContaining(['vpn']));
    } finally {
      await h.close();
    }
  });
});

describe('enrichJob: ids of the connected platform', () => {
  let h: Harness;
  afterEach(() => h.close());

  /** Software pushed for SERVICES_IP, as [name, id]. */
  async function pushedSoftware(platform?: '6.9.17' | '7.260309.0-lts.7' | '7.260817.0') {
    h = await startHarness({}, platform ? { octi: { platform } } : {});
    if (platform) {
      // What registration / ping records (schedule-tasks.ts); the enrich function only reads it.
      await h.ledger.putPlatform({ version: platform, checkedAt: new Date().toISOString() });
    }
    await h.run(enrichmentJob(h, { type: 'ipv4-addr', value: SERVICES_IP, markingRefs: [] }));
    const [push] = h.octi.pushes();
    expectValidBundle(push!.bundle);
    return push!.bundle.objects
      .filter((o) => o.type === 'software')
      .map((o) => [o.name as string, o.id, o.version as string | undefined] as const);
  }

  it.each([
    ['no platform', undefined, ID_RULES_6_9],
    ['6.9.17', '6.9.17', ID_RULES_6_9],
    ['7.260309.0-lts.7', '7.260309.0-lts.7', ID_RULES_6_9],
    ['7.260817.0', '7.260817.0', ID_RULES_7_LATEST],
  ] as const)('%s recorded: Software under the ids it computes', async (_name, platform, rules) => {
    const software = await pushedSoftware(platform);
    expect(software.length).toBeGreaterThan(0);
    for (const [name, id, version] of software) {
      expect(id).toBe(softwareIdFor(rules, { name, ...(version ? { version } : {}) }));
    }
    if (rules === ID_RULES_7_LATEST) {
      // The stand-in's services include names that are not lower case: the rules did change ids.
      expect(
        software.some(([name, id, version]) => id !== softwareId({ name, ...(version ? { version } : {}) })),
      ).toBe(true);
    }
  });
});
