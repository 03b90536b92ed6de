import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidQueueRequestError, LocalQueue } from '../../lib/local/queue';
import { ManualClock } from '../helpers/manual-clock';

const ROOT = path.resolve(__dirname, '../..');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let clock: ManualClock;
let dir: string;
const open: LocalQueue[] = [];

function memoryQueue(maxReceiveCount = 5): LocalQueue {
  const queue = new LocalQueue({ location: ':memory:', maxReceiveCount, clock });
  open.push(queue);
  return queue;
}

function fileQueue(file: string, name?: string): LocalQueue {
  const queue = new LocalQueue({ location: file, name, maxReceiveCount: 5, clock });
  open.push(queue);
  return queue;
}

beforeEach(() => {
  clock = new ManualClock();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-queue-'));
});

afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('LocalQueue: sending and receiving', () => {
  it('delivers a sent message with a uuid, its send time and a first receive count', () => {
    const queue = memoryQueue();
    const [id] = queue.send(['hello']);
    const sentAt = clock.ms;
    clock.advance(2);
    const [message, ...rest] = queue.receive(10, 30);
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ messageId: id, body: 'hello', receiveCount: 1, sentAtMs: sentAt });
    expect(message?.messageId).toMatch(UUID);
    expect(message?.firstReceivedAtMs).toBe(clock.ms);
    expect(message?.visibleAtMs).toBe(clock.ms + 30_000);
  });

  it('hides a received message until its visibility timeout, then redelivers it with a new handle', () => {
    const queue = memoryQueue();
    queue.send(['job']);
    const [first] = queue.receive(10, 30);
    const firstReceivedAt = clock.ms;
    expect(queue.receive(10, 30)).toEqual([]);
    clock.advance(29);
    expect(queue.receive(10, 30)).toEqual([]);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 1, delayed: 0, dead: 0 });
    clock.advance(1);
    const [second] = queue.receive(10, 30);
    expect(second?.messageId).toBe(first?.messageId);
    expect(second?.receiveCount).toBe(2);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    expect(second?.firstReceivedAtMs).toBe(firstReceivedAt);
  });

  it('returns at most the batch size asked for, up to 10, each message once', () => {
    const queue = memoryQueue();
    queue.send(Array.from({ length: 25 }, (_, i) => `m${i}`));
    const batches = [queue.receive(10, 60), queue.receive(10, 60), queue.receive(10, 60)];
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const bodies = batches.flat().map((m) => m.body);
    expect(new Set(bodies).size).toBe(25);
    expect(() => queue.receive(11, 60)).toThrow(InvalidQueueRequestError);
    expect(() => queue.receive(0, 60)).toThrow(InvalidQueueRequestError);
  });

  it('keeps a delayed message invisible until its delay has passed', () => {
    const queue = memoryQueue();
    queue.send(['later'], 30);
    queue.send(['now']);
    expect(queue.receive(10, 60).map((m) => m.body)).toEqual(['now']);
    expect(queue.stats()).toMatchObject({ delayed: 1, inFlight: 1 });
    clock.advance(29);
    expect(queue.receive(10, 60)).toEqual([]);
    clock.advance(1);
    expect(queue.receive(10, 60).map((m) => m.body)).toEqual(['later']);
  });

  it('refuses what SQS refuses: delays over 900 s, empty or oversized bodies', () => {
    const queue = memoryQueue();
    expect(() => queue.send(['x'], 901)).toThrow(/delaySeconds must be an integer from 0 to 900/);
    expect(() => queue.send(['x'], 1.5)).toThrow(InvalidQueueRequestError);
    expect(() => queue.send([''])).toThrow(/must not be empty/);
    expect(() => queue.send(['x'.repeat(1_048_577)])).toThrow(/SQS accepts at most 1048576/);
    expect(() => queue.send(['bad \u0000 char'])).toThrow(InvalidQueueRequestError);
    expect(queue.stats().visible + queue.stats().delayed).toBe(0);
    queue.send(['x'.repeat(1_048_576)], 900);
    expect(queue.stats().delayed).toBe(1);
  });

  it('keeps queues with different names in one file apart', () => {
    const file = path.join(dir, 'state.db');
    const jobs = fileQueue(file, 'jobs');
    const other = fileQueue(file, 'other');
    jobs.send(['for jobs']);
    expect(other.receive(10, 30)).toEqual([]);
    expect(jobs.receive(10, 30).map((m) => m.body)).toEqual(['for jobs']);
  });
});

