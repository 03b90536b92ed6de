/**
 * Fault injection at the edges of the product's promises, on the local runtime pieces (ingest over
 * loopback, the SQLite queue and ledger, the enrich handler, both stand-ins, a manual clock):
 *
 * - works: a webhook job's work is opened once, reused by every delivery and closed exactly once,
 *   whatever fails in between (WorkToProcessed answering 5xx for a stretch, the ledger refusing to
 *   record the work);
 * - finished jobs never reach the dead-letter queue: a duplicate that finished the job while the
 *   original ran out of deliveries during an OpenCTI outage, a consumer killed after finishing a
 *   job on its last delivery; and a redrive of a finished job is a no-op;
 * - playbook steps: playbookStepExecution failing (5xx, INTERNAL_SERVER_ERROR, timeouts) is retried
 *   in place within the delivery's budget; beyond it, the next delivery re-sends the answer it
 *   kept, with no new Criminal IP call;
 * - a kill between a push and its ledger mark repeats that push once, and only once.
 *
 * Each case asserts its figures; the last test prints and asserts the totals.
 */
import { METRIC } from '../../lib/core/metrics';
import { stixEntityOf } from '../../lib/local/demo-messages';
import { listenMessage } from '../../lib/local/demo-messages';
import type { StandInWork } from '../../lib/standins/opencti';
import { drain } from './support/driver';
import { CONNECTOR_ID, startWorld, type World, type WorldOptions } from './support/world';

const figures = {
  worksOpened: 0,
  worksClosedOnce: 0,
  worksLeftOpen: 0,
  emptyWorks: 0,
  worksClosedWithError: 0,
  finishedDeadLettered: 0,
  finishedDeadLetteredWithoutEarlyAck: 0,
  duplicatesAcknowledged: 0,
  redriveRequests: 0,
  redriveCalls: 0,
  stepsAsked: 0,
  stepsAnswered: 0,
  stepsAnsweredTwice: 0,
  answerRetries: 0,
  answersResent: 0,
  resendCalls: 0,
  killedPushes: 0,
  repeatedPushes: 0,
  jobsAccepted: 0,
  jobsLost: 0,
};

const worlds: World[] = [];
async function world(options: WorldOptions): Promise<World> {
  const w = await startWorld({ octiMaxRetries: 2, ...options });
  worlds.push(w);
  return w;
}

afterAll(async () => {
  await Promise.all(worlds.map((w) => w.close()));
});

const elapsedMs = (w: World, from: number) => w.clock.now().getTime() - from;

function webhook(values: string[], requestId: string): string {
  return JSON.stringify({
    observables: values.map((value) => ({ type: 'ipv4-addr', value })),
    source: 'edges-suite',
    request_id: requestId,
  });
}

function playbookStep(w: World, index: number, value: string): string {
  const entity = stixEntityOf({ type: 'ipv4-addr', value, createdAt: w.clock.now() });
  return JSON.stringify({
    internal: {
      work_id: null,
      playbook: {
        event_id: `event-${index}`,
        execution_id: `execution-${index}`,
        playbook_id: 'playbook-enrich',
        data_instance_id: entity.id,
        step_id: 'step-criminalip',
        previous_step_id: 'step-trigger',
      },
      applicant_id: 'automation-user',
      mode: 'auto',
      trigger: 'create',
    },
    event: {
      entity_id: entity.id,
      bundle: {
        type: 'bundle',
        id: `bundle--${String(index).padStart(8, '0')}-0000-4000-8000-000000000000`,
        objects: [entity],
      },
    },
  });
}

async function post(w: World, route: '/webhook' | '/opencti/callback', body: string): Promise<void> {
  const answer = await w.post(route, body);
  expect(answer.status).toBe(202);
}

/** The works the product opened itself (webhook, CLI, sweep jobs). */
function productWorks(w: World): StandInWork[] {
  return [...w.octi.works().values()].filter((work) => work.name.startsWith('Criminal IP enrichment ('));
}

/** Successful WorkToProcessed calls per work id. */
function closings(w: World): Map<string, number> {
  const count = new Map<string, number>();
  for (const r of w.octi.requests) {
    if (r.operationName !== 'WorkToProcessed' || r.outcome !== 'ok') continue;
    const id = String(r.variables.id);
    count.set(id, (count.get(id) ?? 0) + 1);
  }
  return count;
}

