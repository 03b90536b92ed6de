/**
 * The local consumer on its own, over an in-memory queue: several batches in the handler's hands
 * at once (as Lambda runs several invocations), never more than allowed, no message handled twice,
 * and stopping that finishes or hands back every batch in flight.
 */
import type { SQSEvent } from 'aws-lambda';
import {
  handlerPerBatch,
  JobReporter,
  LocalConsumer,
  type BatchHandler,
  type LocalConsumerOptions,
} from '../../lib/local/consumer';
import { LocalQueue } from '../../lib/local/queue';
import { silentLog, type Log } from '../../lib/core/log';
import { waitFor } from './stand-ins';

/** A promise with its resolve at hand. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A Log that keeps its lines. */
function recordingLog(): Log & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Lets pending timers and I/O callbacks run, so that a consumer that could start a batch does. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
}

const bodies = (n: number, prefix = 'job') =>
  Array.from({ length: n }, (_, i) => `{"v":1,"n":"${prefix}-${i}"}`);
const bodiesOf = (event: SQSEvent) => event.Records.map((record) => record.body);

let queue: LocalQueue;
let consumer: LocalConsumer | undefined;

beforeEach(() => {
  queue = new LocalQueue({ location: ':memory:', maxReceiveCount: 5 });
});

afterEach(async () => {
  await consumer?.stop(0);
  consumer = undefined;
  queue.close();
});

function startConsumer(options: Partial<LocalConsumerOptions> & { handler: BatchHandler }): LocalConsumer {
  consumer = new LocalConsumer({
    queue,
    visibilityTimeoutSeconds: 600,
    log: silentLog,
    idlePollMs: 50,
    ...options,
  });
  consumer.start();
  return consumer;
}

