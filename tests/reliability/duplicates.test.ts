/**
 * Duplicates cost one Criminal IP lookup within the freshness window: a listen message the
 * OpenCTI worker POSTs again, a notification the webhook notifier sends once per target user, a
 * message the queue delivers twice, and different requests about one observable, all through the
 * ingest routes and two consumers side by side.
 */
import { listenMessage, stixEntityOf } from '../../lib/local/demo-messages';
import type { ObservableStixType } from '../../lib/stix/core';
import { drain } from './support/driver';
import { CONNECTOR_ID, startWorld, type World } from './support/world';

let world: World;

beforeEach(async () => {
  world = await startWorld({ consumers: 2, env: { CACHE_TTL_HOURS: '24' } });
});

afterEach(async () => {
  await world?.close();
});

/** Criminal IP calls whose query or form names `value`. */
const callsFor = (value: string) =>
  world.cip.calls.filter((c) => [...Object.values(c.query), ...Object.values(c.form ?? {})].includes(value));
/** Credit-spending lookups (the report of an IP, the listing and the scan of a domain). */
const lookupsFor = (value: string) =>
  callsFor(value).filter((c) => c.endpoint === 'ip-report' || c.endpoint === 'domain-scan').length;

function listen(type: ObservableStixType, value: string, mode: 'manual' | 'auto' = 'manual') {
  const workId = world.octi.createWork(CONNECTOR_ID, `Enrichment (${value})`);
  const body = JSON.stringify(
    listenMessage({ workId, type, value, mode, trigger: 'create', createdAt: world.clock.now() }),
  );
  return { workId, body };
}

function notification(type: ObservableStixType, value: string, trigger: string): string {
  const entity = stixEntityOf({ type, value, createdAt: new Date('2026-11-19T08:00:00Z') });
  return JSON.stringify({
    notification: { id: trigger, name: trigger, trigger_type: 'live' },
    objects: [entity],
    events: [],
  });
}

async function postTimes(
  route: '/opencti/callback' | '/webhook',
  body: string,
  times: number,
): Promise<void> {
  const answers = await Promise.all(Array.from({ length: times }, () => world.post(route, body)));
  for (const answer of answers) expect(answer.status).toBe(202);
}

describe('duplicates within the freshness window', () => {
  it('a listen message posted three times: one lookup, one push, one closed work', async () => {
    const { workId, body } = listen('ipv4-addr', '151.101.1.69');
    await postTimes('/opencti/callback', body, 3);
    await drain(world);

    expect(lookupsFor('151.101.1.69')).toBe(1);
    expect(world.octi.works().get(workId)).toMatchObject({ status: 'complete', bundles: 1, inError: false });
    expect(world.trace.deliveries.filter((l) => l.reason === 'duplicate-delivery')).toHaveLength(2);
    report('listen message x3');
  });

  it('a notification sent once per target user (5 at once): one lookup, one push', async () => {
    await postTimes('/webhook', notification('ipv4-addr', '185.199.108.153', 'Suspicious IPs'), 5);
    await drain(world);

    expect(lookupsFor('185.199.108.153')).toBe(1);
    expect(world.octi.pushes()).toHaveLength(1);
    expect(world.trace.accepted.size).toBe(1);
    report('webhook x5');
  });

  it('a domain notification repeated while its scan runs: one scan', async () => {
    await postTimes('/webhook', notification('domain-name', 'status-page.net', 'New domains'), 4);
    await drain(world);

    // Automatic work on a domain the quick verdict does not know: one lite scan (scan.ts, mode auto).
    expect(callsFor('status-page.net').filter((c) => c.endpoint === 'lite-scan')).toHaveLength(1);
    expect(world.cip.stats().scansStarted.lite).toBe(1);
    expect(world.octi.pushes()).toHaveLength(1);
    report('domain webhook x4');
  });

  it('a queue message delivered twice at once (at-least-once delivery): one lookup, one push', async () => {
    const { workId, body } = listen('ipv6-addr', '2a00:1450:4007:80b::200e');
    await world.post('/opencti/callback', body);
    // The queue hands the same message out again: a copy of its body, as SQS may.
    const [message] = world.consumers[0]!.queue.receive(1, 0);
    world.consumers[0]!.queue.send([message!.body]);
    await drain(world);

    expect(lookupsFor('2a00:1450:4007:80b::200e')).toBe(1);
    expect(world.octi.works().get(workId)).toMatchObject({ status: 'complete', bundles: 1 });
    report('queue duplicate');
  });

  it('different requests about one observable: one lookup, each answered; a new one after the window', async () => {
    const value = '104.16.132.229';
    const manual = listen('ipv4-addr', value, 'manual');
    const auto = listen('ipv4-addr', value, 'auto');
    await world.post('/opencti/callback', manual.body);
    await world.post('/opencti/callback', auto.body);
    await world.post('/webhook', notification('ipv4-addr', value, 'Watched IPs'));
    await world.post(
      '/webhook',
      JSON.stringify({ observables: [{ type: 'ipv4-addr', value }], source: 'script', request_id: 'a1' }),
    );
    await drain(world);

    expect(lookupsFor(value)).toBe(1);
    expect(world.trace.accepted.size).toBe(4);
    for (const { workId } of [manual, auto]) {
      expect(world.octi.works().get(workId)).toMatchObject({ status: 'complete', bundles: 1 });
    }
    expect(world.octi.pushes()).toHaveLength(4);

    // A day later the answer is stale: a new request costs a new lookup.
    world.clock.advanceBy(25 * 3600 * 1000);
    await world.post(
      '/webhook',
      JSON.stringify({ observables: [{ type: 'ipv4-addr', value }], source: 'script', request_id: 'a2' }),
    );
    await drain(world);
    expect(lookupsFor(value)).toBe(2);
    report('4 requests, then 1 after the window');
  });
});

function report(what: string): void {
  const deliveries = world.trace.deliveries;
  console.log(
    `Duplicates (${what}): ${world.trace.acceptances} accepted, ${world.trace.accepted.size} distinct jobs, ` +
      `${world.cip.stats().calls} Criminal IP calls, ${world.octi.pushes().length} pushes, ` +
      `${deliveries.filter((l) => l.reason === 'duplicate-delivery').length} duplicate deliveries skipped, ` +
      `${deliveries.filter((l) => l.outcome === 'retry-later').length} waits for a claim or a scan`,
  );
}
