/**
 * The local runtime end to end, against both stand-ins over loopback: a listen message posted to
 * the callback ends in the OpenCTI work lifecycle with a valid bundle, and stopping the runtime
 * mid-run loses no job and does none twice.
 */
import path from 'node:path';
import { criminalIpIntelSource, STATE_FILES } from '../../lib/local/compose';
import { ConfigError } from '../../lib/config';
import { createConsoleLog } from '../../lib/local/console-log';
import { LocalQueue } from '../../lib/local/queue';
import {
  DEFAULT_LOCAL_SETTINGS,
  loadLocalSettings,
  startRuntime,
  type Runtime,
} from '../../lib/local/runtime';
import { silentLog } from '../../lib/core/log';
import { type IntelSource } from '../../lib/criminalip/intel';
import { CRIMINAL_IP_AUTHOR } from '../../lib/stix/author';
import { observableId } from '../../lib/stix/ids';
import { tlpMarking } from '../../lib/standins/opencti';
import { tlpMarkingId } from '../../lib/stix/markings';
import { expectValidBundle } from '../helpers/stix-validator';
import { CONNECTOR_ID, postListen, startWorld, waitFor, type World } from './stand-ins';

let world: World;
let runtime: Runtime | undefined;

beforeEach(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await runtime?.stop({ graceMs: 0 });
  runtime = undefined;
  await world.close();
});

/** OpenCTI requests about one work, by operation name, in order. */
function workOperations(workId: string): string[] {
  return world.octi.requests
    .filter((r) => r.outcome === 'ok' && (r.variables.id === workId || r.variables.workId === workId))
    .map((r) => r.operationName ?? '');
}

describe('local runtime', () => {
  it('processes a listen message posted to /opencti/callback end to end', async () => {
    const lines: string[] = [];
    runtime = await startRuntime(world.config(), {
      log: createConsoleLog({ write: (line) => lines.push(line) }),
      settings: { reenrichIntervalMinutes: 0 },
      idlePollMs: 100,
    });

    // The first ping registers the connector, with this server as its callback.
    await waitFor('the connector registration', () => world.octi.connectors().has(CONNECTOR_ID));
    expect(world.octi.connectors().get(CONNECTOR_ID)).toMatchObject({
      type: 'INTERNAL_ENRICHMENT',
      listenCallbackUri: `${runtime.url}/opencti/callback`,
      playbookCompatible: true,
    });

    const { workId, status } = await postListen(world, runtime.url, {
      type: 'ipv4-addr',
      value: '64.62.197.76',
      tlp: 'TLP:GREEN',
    });
    expect(status).toBe(202);
    await waitFor('the work to be processed', () => world.octi.works().get(workId)?.status === 'complete');

    expect(workOperations(workId)).toEqual(['WorkToReceived', 'StixBundlePush', 'WorkToProcessed']);
    const work = world.octi.works().get(workId)!;
    expect(work.inError).toBe(false);
    const pushes = world.octi.pushes().filter((p) => p.workId === workId);
    expect(pushes).toHaveLength(1);
    const bundle = pushes[0]!.bundle;
    expectValidBundle(bundle);
    const self = bundle.objects.find((o) => o.id === observableId('ipv4-addr', '64.62.197.76'));
    expect(self).toMatchObject({ value: '64.62.197.76' });
    expect(self?.object_marking_refs).toContain(tlpMarkingId('TLP:GREEN'));
    expect(typeof self?.x_opencti_score).toBe('number');

    // One readable line for the job: the observable, what happened, the calls it cost. It is
    // written once OpenCTI has answered the last request, a moment after the work shows complete.
    const isJobLine = (line: string) => line.includes('64.62.197.76') && line.includes('written to OpenCTI');
    await waitFor('the job line', () => lines.some(isJobLine));
    const jobLines = lines.filter(isJobLine);
    expect(jobLines).toHaveLength(1);
    expect(jobLines[0]).toMatch(/1 Criminal IP call\b/);
  });

  it('loses no job and does none twice when stopped mid-run and started again', async () => {
    const observables = ['64.62.197.76', '179.61.228.2', '1.1.1.1', '9.9.9.9'].map((value) => ({
      type: 'ipv4-addr' as const,
      value,
      tlp: 'TLP:GREEN' as const,
    }));
    // OpenCTI is down while the first runtime runs: every job fails its first step.
    world.octi.setFaults({ http5xx: 1, operations: ['WorkToReceived'] });
    const config = world.config({ QUEUE_VISIBILITY_SECONDS: '1', QUEUE_MAX_RECEIVE_COUNT: '10' });
    runtime = await startRuntime(config, {
      log: silentLog,
      settings: { reenrichIntervalMinutes: 0 },
      idlePollMs: 100,
    });
    const works: string[] = [];
    for (const observable of observables) {
      const { workId, status } = await postListen(world, runtime.url, observable);
      expect(status).toBe(202);
      works.push(workId);
    }
    await waitFor('a job to be attempted', () =>
      world.octi.requests.some((r) => r.operationName === 'WorkToReceived'),
    );
    // Ctrl-C: the batch in flight finishes (failing), the rest stays queued.
    await runtime.stop({ graceMs: 10_000 });
    runtime = undefined;
    expect(world.octi.pushes()).toHaveLength(0);

    // Every job is still in the files; and one is taken by a consumer that dies holding it.
    const file = new LocalQueue({
      location: path.join(world.dataDir, STATE_FILES.queue),
      maxReceiveCount: 10,
    });
    const stats = file.stats();
    expect(stats.visible + stats.inFlight + stats.delayed).toBe(observables.length);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // let failed deliveries become visible
    expect(file.receive(1, 1)).toHaveLength(1);
    file.close();

    world.octi.setFaults({});
    runtime = await startRuntime(config, {
      log: silentLog,
      settings: { reenrichIntervalMinutes: 0 },
      idlePollMs: 100,
    });
    await waitFor('every work to be processed', () =>
      works.every((id) => world.octi.works().get(id)?.status === 'complete'),
    );
    await waitFor('the queue to empty', () => {
      const s = runtime!.queue.stats();
      return s.visible + s.inFlight + s.delayed === 0;
    });

    for (const workId of works) {
      expect(world.octi.pushes().filter((p) => p.workId === workId)).toHaveLength(1);
      expect(workOperations(workId).filter((op) => op === 'WorkToProcessed')).toHaveLength(1);
      expect(world.octi.works().get(workId)?.inError).toBe(false);
    }
    expect(world.octi.pushes()).toHaveLength(observables.length);
    expect(runtime.queue.stats().dead).toBe(0);
  });
});