/** Adds a world's works to the figures; returns them. */
function countWorks(w: World): StandInWork[] {
  const works = productWorks(w);
  const closed = closings(w);
  for (const work of works) {
    figures.worksOpened += 1;
    if (work.status !== 'complete') figures.worksLeftOpen += 1;
    if (closed.get(work.id) === 1) figures.worksClosedOnce += 1;
    if (work.bundles === 0 && !work.inError) figures.emptyWorks += 1;
    if (work.inError) figures.worksClosedWithError += 1;
  }
  return works;
}

function deadJobIds(w: World): string[] {
  return w.consumers[0]!.queue.deadLetters(1000).map((letter) => {
    const envelope = JSON.parse(letter.body) as { job?: { jobId?: string } };
    return String(envelope.job?.jobId);
  });
}

/** Accepted jobs neither finished (marked in the ledger) nor dead-lettered; finished ones dead-lettered. */
async function countJobs(w: World): Promise<{ lost: string[]; finishedDead: string[] }> {
  const dead = new Set(deadJobIds(w));
  const ledger = w.consumers[0]!.ledger;
  const lost: string[] = [];
  const finishedDead: string[] = [];
  for (const jobId of w.trace.accepted.keys()) {
    const done = await ledger.isDone(jobId);
    if (!done && !dead.has(jobId)) lost.push(jobId);
    if (done && dead.has(jobId)) finishedDead.push(jobId);
  }
  figures.jobsAccepted += w.trace.accepted.size;
  figures.jobsLost += lost.length;
  return { lost, finishedDead };
}

describe('works opened by the product', () => {
  it('webhook of 4 IPs, WorkToProcessed failing for a stretch: 4 works, each closed once with its bundle, no empty work', async () => {
    const w = await world({ seed: 1401 });
    await post(
      w,
      '/webhook',
      webhook(['23.45.67.89', '45.67.89.101', '64.62.197.76', '89.101.112.13'], 'r1'),
    );
    const from = w.clock.now().getTime();
    w.octi.setFaults({ http5xx: 1, operations: ['WorkToProcessed'] });
    await drain(w, {
      beforeBatch() {
        // OpenCTI's WorkToProcessed fails for the first 30 virtual seconds (every first delivery).
        if (elapsedMs(w, from) >= 30_000) w.octi.setFaults({});
      },
    });

    const works = countWorks(w);
    const closed = closings(w);
    const failedDeliveries = w.trace.deliveries.filter((d) => d.outcome === 'error').length;
    expect(failedDeliveries).toBe(4); // the stretch did fail each first delivery after its push
    expect(works).toHaveLength(4);
    for (const work of works) {
      expect(work).toMatchObject({ status: 'complete', bundles: 1, inError: false });
      expect(closed.get(work.id)).toBe(1);
    }
    expect(w.octi.pushes()).toHaveLength(4);
    const jobs = await countJobs(w);
    expect(jobs.lost).toEqual([]);
    expect(deadJobIds(w)).toEqual([]);
  });

  it('a work the ledger failed to record is closed with the error; the next delivery opens one and closes it once', async () => {
    let refusals = 1;
    const w = await world({
      seed: 1402,
      beforeLedgerWrite(method) {
        if (method === 'putJobWork' && refusals > 0) {
          refusals -= 1;
          throw new Error('ledger unavailable (injected)');
        }
      },
    });
    await post(w, '/webhook', webhook(['104.16.1.2'], 'r2'));
    await drain(w);

    const works = countWorks(w);
    expect(works).toHaveLength(2);
    const [interrupted, written] = works;
    expect(interrupted).toMatchObject({ status: 'complete', inError: true, bundles: 0 });
    expect(interrupted!.messages.join(' ')).toContain('ledger unavailable (injected)');
    expect(written).toMatchObject({ status: 'complete', inError: false, bundles: 1 });
    expect([...closings(w).values()]).toEqual([1, 1]);
    expect((await countJobs(w)).lost).toEqual([]);
  });
});

