import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { LocalQueue } from '../../lib/local/queue';
import { pollOnce, readBatchResponse, settleBatch, toSqsEvent } from '../../lib/local/sqs-event';
import { ManualClock } from '../helpers/manual-clock';

const VISIBILITY = 180;
let clock: ManualClock;
let queue: LocalQueue;

beforeEach(() => {
  clock = new ManualClock();
  queue = new LocalQueue({ location: ':memory:', name: 'enrich-jobs', maxReceiveCount: 3, clock });
});

afterEach(() => queue.close());

function failing(...messageIds: string[]): SQSBatchResponse {
  return { batchItemFailures: messageIds.map((itemIdentifier) => ({ itemIdentifier })) };
}

describe('toSqsEvent', () => {
  it('builds the records Lambda passes for an SQS event source', () => {
    const [helloId, foxId] = queue.send(['hello', 'The quick brown fox jumps over the lazy dog']);
    const sentAt = clock.ms;
    clock.advance(5);
    const event = toSqsEvent(queue.name, queue.receive(10, VISIBILITY));

    expect(event.Records).toHaveLength(2);
    expect(event.Records[0]).toEqual({
      messageId: helloId,
      receiptHandle: expect.any(String),
      body: 'hello',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(sentAt),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: String(sentAt + 5000),
      },
      messageAttributes: {},
      // RFC 1321 test values.
      md5OfBody: '5d41402abc4b2a76b9719d911017c592',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:enrich-jobs',
      awsRegion: 'local',
    });
    expect(event.Records[1]).toMatchObject({
      messageId: foxId,
      md5OfBody: '9e107d9d372bb6826bd81d3542a419d6',
    });
  });

  it('counts deliveries and keeps the first receive time on redelivery', () => {
    queue.send(['job']);
    const first = toSqsEvent(queue.name, queue.receive(10, VISIBILITY)).Records[0]!;
    clock.advance(VISIBILITY);
    const second = toSqsEvent(queue.name, queue.receive(10, VISIBILITY)).Records[0]!;
    expect(second.attributes.ApproximateReceiveCount).toBe('2');
    expect(second.attributes.ApproximateFirstReceiveTimestamp).toBe(
      first.attributes.ApproximateFirstReceiveTimestamp,
    );
    expect(second.receiptHandle).not.toBe(first.receiptHandle);
  });
});

