import { randomBytes } from 'node:crypto';
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoLease } from '../../lib/aws/dynamo-lease';
import { CallSlotBusyError, LeaseCallSlots } from '../../lib/criminalip/call-slots';
import { DynamoLedger } from '../../lib/aws/dynamo-ledger';
import type { CachedIntel } from '../../lib/pipeline/ports';
import type { Clock } from '../../lib/core/clock';
import { fakeDynamo } from './fake-dynamo';

const TABLE = 'ledger';
const T0 = Date.parse('2026-11-20T10:00:00.000Z');

function movableClock(start = T0) {
  let now = start;
  const clock: Clock = { now: () => new Date(now) };
  return { clock, advance: (ms: number) => (now += ms) };
}

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
let table: ReturnType<typeof fakeDynamo>;

beforeEach(() => {
  table?.mock.restore();
  table = fakeDynamo();
});

afterAll(() => table.mock.restore());

const intel: CachedIntel = {
  intel: { kind: 'ip', report: { ip: '198.51.100.7', score: { inbound: 'Critical', outbound: 'Safe' } } },
  fetchedAt: '2026-11-20T09:59:00.000Z',
};

describe('DynamoLedger', () => {
  it('caches intel until its TTL, then treats the not-yet-deleted item as absent', async () => {
    const time = movableClock();
    const ledger = new DynamoLedger({ doc, tableName: TABLE, clock: time.clock });
    await ledger.putIntel('ip:198.51.100.7', intel, 3600);

    expect(await ledger.getIntel('ip:198.51.100.7')).toEqual(intel);
    const stored = table.items.get('intel#ip:198.51.100.7')!;
    expect(stored.expiresAt).toBe(T0 / 1000 + 3600);

    time.advance(3600 * 1000);
    expect(table.items.has('intel#ip:198.51.100.7')).toBe(true);
    expect(await ledger.getIntel('ip:198.51.100.7')).toBeUndefined();
  });

  it('stores intel compressed, under the item size limit', async () => {
    const ledger = new DynamoLedger({ doc, tableName: TABLE });
    const big: CachedIntel = {
      intel: { kind: 'ip', report: { ports: 'x'.repeat(800_000) } },
      fetchedAt: intel.fetchedAt,
    };
    await ledger.putIntel('ip:big', big, 60);
    const stored = table.items.get('intel#ip:big')!;
    expect(stored.data).toBeInstanceOf(Uint8Array);
    expect((stored.data as Uint8Array).byteLength).toBeLessThan(400 * 1024);
    expect(await ledger.getIntel('ip:big')).toEqual(big);
  });

  it('skips caching an answer too large for an item even compressed, without failing', async () => {
    const ledger = new DynamoLedger({ doc, tableName: TABLE });
    const noise = randomBytes(500_000).toString('base64');
    await ledger.putIntel(
      'ip:noise',
      { intel: { kind: 'ip', report: { noise } }, fetchedAt: intel.fetchedAt },
      60,
    );
    expect(table.items.has('intel#ip:noise')).toBe(false);
    expect(await ledger.getIntel('ip:noise')).toBeUndefined();
  });

  it('does not cache when the TTL is zero (cache disabled)', async () => {
    const ledger = new DynamoLedger({ doc, tableName: TABLE });
    await ledger.putIntel('ip:1', intel, 0);
    expect(table.mock).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(await ledger.getIntel('ip:1')).toBeUndefined();
  });

  it('marks jobs done with a consistent read, and forgets them after the TTL', async () => {
    const time = movableClock();
    const ledger = new DynamoLedger({ doc, tableName: TABLE, clock: time.clock });
    expect(await ledger.isDone('job-1')).toBe(false);
    await ledger.markDone('job-1', 600);
    expect(await ledger.isDone('job-1')).toBe(true);
    expect(await ledger.isDone('job-2')).toBe(false);
    expect(table.mock).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: 'done#job-1' },
      ConsistentRead: true,
    });
    time.advance(601 * 1000);
    expect(await ledger.isDone('job-1')).toBe(false);
  });

  it('keeps the quota pause until it ends, and clears it', async () => {
    const time = movableClock();
    const ledger = new DynamoLedger({ doc, tableName: TABLE, clock: time.clock });
    expect(await ledger.getQuotaPause()).toBeUndefined();
    await ledger.setQuotaPause(T0 + 90_000);
    expect(await ledger.getQuotaPause()).toBe(T0 + 90_000);
    expect(table.items.get('quota#pause')!.expiresAt).toBe(Math.ceil((T0 + 90_000) / 1000));

    time.advance(90_000);
    expect(await ledger.getQuotaPause()).toBeUndefined();

    await ledger.setQuotaPause(T0 + 200_000);
    await ledger.setQuotaPause(undefined);
    expect(table.items.has('quota#pause')).toBe(false);
    expect(await ledger.getQuotaPause()).toBeUndefined();
  });

  it("keeps a job's work and its playbook answer (gzip) until their TTL, read strongly consistent", async () => {
    const time = movableClock();
    const ledger = new DynamoLedger({ doc, tableName: TABLE, clock: time.clock });
    expect(await ledger.getJobWork('job-1')).toBeUndefined();
    await ledger.putJobWork('job-1', 'work-a', 3600);
    const answer = JSON.stringify({ bundle: 'x'.repeat(5000) });
    await ledger.putStepAnswer('job-1', answer, 60);
    expect(table.items.get('work#job-1')).toMatchObject({ workId: 'work-a', expiresAt: T0 / 1000 + 3600 });
    const data = table.items.get('answer#job-1')!.data as Uint8Array;
    expect(data.byteLength).toBeLessThan(answer.length / 10);
    expect(await ledger.getJobWork('job-1')).toBe('work-a');
    expect(await ledger.getStepAnswer('job-1')).toBe(answer);
    expect(table.mock).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: 'work#job-1' },
      ConsistentRead: true,
    });
    expect(table.mock).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: 'answer#job-1' },
      ConsistentRead: true,
    });

    time.advance(60_000);
    expect(await ledger.getStepAnswer('job-1')).toBeUndefined();
    time.advance(3_540_000);
    expect(await ledger.getJobWork('job-1')).toBeUndefined();
  });

  it('ignores a damaged kept answer and skips one too large for an item', async () => {
    table.items.set('answer#bad', { pk: 'answer#bad', data: new Uint8Array([1, 2, 3]), expiresAt: 9e9 });
    const ledger = new DynamoLedger({ doc, tableName: TABLE });
    expect(await ledger.getStepAnswer('bad')).toBeUndefined();
    await ledger.putStepAnswer('huge', randomBytes(400 * 1024).toString('base64'), 60);
    expect(table.items.has('answer#huge')).toBe(false);
  });

  it('ignores a damaged cache entry', async () => {
    table.items.set('intel#ip:bad', {
      pk: 'intel#ip:bad',
      data: new Uint8Array([1, 2, 3]),
      fetchedAt: 'x',
      expiresAt: 9e9,
    });
    const ledger = new DynamoLedger({ doc, tableName: TABLE });
    expect(await ledger.getIntel('ip:bad')).toBeUndefined();
  });
});

