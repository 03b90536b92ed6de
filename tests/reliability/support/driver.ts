/**
 * Runs the consumers as Lambda's event source mapping would (lib/local/sqs-event.ts pollOnce),
 * side by side, until the queue is empty, moving the manual clock only when every consumer is
 * idle: then no batch, no call and no lease is in flight, and jumping to the next message's time
 * is what waiting would have done.
 */
import { pollOnce } from '../../../lib/local/sqs-event';
import type { World } from './world';

export interface DrainOptions {
  /** Records per batch (the event source mapping's BatchSize). Default 10. */
  batchSize?: number;
  /** Called before each batch a consumer takes, with the running batch count (1-based). */
  beforeBatch?: (batch: number, consumer: number) => void;
  /** Gives up after this many batches (a livelock guard). Default 5000. */
  maxBatches?: number;
  /** Stops, instead of moving the clock, once the next message is due after this time (epoch ms). */
  untilMs?: number;
}

export interface DrainReport {
  batches: number;
  /** Virtual seconds the run spanned. */
  virtualSeconds: number;
  clockJumps: number;
}

export async function drain(world: World, options: DrainOptions = {}): Promise<DrainReport> {
  const { clock, consumers, config } = world;
  const started = clock.now().getTime();
  const maxBatches = options.maxBatches ?? 5000;
  let batches = 0;
  let clockJumps = 0;
  let idle = 0;
  let done = false;
  let failure: unknown;
  let waiting: Array<() => void> = [];
  const wakeAll = () => {
    const woken = waiting;
    waiting = [];
    for (const wake of woken) wake();
  };
  const queue = consumers[0]!.queue;

  async function loop(index: number): Promise<void> {
    const consumer = consumers[index]!;
    while (!done) {
      options.beforeBatch?.(batches + 1, index);
      const polled = await pollOnce(consumer.queue, consumer.handler, {
        batchSize: options.batchSize ?? 10,
        visibilityTimeoutSeconds: config.queue.visibilityTimeoutSeconds,
      });
      if (polled) {
        batches += 1;
        if (batches > maxBatches) {
          failure = new Error(`the queue did not drain within ${maxBatches} batches`);
          done = true;
        }
        wakeAll();
        continue;
      }
      idle += 1;
      if (idle === consumers.length) {
        // Nobody has anything to do now: jump to the next message's time, or stop when none is left.
        const next = queue.nextVisibleAtMs();
        if (next === undefined || (options.untilMs !== undefined && next > options.untilMs)) done = true;
        else {
          clock.advanceTo(next);
          clockJumps += 1;
        }
        idle -= 1;
        wakeAll();
        continue;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
      idle -= 1;
    }
    wakeAll();
  }

  await Promise.all(consumers.map((_, index) => loop(index)));
  if (failure) throw failure as Error;
  return { batches, virtualSeconds: (clock.now().getTime() - started) / 1000, clockJumps };
}