describe('pollOnce and settleBatch', () => {
  it('deletes the records not reported as failures and redelivers the failed one after the timeout', async () => {
    const [a, b, c] = queue.send(['a', 'b', 'c']);
    const polled = await pollOnce(queue, async () => failing(b!), { visibilityTimeoutSeconds: VISIBILITY });

    expect(polled?.settlement).toEqual({
      verdict: { kind: 'partial', failedMessageIds: [b] },
      deleted: [a, c],
      retried: [b],
      stale: [],
    });
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 1, delayed: 0, dead: 0 });
    clock.advance(VISIBILITY - 1);
    expect(queue.receive(10, VISIBILITY)).toEqual([]);
    clock.advance(1);
    expect(queue.receive(10, VISIBILITY).map((m) => [m.messageId, m.receiveCount])).toEqual([[b, 2]]);
  });

  it('deletes the whole batch when the handler reports no failure', async () => {
    queue.send(['a', 'b']);
    queue.send(['c']);
    const answers: unknown[] = [undefined, { batchItemFailures: [] }];
    for (const answer of answers) {
      const polled = await pollOnce(queue, async () => answer, {
        batchSize: 2,
        visibilityTimeoutSeconds: VISIBILITY,
      });
      expect(polled?.settlement.verdict).toEqual({ kind: 'success' });
    }
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 0 });
  });

  it('leaves every record to reappear after the timeout when the handler throws mid-batch', async () => {
    const ids = queue.send(['a', 'b', 'c']);
    const crash = new Error('socket hang up');
    const polled = await pollOnce(
      queue,
      async () => {
        throw crash;
      },
      { visibilityTimeoutSeconds: VISIBILITY },
    );

    expect(polled?.settlement.verdict).toEqual({
      kind: 'failure',
      reason: 'the handler threw: socket hang up',
      error: crash,
    });
    expect(polled?.settlement.deleted).toEqual([]);
    expect(polled?.settlement.retried).toEqual(ids);
    expect(queue.receive(10, VISIBILITY)).toEqual([]);
    clock.advance(VISIBILITY);
    expect(queue.receive(10, VISIBILITY).map((m) => m.messageId)).toEqual(ids);
  });

  it('fails the whole batch, as Lambda does, when a failure names no message of the batch', async () => {
    const patient = new LocalQueue({ location: ':memory:', maxReceiveCount: 10, clock });
    const ids = patient.send(['a', 'b']);
    const answers: unknown[] = [
      failing('not-a-message-of-this-batch'),
      failing(''),
      { batchItemFailures: [{ id: 'wrong key' }] },
      { batchItemFailures: 'everything' },
      'ok',
    ];
    for (const answer of answers) {
      const polled = await pollOnce(patient, async () => answer, { visibilityTimeoutSeconds: VISIBILITY });
      expect(polled?.settlement).toMatchObject({ verdict: { kind: 'failure' }, deleted: [], retried: ids });
      clock.advance(VISIBILITY);
    }
    expect(patient.receive(10, VISIBILITY).map((m) => m.receiveCount)).toEqual([6, 6]);
    patient.close();
  });

  it('passes the attempt number to the handler and dead-letters a record that always fails', async () => {
    const [poison, healthy] = queue.send(['poison', 'healthy']);
    const attemptsSeen: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const bad = event.Records.filter((r) => r.body === 'poison');
      attemptsSeen.push(...bad.map((r) => r.attributes.ApproximateReceiveCount));
      return failing(...bad.map((r) => r.messageId));
    };
    for (let poll = 0; poll < 5; poll += 1) {
      await pollOnce(queue, handler, { visibilityTimeoutSeconds: VISIBILITY });
      clock.advance(VISIBILITY);
    }
    expect(attemptsSeen).toEqual(['1', '2', '3']);
    expect(queue.deadLetters().map((d) => d.messageId)).toEqual([poison]);
    expect(healthy).toBeDefined();
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, dead: 1 });
  });

  it('cannot delete a record that another consumer received after the handler overran its timeout', async () => {
    const [id] = queue.send(['slow']);
    let redelivered: string | undefined;
    const polled = await pollOnce(
      queue,
      async () => {
        clock.advance(VISIBILITY);
        redelivered = queue.receive(1, VISIBILITY)[0]?.receiptHandle;
        return undefined;
      },
      { visibilityTimeoutSeconds: VISIBILITY },
    );
    expect(polled?.settlement).toMatchObject({ deleted: [], stale: [id] });
    expect(queue.stats().inFlight).toBe(1);
    expect(queue.delete(redelivered!)).toBe(true);
  });

  it('does not invoke the handler when nothing is visible', async () => {
    const handler = jest.fn(async () => undefined);
    expect(await pollOnce(queue, handler, { visibilityTimeoutSeconds: VISIBILITY })).toBeUndefined();
    expect(handler).not.toHaveBeenCalled();
  });

  it('settles against the records delivered, whatever the handler does to its event', async () => {
    const [a, b] = queue.send(['a', 'b']);
    const polled = await pollOnce(
      queue,
      async (event) => {
        event.Records.splice(0);
        return undefined;
      },
      { visibilityTimeoutSeconds: VISIBILITY },
    );
    expect(polled?.settlement.deleted).toEqual([a, b]);
  });
});

describe('readBatchResponse', () => {
  it('reads the answers Lambda treats as full success', () => {
    queue.send(['a']);
    const event = toSqsEvent(queue.name, queue.receive(1, VISIBILITY));
    for (const response of [undefined, null, {}, { batchItemFailures: null }, { batchItemFailures: [] }]) {
      expect(readBatchResponse(event, { kind: 'returned', response })).toEqual({ kind: 'success' });
    }
  });

  it('lets settleBatch apply a verdict to any queue holding the receipt handles', () => {
    const [a, b] = queue.send(['a', 'b']);
    const event = toSqsEvent(queue.name, queue.receive(10, VISIBILITY));
    const settlement = settleBatch(queue, event, { kind: 'returned', response: failing(a!, a!) });
    expect(settlement).toMatchObject({ deleted: [b], retried: [a] });
  });
});