describe('DynamoLease', () => {
  it('gives a free lease to one holder only, until it expires', async () => {
    const time = movableClock();
    const lease = new DynamoLease({ doc, tableName: TABLE, clock: time.clock });
    expect(await lease.tryAcquire('cip#0', 'a', 30_000)).toBe(true);
    expect(await lease.tryAcquire('cip#0', 'b', 30_000)).toBe(false);
    // The holder may renew its own lease.
    expect(await lease.tryAcquire('cip#0', 'a', 30_000)).toBe(true);

    time.advance(30_001);
    expect(await lease.tryAcquire('cip#0', 'b', 30_000)).toBe(true);
  });

  it('releases only a lease still held', async () => {
    const time = movableClock();
    const lease = new DynamoLease({ doc, tableName: TABLE, clock: time.clock });
    await lease.tryAcquire('cip#0', 'a', 1000);
    time.advance(1001);
    await lease.tryAcquire('cip#0', 'b', 1000);
    // 'a' lost the lease by expiry: its release must not free b's slot.
    await lease.release('cip#0', 'a');
    expect(table.items.get('lease#cip#0')!.holder).toBe('b');
    await lease.release('cip#0', 'b');
    expect(table.items.has('lease#cip#0')).toBe(false);
  });
});

describe('LeaseCallSlots over DynamoLease', () => {
  it('runs calls one at a time across two instances sharing the table', async () => {
    const lease = new DynamoLease({ doc, tableName: TABLE });
    const options = {
      lease,
      slots: 1,
      holdMs: 60_000,
      waitMs: 5000,
      pollMs: 1,
      sleep: () => new Promise<void>((r) => setImmediate(r)),
    };
    const instanceA = new LeaseCallSlots(options);
    const instanceB = new LeaseCallSlots(options);
    let inFlight = 0;
    let maxInFlight = 0;
    const call = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    };
    await Promise.all([instanceA.run(call), instanceB.run(call), instanceA.run(call), instanceB.run(call)]);
    expect(maxInFlight).toBe(1);
    expect(table.items.has('lease#criminalip#0')).toBe(false);
  });

  it('frees the slot when the call throws', async () => {
    const slots = new LeaseCallSlots({
      lease: new DynamoLease({ doc, tableName: TABLE }),
      slots: 1,
      holdMs: 60_000,
      waitMs: 0,
    });
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(table.items.size).toBe(0);
  });

  it('gives up with CallSlotBusyError when every slot stays taken', async () => {
    const time = movableClock();
    const lease = new DynamoLease({ doc, tableName: TABLE, clock: time.clock });
    await lease.tryAcquire('criminalip#0', 'other-instance', 600_000);
    await lease.tryAcquire('criminalip#1', 'other-instance', 600_000);
    const slots = new LeaseCallSlots({
      lease,
      slots: 2,
      holdMs: 60_000,
      waitMs: 1000,
      clock: time.clock,
      sleep: async (ms) => void time.advance(ms),
    });
    const fn = jest.fn(async () => 'never');
    await expect(slots.run(fn)).rejects.toThrow(CallSlotBusyError);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('DynamoLedger: what the connector wrote', () => {
  it('remembers the last write per observable, read strongly consistent', async () => {
    const ledger = new DynamoLedger({ doc, tableName: TABLE, clock: movableClock().clock });
    expect(await ledger.getWritten('ipv4-addr--1')).toBeUndefined();
    const value = {
      score: 95,
      stateLabels: ['inbound: critical'],
      indicator: { id: 'indicator--1', validFrom: 'x' },
      at: 'a',
    };
    await ledger.putWritten('ipv4-addr--1', value);
    expect(await ledger.getWritten('ipv4-addr--1')).toEqual(value);
    expect(table.mock).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: 'written#ipv4-addr--1' },
      ConsistentRead: true,
    });
  });
});