describe('LocalQueue: receipt handles', () => {
  it('deletes with the latest receipt handle only', () => {
    const queue = memoryQueue();
    queue.send(['job']);
    const [first] = queue.receive(1, 10);
    clock.advance(10);
    const [second] = queue.receive(1, 10);
    expect(queue.delete(first!.receiptHandle)).toBe(false);
    expect(queue.changeVisibility(first!.receiptHandle, 300)).toBe(false);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 1, delayed: 0, dead: 0 });
    expect(queue.delete(second!.receiptHandle)).toBe(true);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    expect(queue.delete(second!.receiptHandle)).toBe(false);
  });

  it('still deletes with a handle whose timeout passed if nobody received the message since (as SQS)', () => {
    const queue = memoryQueue();
    queue.send(['job']);
    const [message] = queue.receive(1, 10);
    clock.advance(60);
    expect(queue.delete(message!.receiptHandle)).toBe(true);
    expect(queue.receive(10, 10)).toEqual([]);
  });

  it('returns a message at once with changeVisibility(0) and extends it with a longer timeout', () => {
    const queue = memoryQueue();
    queue.send(['job']);
    const [first] = queue.receive(1, 300);
    expect(queue.changeVisibility(first!.receiptHandle, 0)).toBe(true);
    const [second] = queue.receive(1, 30);
    expect(second).toMatchObject({ messageId: first!.messageId, receiveCount: 2 });

    expect(queue.changeVisibility(second!.receiptHandle, 120)).toBe(true);
    clock.advance(119);
    expect(queue.receive(1, 30)).toEqual([]);
    clock.advance(1);
    expect(queue.receive(1, 30).map((m) => m.receiveCount)).toEqual([3]);
  });

  it('does not extend a message whose timeout has already passed', () => {
    const queue = memoryQueue();
    queue.send(['job']);
    const [message] = queue.receive(1, 10);
    clock.advance(10);
    expect(queue.changeVisibility(message!.receiptHandle, 300)).toBe(false);
    expect(queue.stats().visible).toBe(1);
  });
});

describe('LocalQueue: dead letters', () => {
  it('delivers a never-deleted message exactly maxReceiveCount times, then dead-letters it', () => {
    const queue = memoryQueue(3);
    const [id] = queue.send(['poison']);
    const deliveries: number[] = [];
    for (let attempt = 0; attempt < 8; attempt += 1) {
      deliveries.push(...queue.receive(10, 30).map((m) => m.receiveCount));
      clock.advance(30);
    }
    expect(deliveries).toEqual([1, 2, 3]);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 1 });
    expect(queue.deadLetters()).toEqual([
      {
        messageId: id,
        body: 'poison',
        sentAtMs: expect.any(Number),
        receiveCount: 3,
        deadAtMs: expect.any(Number),
      },
    ]);
  });

  it('still fills the batch with healthy messages when it dead-letters one', () => {
    const queue = memoryQueue(1);
    queue.send(['poison']);
    queue.receive(1, 10);
    clock.advance(10);
    queue.send(['a', 'b']);
    expect(queue.receive(2, 10).map((m) => m.body)).toEqual(['a', 'b']);
    expect(queue.deadLetters().map((d) => d.body)).toEqual(['poison']);
  });

  it('redrives dead letters, oldest first, as new messages', () => {
    const queue = memoryQueue(1);
    const ids = queue.send(['first', 'second']);
    queue.receive(10, 10);
    clock.advance(10);
    expect(queue.receive(10, 10)).toEqual([]);
    expect(queue.stats().dead).toBe(2);

    expect(queue.redrive(1)).toBe(1);
    expect(queue.stats()).toEqual({ visible: 1, inFlight: 0, delayed: 0, dead: 1 });
    const [back] = queue.receive(10, 10);
    expect(back?.body).toBe('first');
    expect(back?.receiveCount).toBe(1);
    expect(ids).not.toContain(back?.messageId);

    expect(queue.redrive()).toBe(1);
    expect(queue.deadLetters()).toEqual([]);
    expect(queue.receive(10, 10).map((m) => m.body)).toEqual(['second']);
  });

  it('purges the queue and the dead letters separately', () => {
    const queue = memoryQueue(1);
    queue.send(['dies']);
    queue.receive(1, 10);
    clock.advance(10);
    queue.receive(1, 10);
    queue.send(['a', 'b'], 5);
    queue.send(['c']);
    queue.receive(1, 60);
    expect(queue.purge()).toBe(3);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 1 });
    expect(queue.purgeDeadLetters()).toBe(1);
    expect(queue.stats().dead).toBe(0);
  });
});

