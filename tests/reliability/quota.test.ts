/**
 * Credits run out ("limit exceeded"): the product stops calling Criminal IP at once, with a pause
 * kept in the ledger that both consumers read; jobs wait in the queue (never the dead-letter
 * queue); QuotaExhausted is counted once; calls resume when the pause ends, or earlier when the
 * account endpoint shows credits again (checkQuota, run from the schedule).
 */
import { CriminalIpApi, CriminalIpClient, Semaphore, ServerError } from '../../lib/criminalip';
import { listenMessage } from '../../lib/local/demo-messages';
import { LocalLedger } from '../../lib/local/ledger';
import { checkQuota, QuotaCircuit, QuotaPausedError, type QuotaCheckDeps } from '../../lib/pipeline/quota';
import { silentLog } from '../../lib/core/log';
import { ManualClock } from '../helpers/manual-clock';
import { drain } from './support/driver';
import { CONNECTOR_ID, startWorld, type World } from './support/world';

const JOBS = 24;
const CREDITS = 5;
const PAUSE_SECONDS = 3600;

let world: World;

/** One manual enrichment per distinct IP, as OpenCTI sends them; returns the work ids. */
async function postJobs(): Promise<string[]> {
  const works: string[] = [];
  for (let i = 0; i < JOBS; i += 1) {
    const value = `89.160.${i}.${10 + i}`;
    const workId = world.octi.createWork(CONNECTOR_ID, `Enrichment (${value})`);
    const body = listenMessage({
      workId,
      type: 'ipv4-addr',
      value,
      mode: 'manual',
      createdAt: world.clock.now(),
    });
    expect((await world.post('/opencti/callback', JSON.stringify(body))).status).toBe(202);
    works.push(workId);
  }
  return works;
}

const ipReports = () => world.cip.calls.filter((c) => c.endpoint === 'ip-report');
const refused = () => ipReports().filter((c) => c.outcome === 'quota-exhausted').length;
const metric = (name: string) =>
  world.trace.metrics.filter((m) => m.name === name).reduce((n, m) => n + m.value, 0);
const completeWorks = (works: string[]) =>
  works.filter((id) => world.octi.works().get(id)?.status === 'complete').length;

/** The account check the schedule runs, on a client of its own (not gated by the pause). */
function quotaDeps(): QuotaCheckDeps {
  const client = new CriminalIpClient(
    { ...world.config.criminalIp },
    { limiter: new Semaphore(1), sleep: async () => {} },
  );
  const api = new CriminalIpApi(client);
  return {
    account: () => api.account(),
    ledger: world.consumers[1]!.ledger,
    clock: world.clock,
    log: silentLog,
    metrics: { count: (name, value = 1) => world.trace.metrics.push({ name, value, dimensions: {} }) },
  };
}

/** Runs the first pass: credits run out after CREDITS jobs; the rest must wait. */
async function exhaust(works: string[]) {
  const start = world.clock.now().getTime();
  await drain(world, { untilMs: start + 60_000 });
  const okCalls = ipReports().filter((c) => c.outcome === 'ok').length;
  expect(okCalls).toBe(CREDITS);
  // One refused call told the product; none after it, although jobs were already waiting for
  // their turn to call when it came.
  expect(refused()).toBe(1);
  expect(metric('QuotaExhausted')).toBe(1);
  expect(completeWorks(works)).toBe(CREDITS);
  // Both consumers see the pause: it is in the ledger they share.
  for (const consumer of world.consumers) {
    expect(await consumer.ledger.getQuotaPause()).toBe(start + PAUSE_SECONDS * 1000);
  }
  const queue = world.consumers[0]!.queue.stats();
  expect(queue).toMatchObject({ delayed: JOBS - CREDITS, dead: 0 });
  return start;
}