describe('DynamoLedger: Criminal IP spend per day and month', () => {
  const DEC_3 = { month: '2026-12', day: '2026-12-03' };

  it('keeps the month and its days on one item, updated under one condition', async () => {
    const ledger = new DynamoLedger({ doc, tableName: TABLE });
    expect(await ledger.readSpend(DEC_3)).toEqual({ day: 0, month: 0 });
    expect(await ledger.addSpend(DEC_3, 2, { day: 3, month: 100 })).toBe(true);
    expect(await ledger.addSpend({ month: '2026-12', day: '2026-12-04' }, 4, {})).toBe(true);
    expect(await ledger.addSpend(DEC_3, 2, { day: 3, month: 100 })).toBe(false);
    expect(await ledger.readSpend(DEC_3)).toEqual({ day: 2, month: 6 });
    expect(table.items.get('spend#2026-12')).toMatchObject({
      month: 6,
      'd2026-12-03': 2,
      'd2026-12-04': 4,
      // Kept a month after December ends: 2027-01-01 + 31 days.
      expiresAt: Date.parse('2027-02-01T00:00:00.000Z') / 1000,
    });
    const update = table.mock.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update.ConditionExpression).toBe(
      '(attribute_not_exists(#m) OR #m <= :monthMax) AND (attribute_not_exists(#d) OR #d <= :dayMax)',
    );
    // A limit smaller than the calls asked for is refused without a write.
    expect(await ledger.addSpend(DEC_3, 5, { day: 4 })).toBe(false);
    expect(table.mock.commandCalls(UpdateCommand)).toHaveLength(3);
  });

  it('never passes a limit under many concurrent spenders', async () => {
    const consumers = [1, 2, 3].map(() => new DynamoLedger({ doc, tableName: TABLE }));
    const attempts = consumers.flatMap((ledger) =>
      Array.from({ length: 20 }, () => ledger.addSpend(DEC_3, 1, { day: 30, month: 45 })),
    );
    const granted = (await Promise.all(attempts)).filter(Boolean).length;
    expect(granted).toBe(30);
    expect(await consumers[0]!.readSpend(DEC_3)).toEqual({ day: 30, month: 30 });
  });
});
