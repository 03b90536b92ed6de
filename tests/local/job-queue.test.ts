/**
 * The JobQueue the local runtime sends through (lib/local/compose.ts): each job as a queue
 * envelope, inline or stored aside in DATA_DIR/jobs when too large for a message, as SqsJobQueue
 * does with S3; delays as SQS takes them.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeEnvelope, MAX_INLINE_BYTES } from '../../lib/jobs/envelope';
import type { EnrichmentJob } from '../../lib/jobs/types';
import { LOCAL_JOB_BUCKET, localJobQueue, STATE_FILES } from '../../lib/local/compose';
import { LocalQueue } from '../../lib/local/queue';
import { ManualClock } from '../helpers/manual-clock';

let dir: string;
let clock: ManualClock;
let queue: LocalQueue;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cip-octi-jobqueue-'));
  clock = new ManualClock();
  queue = new LocalQueue({ location: ':memory:', maxReceiveCount: 3, clock });
});
afterEach(async () => {
  queue.close();
  await rm(dir, { recursive: true, force: true });
});

const job = (jobId: string, extra: Partial<EnrichmentJob> = {}): EnrichmentJob => ({
  jobId,
  observable: { type: 'ipv4-addr', value: '45.33.32.156', markingRefs: [] },
  origin: { kind: 'cli' },
  receivedAt: '2026-12-03T10:00:00.000Z',
  ...extra,
});

describe('the local JobQueue', () => {
  it('sends each job inline, with the delay clamped to the 900 s SQS allows', async () => {
    const woken: number[] = [];
    await localJobQueue(queue, dir, () => woken.push(1)).send([job('a'), job('b')], 1000);
    expect(woken).toEqual([1]);
    clock.advance(899);
    expect(queue.receive(10, 30)).toEqual([]);
    clock.advance(1);
    const envelopes = queue.receive(10, 30).map((m) => decodeEnvelope(m.body));
    expect(envelopes).toEqual([
      { v: 1, job: job('a') },
      { v: 1, job: job('b') },
    ]);
  });

  it('stores a job too large for a message in DATA_DIR/jobs and reads it back', async () => {
    const big = job('big', {
      observable: {
        type: 'url',
        value: `https://example.com/${'a'.repeat(MAX_INLINE_BYTES)}`,
        markingRefs: [],
      },
    });
    const jobs = localJobQueue(queue, dir);
    await jobs.send([big]);
    const [message] = queue.receive(1, 30);
    const envelope = decodeEnvelope(message!.body);
    expect('ref' in envelope && envelope.ref.bucket).toBe(LOCAL_JOB_BUCKET);
    expect(Buffer.byteLength(message!.body)).toBeLessThan(1024);
    expect(await readdir(path.join(dir, STATE_FILES.jobs))).toHaveLength(1);
    if (!('ref' in envelope)) throw new Error('expected a reference');
    expect(await jobs.loadJob(envelope.ref)).toEqual(big);
  });

  it('refuses a reference it did not write', async () => {
    const jobs = localJobQueue(queue, dir);
    await expect(jobs.loadJob({ bucket: 'payloads', key: 'x.json' })).rejects.toThrow(
      /does not name a job stored by this runtime/,
    );
    await expect(jobs.loadJob({ bucket: LOCAL_JOB_BUCKET, key: '../ledger.sqlite' })).rejects.toThrow(
      /does not name/,
    );
  });
});