describe('finished jobs and the dead-letter queue', () => {
  it('a duplicate finishes the job during the original deliveries: the original is acknowledged on its last delivery', async () => {
    const w = await world({ seed: 1403 });
    const body = webhook(['151.101.1.69'], 'r3');
    await post(w, '/webhook', body);
    const from = w.clock.now().getTime();
    w.octi.setFaults({ http5xx: 1 });
    // Two deliveries of the original fail during the outage (the third would come at +120 s).
    await drain(w, { untilMs: from + 90_000 });
    expect(w.trace.deliveries.filter((d) => d.outcome === 'error')).toHaveLength(2);
    // The platform sends the same notification again; OpenCTI recovers: the copy finishes the job.
    await post(w, '/webhook', body);
    w.octi.setFaults({});
    await drain(w);

    const jobId = [...w.trace.accepted.keys()][0]!;
    const lines = w.trace.deliveries.filter((d) => d.jobId === jobId);
    const last = lines[lines.length - 1]!;
    expect(last).toMatchObject({ attempt: 3, outcome: 'skipped', reason: 'duplicate-delivery' });
    const duplicates = w.trace.metrics.filter((m) => m.name === METRIC.duplicateDeliveries).length;
    expect(duplicates).toBe(1);
    figures.duplicatesAcknowledged += duplicates;
    const { finishedDead, lost } = await countJobs(w);
    expect(finishedDead).toEqual([]);
    expect(lost).toEqual([]);
    expect(deadJobIds(w)).toEqual([]);
    figures.finishedDeadLettered += finishedDead.length;
    const works = countWorks(w);
    expect(works).toHaveLength(1);
    expect(w.octi.pushes()).toHaveLength(1);
  });

  /** The job fails twice at the push, then the consumer dies right after finishing it on its last delivery. */
  async function killedOnLastDelivery(earlyAck: boolean, seed: number) {
    const w = await world({ seed, earlyAck });
    await post(w, '/webhook', webhook(['179.61.228.2'], `r4-${seed}`));
    const from = w.clock.now().getTime();
    w.octi.setFaults({ http5xx: 1, operations: ['StixBundlePush'] });
    let killed = false;
    await drain(w, {
      beforeBatch() {
        if (!killed && elapsedMs(w, from) >= 120_000) {
          killed = true;
          w.octi.setFaults({});
          w.consumers[0]!.kill();
        }
      },
    });
    expect(w.trace.crashes).toBe(1);
    return w;
  }

  it('a consumer killed after finishing a job on its last delivery: the job is not dead-lettered', async () => {
    const w = await killedOnLastDelivery(true, 1404);
    const { finishedDead, lost } = await countJobs(w);
    expect(finishedDead).toEqual([]);
    expect(lost).toEqual([]);
    expect(deadJobIds(w)).toEqual([]);
    figures.finishedDeadLettered += finishedDead.length;
    expect(countWorks(w)).toMatchObject([{ status: 'complete', bundles: 1 }]);
  });

  it('without the early acknowledgement the same run dead-letters the finished job, and its redrive is a no-op', async () => {
    const w = await killedOnLastDelivery(false, 1405);
    const before = await countJobs(w);
    expect(before.finishedDead).toHaveLength(1);
    figures.finishedDeadLetteredWithoutEarlyAck += before.finishedDead.length;
    figures.jobsAccepted -= w.trace.accepted.size; // counted again below

    const octiRequests = w.octi.requests.length;
    const cipCalls = w.cip.stats().calls;
    expect(w.consumers[0]!.queue.redrive()).toBe(1);
    await drain(w);
    figures.redriveRequests += w.octi.requests.length - octiRequests;
    figures.redriveCalls += w.cip.stats().calls - cipCalls;
    expect(w.octi.requests.length).toBe(octiRequests);
    expect(w.cip.stats().calls).toBe(cipCalls);
    const last = w.trace.deliveries[w.trace.deliveries.length - 1]!;
    expect(last).toMatchObject({ attempt: 1, outcome: 'skipped', reason: 'duplicate-delivery' });
    expect(w.consumers[0]!.queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    const after = await countJobs(w);
    expect(after.lost).toEqual([]);
    expect(countWorks(w)).toMatchObject([{ status: 'complete', bundles: 1 }]);
  });
});

describe('playbook steps', () => {
  function answersFor(w: World, executionId: string) {
    return w.octi.playbookAnswers().filter((a) => a.answer.executionId === executionId);
  }
  function countSteps(w: World, executions: string[]) {
    for (const executionId of executions) {
      figures.stepsAsked += 1;
      const n = answersFor(w, executionId).length;
      if (n >= 1) figures.stepsAnswered += 1;
      if (n > 1) figures.stepsAnsweredTwice += 1;
    }
    const retries = w.trace.metrics.filter((m) => m.name === METRIC.playbookAnswerRetries).length;
    figures.answerRetries += retries;
    return retries;
  }

  it.each([
    ['HTTP 5xx', { http5xx: 1, limit: 3 }],
    [
      'GraphQL INTERNAL_SERVER_ERROR',
      { graphqlError: 1, graphqlErrorCode: 'INTERNAL_SERVER_ERROR', limit: 3 },
    ],
    ['timeouts', { hang: 1, limit: 2 }],
  ])(
    'playbookStepExecution failing with %s is retried in place: answered on the first delivery',
    async (_, plan) => {
      const w = await world({ seed: 1406 });
      await post(w, '/opencti/callback', playbookStep(w, 1, '185.220.101.4'));
      w.octi.setFaults({ ...plan, operations: ['PlaybookStepExecution'] });
      await drain(w);

      const faults = w.octi.requests.filter((r) => r.outcome.startsWith('fault-')).length;
      expect(faults).toBe(plan.limit);
      expect(w.trace.deliveries.map((d) => d.outcome)).toEqual(['written']);
      expect(answersFor(w, 'execution-1')).toHaveLength(1);
      expect(answersFor(w, 'execution-1')[0]!.bundle.objects.length).toBeGreaterThan(1);
      expect(countSteps(w, ['execution-1'])).toBe(plan.limit);
      expect((await countJobs(w)).lost).toEqual([]);
    },
  );

  it('beyond one delivery budget, the next delivery re-sends the kept answer without a new Criminal IP call', async () => {
    const w = await world({ seed: 1407 });
    await post(w, '/opencti/callback', playbookStep(w, 2, '45.133.1.20'));
    // More failures than one delivery's budget (the visibility timeout, 60 s) has room for.
    w.octi.setFaults({ http5xx: 1, operations: ['PlaybookStepExecution'], limit: 14 });
    let callsAfterFirst: number | undefined;
    await drain(w, {
      beforeBatch() {
        if (callsAfterFirst === undefined && w.trace.deliveries.length === 1) {
          callsAfterFirst = w.cip.stats().calls;
        }
      },
    });

    expect(w.trace.deliveries.map((d) => d.outcome)).toEqual(['error', 'written']);
    const attempts = w.octi.requests.filter((r) => r.operationName === 'PlaybookStepExecution');
    expect(attempts.length).toBe(15);
    // One delivery did not have room for all of them: both deliveries retried in place.
    expect(attempts.filter((r) => r.outcome === 'ok')).toHaveLength(1);
    // The answer re-sent is the one the first delivery built, byte for byte.
    expect(new Set(attempts.map((r) => r.variables.bundle)).size).toBe(1);
    expect(new Set(attempts.map((r) => r.variables.execution_start)).size).toBe(1);
    // No new Criminal IP call, no new lookup for the second delivery.
    expect(callsAfterFirst).toBeGreaterThan(0);
    expect(w.cip.stats().calls).toBe(callsAfterFirst);
    expect(w.trace.lookups).toHaveLength(1);
    figures.answersResent += 1;
    figures.resendCalls += w.cip.stats().calls - callsAfterFirst!;
    expect(answersFor(w, 'execution-2')).toHaveLength(1);
    countSteps(w, ['execution-2']);
    expect((await countJobs(w)).lost).toEqual([]);
  });
});

describe('a kill between a push and its ledger mark', () => {
  it('repeats the push once, with the same ids, and never again', async () => {
    const w: World = await world({
      seed: 1408,
      beforeLedgerWrite(method, key) {
        if (method !== 'markDone' || !key.endsWith('#pushed') || killedJobs.has(key)) return;
        killedJobs.add(key);
        w.consumers[0]!.kill();
        // The process dies here: nothing after this line of the delivery happens.
        throw new Error('SIGKILL');
      },
    });
    const killedJobs = new Set<string>();
    const workId = w.octi.createWork(CONNECTOR_ID, 'Enrichment (89.248.165.10)');
    await post(
      w,
      '/opencti/callback',
      JSON.stringify(
        listenMessage({
          workId,
          type: 'ipv4-addr',
          value: '89.248.165.10',
          mode: 'manual',
          trigger: 'update',
          createdAt: w.clock.now(),
        }),
      ),
    );
    await post(w, '/webhook', webhook(['104.21.3.4'], 'r5'));
    await drain(w);
    // The platform sends the webhook once more after everything settled: still no new push.
    await post(w, '/webhook', webhook(['104.21.3.4'], 'r5'));
    await drain(w);

    expect(killedJobs.size).toBe(2);
    figures.killedPushes += killedJobs.size;
    const byWork = new Map<string, string[][]>();
    for (const push of w.octi.pushes()) {
      const ids = push.bundle.objects.map((o) => o.id).sort();
      byWork.set(push.workId!, [...(byWork.get(push.workId!) ?? []), ids]);
    }
    expect(byWork.size).toBe(2);
    for (const pushes of byWork.values()) {
      expect(pushes).toHaveLength(2); // the push, and its one repeat
      expect(pushes[1]).toEqual(pushes[0]); // the same objects: an upsert, not new ones
      figures.repeatedPushes += pushes.length - 1;
    }
    const listenWork = w.octi.works().get(workId)!;
    expect(listenWork).toMatchObject({ status: 'complete', bundles: 2, inError: false });
    expect(closings(w).get(workId)).toBe(1);
    expect(countWorks(w)).toMatchObject([{ status: 'complete', bundles: 2 }]);
    expect((await countJobs(w)).lost).toEqual([]);
  });
});

it('prints and asserts the figures', () => {
  console.log(
    [
      'Reliability at the edges:',
      `  works opened by the product ${figures.worksOpened}: closed once ${figures.worksClosedOnce}, left open ${figures.worksLeftOpen}, empty ${figures.emptyWorks}, closed with the error of a failed ledger write ${figures.worksClosedWithError}`,
      `  finished jobs dead-lettered ${figures.finishedDeadLettered} (without the early acknowledgement: ${figures.finishedDeadLetteredWithoutEarlyAck}; its redrive: ${figures.redriveRequests} OpenCTI requests, ${figures.redriveCalls} Criminal IP calls); duplicate deliveries acknowledged ${figures.duplicatesAcknowledged}`,
      `  playbook steps ${figures.stepsAsked}: answered ${figures.stepsAnswered}, unanswered ${figures.stepsAsked - figures.stepsAnswered}, answered twice ${figures.stepsAnsweredTwice}; in-place retries ${figures.answerRetries}; answers re-sent by a later delivery ${figures.answersResent} (new Criminal IP calls ${figures.resendCalls})`,
      `  kills between a push and its mark ${figures.killedPushes}: pushes repeated ${figures.repeatedPushes}`,
      `  jobs accepted ${figures.jobsAccepted}, lost ${figures.jobsLost}`,
    ].join('\n'),
  );
  expect(figures.worksOpened).toBe(10);
  expect(figures.worksClosedOnce).toBe(figures.worksOpened);
  expect(figures.worksLeftOpen).toBe(0);
  expect(figures.emptyWorks).toBe(0);
  expect(figures.finishedDeadLettered).toBe(0);
  expect(figures.finishedDeadLetteredWithoutEarlyAck).toBe(1);
  expect(figures.redriveRequests + figures.redriveCalls).toBe(0);
  expect(figures.stepsAsked).toBe(4);
  expect(figures.stepsAnswered).toBe(figures.stepsAsked);
  expect(figures.stepsAnsweredTwice).toBe(0);
  expect(figures.resendCalls).toBe(0);
  expect(figures.repeatedPushes).toBe(figures.killedPushes);
  expect(figures.jobsLost).toBe(0);
  expect(figures.jobsAccepted).toBeGreaterThanOrEqual(9);
});