describe('several batches in flight', () => {
  it('hands a second batch to the handler while the first one is still running', async () => {
    queue.send(bodies(2));
    // Each batch waits until both are in the handler's hands: one batch at a time never gets there.
    const bothIn = deferred();
    let inHandler = 0;
    const handled: string[] = [];
    startConsumer({
      batchSize: 1,
      concurrentBatches: 2,
      handler: async (event) => {
        inHandler += 1;
        if (inHandler === 2) bothIn.resolve();
        await bothIn.promise;
        handled.push(...bodiesOf(event));
        return { batchItemFailures: [] };
      },
    });
    await waitFor('both batches to be handled', () => handled.length === 2, 5_000);
    expect(handled.sort()).toEqual(bodies(2).sort());
    expect(queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('never holds more batches than allowed, and starts the next one as soon as one ends', async () => {
    queue.send(bodies(5));
    const gates = new Map<string, () => void>();
    let inHandler = 0;
    let most = 0;
    const running = startConsumer({
      batchSize: 1,
      concurrentBatches: 2,
      handler: async (event) => {
        inHandler += 1;
        most = Math.max(most, inHandler);
        const gate = deferred();
        gates.set(bodiesOf(event)[0]!, gate.resolve);
        await gate.promise;
        inHandler -= 1;
        return { batchItemFailures: [] };
      },
    });
    await waitFor('two batches in flight', () => gates.size === 2);
    running.wake();
    await settle();
    expect(running.batchesInFlight).toBe(2);
    expect(queue.stats()).toMatchObject({ visible: 3, inFlight: 2 });

    // Ending one batch frees its slot for the next message.
    gates.get(bodies(5)[0]!)!();
    await waitFor('a third batch', () => gates.size === 3);
    expect(running.batchesInFlight).toBe(2);
    expect(most).toBe(2);
    for (const release of gates.values()) release();
    await waitFor('every batch', () => gates.size === 5);
    for (const release of gates.values()) release();
    await waitFor('the queue to empty', () => queue.stats().inFlight + queue.stats().visible === 0);
    expect(most).toBe(2);
  });

  it('handles every message exactly once across concurrent batches, failed ones again', async () => {
    const sent = bodies(40);
    queue.send(sent);
    const seen = new Map<string, number>();
    const failedOnce = new Set<string>();
    startConsumer({
      batchSize: 3,
      concurrentBatches: 4,
      // Failed deliveries come back after a second; a batch takes milliseconds.
      visibilityTimeoutSeconds: 1,
      handler: async (event) => {
        // Batches end in a different order than they started.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 10)));
        const batchItemFailures: Array<{ itemIdentifier: string }> = [];
        for (const record of event.Records) {
          // Every seventh job fails its first delivery: SQS delivers it again.
          if (sent.indexOf(record.body) % 7 === 0 && !failedOnce.has(record.body)) {
            failedOnce.add(record.body);
            batchItemFailures.push({ itemIdentifier: record.messageId });
            continue;
          }
          seen.set(record.body, (seen.get(record.body) ?? 0) + 1);
        }
        return { batchItemFailures };
      },
    });
    await waitFor('every job', () => seen.size === sent.length);
    await waitFor('the queue to empty', () => queue.stats().visible + queue.stats().inFlight === 0);
    expect([...seen.keys()].sort()).toEqual([...sent].sort());
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(failedOnce.size).toBe(6);
    expect(queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
  });

  it('refuses a number of batches outside 1 to 10', () => {
    for (const concurrentBatches of [0, 11, 1.5]) {
      expect(
        () =>
          new LocalConsumer({
            queue,
            handler: async () => ({}),
            visibilityTimeoutSeconds: 30,
            log: silentLog,
            concurrentBatches,
          }),
      ).toThrow(/concurrentBatches must be an integer from 1 to 10/);
    }
  });
});

describe('stopping', () => {
  it('hands an unfinished batch back to the queue when the grace period runs out', async () => {
    queue.send(['{"v":1}', '{"v":1}']);
    let started = 0;
    const running = startConsumer({
      // A handler that never finishes: a job stuck on a slow upstream.
      handler: () => {
        started += 1;
        return new Promise(() => {});
      },
    });
    await waitFor('the batch to start', () => started === 1);
    expect(queue.stats().inFlight).toBe(2);

    const report = await running.stop(0);
    expect(report.returned).toBe(2);
    // Visible again at once, not after the 600 s visibility timeout.
    expect(queue.stats()).toMatchObject({ visible: 2, inFlight: 0 });
    expect(queue.receive(10, 30).map((m) => m.receiveCount)).toEqual([2, 2]);
  });

  it('hands every unfinished batch back, with one line saying so', async () => {
    queue.send(bodies(7));
    const log = recordingLog();
    let started = 0;
    const running = startConsumer({
      batchSize: 2,
      concurrentBatches: 3,
      log,
      handler: () => {
        started += 1;
        return new Promise(() => {});
      },
    });
    await waitFor('three batches to start', () => started === 3);
    expect(queue.stats()).toMatchObject({ visible: 1, inFlight: 6 });

    const report = await running.stop(0);
    expect(report.returned).toBe(6);
    expect(queue.stats()).toMatchObject({ visible: 7, inFlight: 0 });
    const warnings = log.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.message)).toEqual([
      'Stopped with 6 job(s) unfinished: 6 handed back to the queue for the next start',
    ]);
    // The next consumer gets each of them once more, and nothing else.
    const again = queue.receive(10, 30);
    expect(again.map((m) => m.body).sort()).toEqual(bodies(7).sort());
    expect(again.filter((m) => m.receiveCount === 2)).toHaveLength(6);
  });

  it('lets the batches in flight finish within the grace period and starts no new one', async () => {
    queue.send(bodies(3));
    const release = deferred();
    const handled: string[] = [];
    const running = startConsumer({
      batchSize: 1,
      concurrentBatches: 2,
      handler: async (event) => {
        await release.promise;
        handled.push(...bodiesOf(event));
        return { batchItemFailures: [] };
      },
    });
    await waitFor('two batches in flight', () => running.batchesInFlight === 2);
    const stopped = running.stop(60_000);
    release.resolve();
    expect(await stopped).toEqual({ returned: 0 });
    expect(handled).toHaveLength(2);
    // Both finished jobs are deleted; the third was never taken.
    expect(queue.stats()).toMatchObject({ visible: 1, inFlight: 0 });
    expect(running.batchCount).toBe(2);
  });

  it('hurries a stop in progress when stopped again with a shorter grace (a second Ctrl-C)', async () => {
    queue.send(bodies(4));
    const running = startConsumer({
      batchSize: 2,
      concurrentBatches: 2,
      handler: () => new Promise(() => {}),
    });
    await waitFor('two batches in flight', () => running.batchesInFlight === 2);
    const first = running.stop(600_000);
    const second = running.stop(0);
    // Without the second call the first would wait ten minutes: jest's timeout fails the test.
    expect(await first).toEqual({ returned: 4 });
    expect(await second).toEqual({ returned: 4 });
    expect(queue.stats()).toMatchObject({ visible: 4, inFlight: 0 });
  });
});

describe('waking and sleeping', () => {
  it('polls at once when woken after a send, not at the end of its idle sleep', async () => {
    const seen: string[] = [];
    const running = startConsumer({
      // Longer than the test: only the wake-up can make it poll again.
      idlePollMs: 60_000,
      handler: async (event) => {
        seen.push(...bodiesOf(event));
        return { batchItemFailures: [] };
      },
    });
    await settle(); // asleep on an empty queue
    queue.send(bodies(1));
    running.wake();
    await waitFor('the job', () => seen.length === 1, 5_000);
  });

  it('sleeps until a delayed message is due, then delivers it', async () => {
    const seen: number[] = [];
    const running = startConsumer({
      visibilityTimeoutSeconds: 30,
      // Longer than the test: only the due time can wake the consumer.
      idlePollMs: 60_000,
      handler: async (event) => {
        seen.push(event.Records.length);
        return { batchItemFailures: [] };
      },
    });
    queue.send(['{"v":1}'], 1);
    running.wake();
    await waitFor('the delayed message', () => seen.length === 1, 5_000);
    expect(queue.stats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
  });
});

describe('handlerPerBatch', () => {
  it('gives each batch in flight its own handler instance and reuses idle ones', async () => {
    const made: number[] = [];
    const calls: Array<{ instance: number; gate: () => void }> = [];
    const handler = handlerPerBatch(() => {
      const instance = made.length;
      made.push(instance);
      return async () => {
        const gate = deferred();
        calls.push({ instance, gate: gate.resolve });
        await gate.promise;
        return { instance };
      };
    });
    const event: SQSEvent = { Records: [] };
    const first = handler(event);
    const second = handler(event);
    await waitFor('both calls', () => calls.length === 2);
    expect(calls.map((call) => call.instance)).toEqual([0, 1]);
    for (const call of calls) call.gate();
    expect([await first, await second]).toEqual([{ instance: 0 }, { instance: 1 }]);

    // Both are idle again: the next batch reuses one instead of making a third.
    const third = handler(event);
    await waitFor('the third call', () => calls.length === 3);
    calls[2]!.gate();
    await third;
    expect(made).toHaveLength(2);
  });
});

describe('JobReporter', () => {
  it('keeps naming a job redelivered into a second batch after the first batch forgets it', () => {
    const lines: string[] = [];
    const target: Log = {
      debug: (message) => void lines.push(message),
      info: (message) => void lines.push(message),
      warn: (message) => void lines.push(message),
      error: (message) => void lines.push(message),
    };
    const reporter = new JobReporter(target, 'text');
    const body = JSON.stringify({
      v: 1,
      job: {
        jobId: 'job-1',
        observable: { type: 'ipv4-addr', value: '64.62.197.76' },
        origin: { kind: 'sweep' },
        receivedAt: '2025-01-01T00:00:00.000Z',
      },
    });
    queue.send([body]);
    // The first delivery outlives its visibility timeout and is delivered again meanwhile.
    const [firstDelivery] = queue.receive(1, 0);
    const [secondDelivery] = queue.receive(1, 600);
    reporter.expect([firstDelivery!]);
    reporter.expect([secondDelivery!]);
    reporter.forget([{ messageId: firstDelivery!.messageId }]);

    reporter.log.info('Job finished', {
      messageId: secondDelivery!.messageId,
      jobId: 'job-1',
      outcome: 'written',
      calls: 1,
      ms: 12,
      score: 75,
    });
    expect(lines).toEqual([
      'ipv4-addr 64.62.197.76: written to OpenCTI (score 75) [1 Criminal IP call, 12 ms]',
    ]);
  });
});