describe('re-enrichment sweep', () => {
  it('queues the stale observables it finds, says so in one line, and the consumer enriches them', async () => {
    const stale = ['179.61.228.2', '64.62.197.76'];
    world.octi.setObservables(
      stale.map((value) => ({
        standard_id: observableId('ipv4-addr', value),
        entity_type: 'IPv4-Addr',
        observable_value: value,
        updated_at: '2025-01-01T00:00:00.000Z',
        markings: [tlpMarking('TLP:GREEN')],
        // Enriched by the connector before: REENRICH_SCOPE=own (the default) re-enriches them.
        createdById: CRIMINAL_IP_AUTHOR.id,
      })),
    );
    const lines: string[] = [];
    runtime = await startRuntime(world.config(), {
      log: createConsoleLog({ write: (line) => lines.push(line) }),
      settings: { reenrichIntervalMinutes: 0 },
      idlePollMs: 100,
    });
    const result = await runtime.runTask('reenrich');
    expect(result).toMatchObject({ task: 'reenrich', found: 2, queued: 2 });
    expect(
      lines.some((line) => /Re-enrichment sweep done: 2 stale observable\(s\) found, 2 queued/.test(line)),
    ).toBe(true);
    await waitFor('both observables to be pushed', () => world.octi.pushes().length === 2);
    for (const push of world.octi.pushes()) expectValidBundle(push.bundle);
  });
});

describe('batches in flight', () => {
  it('runs two batches at once, each with its own ENRICH_CONCURRENCY, as two Lambda invocations would', async () => {
    const config = world.config();
    const real = criminalIpIntelSource(config, { log: silentLog });
    // Each lookup waits until two are in progress: with one job at a time (one batch at a time,
    // or one ENRICH_CONCURRENCY shared by every batch) the first would wait forever.
    let lookups = 0;
    let bothIn: () => void = () => {};
    const twoLookups = new Promise<void>((resolve) => (bothIn = resolve));
    const intel: IntelSource = {
      async lookup(observable, scan) {
        lookups += 1;
        if (lookups === 2) bothIn();
        await twoLookups;
        return real.lookup(observable, scan);
      },
    };
    runtime = await startRuntime(config, {
      log: silentLog,
      settings: { reenrichIntervalMinutes: 0, enrichConcurrency: 1, consumers: 2 },
      batchSize: 1,
      idlePollMs: 100,
      intel,
    });
    const works: string[] = [];
    for (const value of ['64.62.197.76', '179.61.228.2']) {
      const { workId, status } = await postListen(world, runtime.url, {
        type: 'ipv4-addr',
        value,
        tlp: 'TLP:GREEN',
      });
      expect(status).toBe(202);
      works.push(workId);
    }
    await waitFor('both works to be processed', () =>
      works.every((id) => world.octi.works().get(id)?.status === 'complete'),
    );
    for (const workId of works)
      expect(world.octi.pushes().filter((p) => p.workId === workId)).toHaveLength(1);
    expect(lookups).toBe(2);
  });
});

describe('local settings', () => {
  it('reads LOCAL_CONSUMERS, the batches handed to the enrich handler at once', () => {
    expect(loadLocalSettings({}).consumers).toBe(DEFAULT_LOCAL_SETTINGS.consumers);
    expect(DEFAULT_LOCAL_SETTINGS.consumers).toBeGreaterThan(1);
    expect(loadLocalSettings({ LOCAL_CONSUMERS: '4' }).consumers).toBe(4);
    for (const bad of ['0', '11', 'two', '1.5']) {
      expect(() => loadLocalSettings({ LOCAL_CONSUMERS: bad })).toThrow(ConfigError);
      expect(() => loadLocalSettings({ LOCAL_CONSUMERS: bad })).toThrow(/LOCAL_CONSUMERS/);
    }
  });
});