describe('LocalQueue: durability and sharing', () => {
  it('keeps messages, receive counts and in-flight timeouts across a restart', () => {
    const file = path.join(dir, 'nested', 'queue.db');
    const before = fileQueue(file);
    before.send(['a', 'b', 'c']);
    const received = before.receive(2, 120);
    before.close();

    const after = fileQueue(file);
    expect(after.stats()).toEqual({ visible: 1, inFlight: 2, delayed: 0, dead: 0 });
    clock.advance(60);
    expect(after.receive(10, 120).map((m) => m.body)).toEqual(['c']);
    clock.advance(60);
    const again = after.receive(10, 120);
    expect(again.map((m) => [m.messageId, m.receiveCount])).toEqual(received.map((m) => [m.messageId, 2]));
    expect(again.map((m) => m.firstReceivedAtMs)).toEqual(received.map((m) => m.firstReceivedAtMs));
  });

  it('never gives the same message to two instances sharing a file', () => {
    const file = path.join(dir, 'shared.db');
    const one = fileQueue(file);
    const two = fileQueue(file);
    const sent = one.send(Array.from({ length: 40 }, (_, i) => `m${i}`));
    const byOne: string[] = [];
    const byTwo: string[] = [];
    for (;;) {
      const a = one.receive(3, 300).map((m) => m.messageId);
      const b = two.receive(3, 300).map((m) => m.messageId);
      if (a.length === 0 && b.length === 0) break;
      byOne.push(...a);
      byTwo.push(...b);
    }
    expect(byOne.filter((id) => byTwo.includes(id))).toEqual([]);
    expect([...byOne, ...byTwo].sort()).toEqual([...sent].sort());
  });

  it('never gives the same message to two processes receiving at the same time', async () => {
    const file = path.join(dir, 'processes.db');
    const producer = fileQueue(file);
    const sent = producer.send(Array.from({ length: 300 }, (_, i) => `m${i}`));
    const [a, b] = await runConsumersTogether(file, 2);
    expect(a!.filter((id) => b!.includes(id))).toEqual([]);
    expect([...a!, ...b!].sort()).toEqual([...sent].sort());
  });
});

/**
 * Starts `count` processes on the same queue file, lets them receive at the same moment until the
 * queue is empty, and returns the message ids each one got.
 */
async function runConsumersTogether(file: string, count: number): Promise<string[][]> {
  const script = `
    require('tsx/cjs');
    const { LocalQueue } = require(${JSON.stringify(path.join(ROOT, 'lib/local/queue.ts'))});
    const queue = new LocalQueue({ location: ${JSON.stringify(file)}, maxReceiveCount: 5 });
    process.stdout.write('ready\\n');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    process.stdin.once('data', (data) => {
      // Start together at the agreed moment, and take a moment per batch as a real consumer
      // would, so that the receives of the two processes really interleave.
      const startAt = Number(data.toString());
      while (Date.now() < startAt);
      const ids = [];
      for (;;) {
        const batch = queue.receive(2, 600);
        if (batch.length === 0) break;
        ids.push(...batch.map((m) => m.messageId));
        Atomics.wait(pause, 0, 0, 1);
      }
      queue.close();
      process.stdout.write(JSON.stringify(ids) + '\\n');
      process.exit(0);
    });`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (stdout.startsWith('ready\n')) resolve();
      };
      child.stdout.on('data', check);
      child.once('exit', (code) => reject(new Error(`consumer exited (${code}) before ready: ${stderr}`)));
    });
    const done = new Promise<string[]>((resolve, reject) => {
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`consumer exited with ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout.slice('ready\n'.length)) as string[]);
      });
    });
    return { child, ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  const startAt = Date.now() + 100;
  for (const { child } of outputs) child.stdin.write(`${startAt}\n`);
  return Promise.all(outputs.map((o) => o.done));
}
