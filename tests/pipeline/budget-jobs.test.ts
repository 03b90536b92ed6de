/**
 * The call budget through the pipeline, against both stand-ins over loopback: automatic work
 * stops at the reserve and waits in the queue until the window turns, analysts' requests spend
 * the reserve and are answered at once when it is gone, and two consumers on one ledger file
 * never pass a budget together.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newSweepJob } from '../../lib/jobs/job-id';
import type { EnrichmentJob, Observable } from '../../lib/jobs/types';
import type { JobOutcome } from '../../lib/pipeline/outcome';
import { ManualClock } from '../helpers/manual-clock';
import { expectValidBundle } from '../helpers/stix-validator';
import { enrichmentJob, playbookJob, startHarness, type Harness } from './harness';

/** Public addresses the Criminal IP stand-in answers with its default report, one call each. */
const ip = (n: number): Observable => ({ type: 'ipv4-addr', value: `45.33.${n}.10`, markingRefs: [] });
/** No freshness cache: every job is a lookup. */
const ENV = { CACHE_TTL_HOURS: '0', CRIMINALIP_DAILY_CALL_BUDGET: '5', CRIMINALIP_RESERVED_PERCENT: '40' };
const LATE = Date.parse('2026-12-03T23:50:00.000Z');

let h: Harness;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock(LATE);
  h = await startHarness(ENV, { budgetClock: clock });
});
afterEach(() => h.close());

const auto = (n: number) => enrichmentJob(h, ip(n), { mode: 'auto', trigger: 'create' });
const manual = (n: number) => enrichmentJob(h, ip(n), { mode: 'manual' });

describe('the daily budget (5 calls, 40% reserved)', () => {
  it('stops automatic work at 3 calls, lets analysts spend the other 2, then answers them at once', async () => {
    const autos: JobOutcome[] = [];
    for (let n = 1; n <= 5; n += 1) autos.push(await h.run(auto(n)));
    expect(autos.map((o) => o.kind)).toEqual(['written', 'written', 'written', 'retry-later', 'retry-later']);
    expect(h.cip.stats().calls).toBe(3);
    const waiting = autos[3] as Extract<JobOutcome, { kind: 'retry-later' }>;
    // Ten minutes to midnight: it waits in the queue until the window turns, never the dead-letter queue.
    expect(waiting.delaySeconds).toBe(600);
    expect(waiting.reason).toMatch(/daily budget reached until 2026-12-04T00:00:00.000Z/);
    expect(waiting.calls).toBe(0);

    expect((await h.run(manual(6))).kind).toBe('written');
    expect((await h.run(manual(7))).kind).toBe('written');
    expect(h.cip.stats().calls).toBe(5);

    const refused = manual(8);
    const outcome = await h.run(refused);
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'budget-reached', calls: 0 });
    const workId = refused.origin.kind === 'enrichment' ? refused.origin.workId : '';
    expect(h.octi.works().get(workId)).toMatchObject({ status: 'complete', inError: false });
    expect(h.octi.works().get(workId)?.messages.join('\n')).toMatch(
      /Not enriched: Criminal IP daily budget reached until 2026-12-04T00:00:00.000Z \(5 calls\)/,
    );
    expect(h.cip.stats().calls).toBe(5);
    expect(await h.ledger.readSpend({ month: '2026-12', day: '2026-12-03' })).toEqual({ day: 5, month: 5 });
  });

  it('answers a playbook step over budget with its bundle unchanged, without a call', async () => {
    for (let n = 1; n <= 5; n += 1) await h.run(manual(n));
    const job = playbookJob(ip(9));
    expect(await h.run(job)).toMatchObject({ kind: 'skipped', reason: 'budget-reached' });
    const [answer] = h.octi.playbookAnswers();
    expect(answer?.bundle.objects).toEqual(job.origin.kind === 'playbook' ? job.origin.bundle.objects : []);
    expectValidBundle(answer!.bundle);
    expect(h.cip.stats().calls).toBe(5);
  });

  it('completes the jobs that waited once the window turns', async () => {
    const pending: EnrichmentJob[] = [];
    for (let n = 1; n <= 5; n += 1) {
      const outcome = await h.run(newSweepJob(ip(n), new Date(LATE)));
      if (outcome.kind === 'retry-later') pending.push(outcome.job);
    }
    expect(pending).toHaveLength(2);
    // Delivered again before midnight: still waiting, still no call.
    clock.advance(300);
    const early = await h.run(pending[0]!);
    expect(early).toMatchObject({ kind: 'retry-later', delaySeconds: 300 });
    expect(h.cip.stats().calls).toBe(3);
    // After midnight the same jobs are enriched.
    clock.advance(301);
    const late = await Promise.all(pending.map((job) => h.run(job)));
    expect(late.map((o) => o.kind)).toEqual(['written', 'written']);
    expect(h.cip.stats().calls).toBe(5);
    expect(await h.ledger.readSpend({ month: '2026-12', day: '2026-12-04' })).toEqual({ day: 2, month: 5 });
  });
});

describe('the work message', () => {
  it('says what the enrichment cost, what the windows hold and the credits the last ping read', async () => {
    await h.ledger.putCredits({ credits: 4321, checkedAt: '2026-12-03T23:40:00.000Z' });
    await h.run(auto(1));
    const job = manual(2);
    await h.run(job);
    const workId = job.origin.kind === 'enrichment' ? job.origin.workId : '';
    expect(h.octi.works().get(workId)?.messages.at(-1)).toMatch(
      /\(1 Criminal IP call; today 2 of 5 calls, this month 2 calls; 4321 credits left at 23:40 UTC\)$/,
    );
  });
});

describe('two consumers on one ledger file', () => {
  it('never spend past the budget together', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cip-budget-'));
    const file = path.join(dir, 'ledger.sqlite');
    const env = {
      CACHE_TTL_HOURS: '0',
      CRIMINALIP_DAILY_CALL_BUDGET: '7',
      CRIMINALIP_RESERVED_PERCENT: '20',
    };
    const one = await startHarness(env, { ledgerLocation: file, budgetClock: clock });
    const two = await startHarness(env, { ledgerLocation: file, budgetClock: clock });
    try {
      const jobs = (side: Harness, from: number) =>
        Array.from({ length: 10 }, (_, i) => side.run(newSweepJob(ip(from + i), new Date(LATE))));
      const outcomes = await Promise.all([...jobs(one, 20), ...jobs(two, 40)]);
      // 7 calls less the reserve of ceil(1.4) = 2: five sweep lookups in all, the rest wait.
      expect(one.cip.stats().calls + two.cip.stats().calls).toBe(5);
      expect(outcomes.filter((o) => o.kind === 'written')).toHaveLength(5);
      expect(outcomes.filter((o) => o.kind === 'retry-later')).toHaveLength(15);
      expect(await one.ledger.readSpend({ month: '2026-12', day: '2026-12-03' })).toEqual({
        day: 5,
        month: 5,
      });
    } finally {
      await one.close();
      await two.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
