/**
 * A key that allows one call at a time, and two consumers side by side (two queue and ledger
 * connections on one SQLite file, two Criminal IP clients): every job completes, and the
 * service's "unable to call api at the same time" stays near zero because the consumers take
 * turns through the call slots in the shared ledger, not by luck. The same run without the slots
 * shows what they prevent.
 */
import { drain } from './support/driver';
import { startWorld, type World } from './support/world';

const JOBS = 240;

let world: World;

afterEach(async () => {
  await world?.close();
});

/** JOBS distinct public IPv4 addresses, plus a handful of domains, in webhook requests of 10. */
async function postJobs(): Promise<void> {
  const values: Array<{ type: string; value: string }> = [];
  for (let i = 0; i < JOBS - 6; i += 1)
    values.push({ type: 'ipv4-addr', value: `45.${10 + (i % 200)}.${i}.9` });
  for (let i = 0; i < 6; i += 1) values.push({ type: 'domain-name', value: `partner-${i}.com` });
  for (let i = 0; i < values.length; i += 10) {
    const body = { observables: values.slice(i, i + 10), source: 'concurrency-suite', request_id: `r-${i}` };
    expect((await world.post('/webhook', JSON.stringify(body))).status).toBe(202);
  }
}

async function run(callSlots: boolean) {
  world = await startWorld({
    consumers: 2,
    callSlots,
    // Every call takes a few milliseconds, so two consumers calling freely would overlap.
    cip: { concurrency: 1, latencyMs: { min: 2, max: 6 } },
  });
  await postJobs();
  const report = await drain(world);
  const stats = world.cip.stats();
  const rejections = stats.byOutcome['concurrency-rejected'] ?? 0;
  const clientRetries = world.trace.calls.filter((c) => c.attempt > 0).length;
  const slots = world.consumers.map((c) => c.slots?.stats ?? { acquired: 0, waited: 0, busy: 0 });
  const finished = [...world.trace.accepted.keys()].filter((id) => (world.trace.marks.get(id) ?? 0) === 1);
  const perConsumer = world.consumers.map(
    (c) => world.trace.deliveries.filter((l) => l.consumer === c.id && l.outcome === 'written').length,
  );
  console.log(
    `One call at a time, two consumers, call slots ${callSlots ? 'on' : 'off'}: ${world.trace.accepted.size} jobs, ` +
      `${finished.length} finished (written by consumer: ${perConsumer.join(' / ')}), ` +
      `${stats.calls} Criminal IP calls, ${rejections} rejected as concurrent (${((100 * rejections) / stats.calls).toFixed(1)} %), ` +
      `${clientRetries} client retries, most calls in flight ${stats.maxInFlight}; ` +
      `slot waits ${slots.map((s) => s.waited).join(' / ')}, slot gave up (job re-queued) ${slots.map((s) => s.busy).join(' / ')}; ` +
      `re-queued ${world.trace.requeues}; ${report.batches} batches`,
  );
  return { stats, rejections, finished: finished.length, perConsumer };
}

describe('a key that allows one call at a time', () => {
  it('completes every job with two consumers, with no concurrent call reaching the service', async () => {
    const { stats, rejections, finished, perConsumer } = await run(true);
    expect(world.trace.accepted.size).toBe(JOBS);
    expect(finished).toBe(JOBS);
    expect(world.consumers[0]!.queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    expect(rejections).toBeLessThanOrEqual(Math.floor(stats.calls * 0.01));
    expect(stats.maxInFlight).toBe(1);
    // Both consumers did work: the turns were shared, not one consumer doing everything.
    expect(Math.min(...perConsumer)).toBeGreaterThan(0);
  });

  it('without the call slots, the consumers collide at the service', async () => {
    const { rejections, finished } = await run(false);
    // Collisions are retried, so the jobs still complete, at the price of refused calls.
    expect(finished).toBe(JOBS);
    expect(rejections).toBeGreaterThan(0);
  });
});