describe('Criminal IP credits exhausted', () => {
  afterEach(async () => {
    await world.close();
  });

  beforeEach(async () => {
    world = await startWorld({
      consumers: 2,
      cip: { credits: CREDITS },
      env: { CRIMINALIP_QUOTA_PAUSE_SECONDS: String(PAUSE_SECONDS) },
    });
  });

  it('stops at once, keeps the jobs waiting and resumes when the pause ends', async () => {
    const works = await postJobs();
    const start = await exhaust(works);

    // The plan renews, but nobody checks the account: the pause runs its course.
    world.cip.setCredits(1000);
    await drain(world, { untilMs: start + (PAUSE_SECONDS - 60) * 1000 });
    expect(refused()).toBe(1);
    expect(ipReports()).toHaveLength(CREDITS + 1);
    expect(completeWorks(works)).toBe(CREDITS);

    await drain(world);
    const waited = world.trace.deliveries.filter((l) => l.outcome === 'retry-later').length;
    const resumedAt = Math.min(
      ...ipReports()
        .filter((c) => c.outcome === 'ok')
        .slice(CREDITS)
        .map((c) => Date.parse(c.time)),
    );
    console.log(
      `Quota, pause runs out: ${JOBS} jobs, ${CREDITS} credits; ${ipReports().length} Criminal IP calls (${refused()} refused), ` +
        `${waited} waits in the queue, calls resumed ${Math.round((resumedAt - start) / 1000)} virtual s after the pause began (pause ${PAUSE_SECONDS} s), ` +
        `dead-lettered ${world.consumers[0]!.queue.stats().dead}`,
    );
    expect(completeWorks(works)).toBe(JOBS);
    expect(ipReports().filter((c) => c.outcome === 'ok')).toHaveLength(JOBS);
    expect(refused()).toBe(1);
    expect(world.consumers[0]!.queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    // Nothing was sent before the pause ended.
    expect(resumedAt).toBeGreaterThanOrEqual(start + PAUSE_SECONDS * 1000);
    expect(metric('QuotaExhausted')).toBe(1);
  });

  it('resumes as soon as the account endpoint shows credits again', async () => {
    const deps = quotaDeps();
    // No pause: the check costs nothing.
    expect(await checkQuota(deps)).toEqual({ state: 'running' });
    expect(world.cip.calls.filter((c) => c.endpoint === 'user-me')).toHaveLength(0);

    const works = await postJobs();
    const start = await exhaust(works);

    // Still no credits: the pause stays.
    world.clock.advanceBy(120_000);
    expect(await checkQuota(deps)).toMatchObject({ state: 'paused', credits: 0 });
    expect(await world.consumers[0]!.ledger.getQuotaPause()).toBe(start + PAUSE_SECONDS * 1000);

    world.cip.setCredits(1000);
    world.clock.advanceBy(120_000);
    expect(await checkQuota(deps)).toEqual({ state: 'resumed', credits: 1000 });
    expect(await world.consumers[0]!.ledger.getQuotaPause()).toBeUndefined();
    expect(metric('QuotaResumed')).toBe(1);

    const run = await drain(world);
    const finishedAt = world.clock.now().getTime();
    console.log(
      `Quota, account shows credits: ${JOBS} jobs, ${CREDITS} credits; ${ipReports().length} Criminal IP calls (${refused()} refused), ` +
        `${world.cip.calls.filter((c) => c.endpoint === 'user-me').length} account checks, all done ${Math.round((finishedAt - start) / 1000)} virtual s after the pause began (pause ${PAUSE_SECONDS} s), ${run.batches} batches`,
    );
    expect(completeWorks(works)).toBe(JOBS);
    expect(ipReports().filter((c) => c.outcome === 'ok')).toHaveLength(JOBS);
    expect(refused()).toBe(1);
    expect(finishedAt).toBeLessThan(start + PAUSE_SECONDS * 1000);
    expect(world.consumers[0]!.queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    // The account answer echoes the key; the check keeps it out of what it returns and logs.
    expect(JSON.stringify(world.trace.logs)).not.toContain(world.cip.apiKey);
  });
});

describe('QuotaCircuit at the call site', () => {
  it('records the pause before the refused call gives its slot back, and refuses calls while it lasts', async () => {
    const clock = new ManualClock();
    const ledger = new LocalLedger({ location: ':memory:', clock });
    const counted: string[] = [];
    const circuit = new QuotaCircuit({
      ledger,
      pauseSeconds: 600,
      clock,
      metrics: { count: (name) => void counted.push(name) },
    });
    let pauseWhenSlotReturned: number | undefined;
    const acquire = circuit.guard(async () => async () => {
      pauseWhenSlotReturned = await ledger.getQuotaPause();
    });

    const release = await acquire();
    circuit.observe({ outcome: 'quota-exhausted' });
    await release();
    expect(pauseWhenSlotReturned).toBe(clock.now().getTime() + 600_000);
    expect(counted).toEqual(['QuotaExhausted']);

    await expect(acquire()).rejects.toBeInstanceOf(QuotaPausedError);
    clock.advanceBy(600_001);
    await (
      await acquire()
    )();
    // An ordinary call does not touch the pause.
    const other = await acquire();
    circuit.observe({ outcome: 'ok' });
    await other();
    expect(await ledger.getQuotaPause()).toBeUndefined();
    ledger.close();
  });

  it('checkQuota says what is wrong when given a guarded client, and keeps the pause when the account cannot be read', async () => {
    const clock = { now: () => new Date('2026-11-20T10:00:00Z') };
    const ledger = new LocalLedger({ location: ':memory:', clock });
    const until = clock.now().getTime() + 60_000;
    await ledger.setQuotaPause(until);
    const deps = { ledger, clock, log: silentLog, metrics: { count() {} } };

    await expect(
      checkQuota({
        ...deps,
        account: () => Promise.reject(new QuotaPausedError(until, clock.now().getTime())),
      }),
    ).rejects.toThrow(/without QuotaCircuit/);
    expect(
      await checkQuota({ ...deps, account: () => Promise.reject(new ServerError({ httpStatus: 503 })) }),
    ).toMatchObject({
      state: 'paused',
      problem: expect.stringContaining('server error'),
    });
    expect(await ledger.getQuotaPause()).toBe(until);
    ledger.close();
  });
});
