import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LocalLedger, newLeaseHolder } from '../../lib/local/ledger';
import { LocalQueue } from '../../lib/local/queue';
import { LocalStoreError } from '../../lib/local/sqlite';
import type { CachedIntel } from '../../lib/pipeline/ports';
import { ManualClock } from '../helpers/manual-clock';

const ROOT = path.resolve(__dirname, '../..');

let clock: ManualClock;
let dir: string;
let file: string;
const open: Array<{ close(): void }> = [];

function ledger(location = file): LocalLedger {
  const opened = new LocalLedger({ location, clock });
  open.push(opened);
  return opened;
}

function intel(ip: string): CachedIntel {
  return {
    intel: { kind: 'ip', report: { ip, score: { inbound: 'Critical' } } },
    fetchedAt: '2025-06-01T12:00:00.000Z',
  };
}

function rowCount(table: string): number {
  const db = new DatabaseSync(file);
  try {
    return Number(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n);
  } finally {
    db.close();
  }
}

beforeEach(() => {
  clock = new ManualClock();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-ledger-'));
  file = path.join(dir, 'state.db');
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('LocalLedger: intel cache', () => {
  it('returns a cached answer until its TTL ends, then nothing', async () => {
    const store = ledger();
    expect(await store.getIntel('ip:1.2.3.4')).toBeUndefined();
    await store.putIntel('ip:1.2.3.4', intel('1.2.3.4'), 60);
    expect(await store.getIntel('ip:1.2.3.4')).toEqual(intel('1.2.3.4'));
    clock.advance(59);
    expect(await store.getIntel('ip:1.2.3.4')).toEqual(intel('1.2.3.4'));
    clock.advance(1);
    expect(await store.getIntel('ip:1.2.3.4')).toBeUndefined();
  });

  it('replaces the value and the TTL on a second put', async () => {
    const store = ledger();
    await store.putIntel('ip:1.2.3.4', intel('1.2.3.4'), 10);
    clock.advance(5);
    await store.putIntel('ip:1.2.3.4', intel('5.6.7.8'), 60);
    clock.advance(30);
    expect(await store.getIntel('ip:1.2.3.4')).toEqual(intel('5.6.7.8'));
  });

  it('never serves an entry stored with a zero TTL', async () => {
    const store = ledger();
    await store.putIntel('ip:1.2.3.4', intel('1.2.3.4'), 0);
    expect(await store.getIntel('ip:1.2.3.4')).toBeUndefined();
    await expect(store.putIntel('ip:1.2.3.4', intel('1.2.3.4'), -1)).rejects.toThrow(RangeError);
  });

  it('deletes expired rows lazily, when read and on later writes', async () => {
    const store = ledger();
    await store.putIntel('old-1', intel('1.1.1.1'), 10);
    await store.putIntel('old-2', intel('2.2.2.2'), 10);
    await store.putIntel('keeps', intel('3.3.3.3'), 1000);
    clock.advance(10);
    expect(rowCount('ledger_intel')).toBe(3);
    expect(await store.getIntel('old-1')).toBeUndefined();
    expect(rowCount('ledger_intel')).toBe(2);
    await store.putIntel('new', intel('4.4.4.4'), 1000);
    expect(rowCount('ledger_intel')).toBe(2);
    expect(await store.getIntel('keeps')).toEqual(intel('3.3.3.3'));
  });
});

describe('LocalLedger: finished jobs', () => {
  it('remembers a finished job for its TTL', async () => {
    const store = ledger();
    expect(await store.isDone('job-1')).toBe(false);
    await store.markDone('job-1', 3600);
    expect(await store.isDone('job-1')).toBe(true);
    expect(await store.isDone('job-2')).toBe(false);
    clock.advance(3600);
    expect(await store.isDone('job-1')).toBe(false);
  });

  it('is seen by another instance on the same file and survives a reopen', async () => {
    const first = ledger();
    await first.markDone('job-1', 3600);
    expect(await ledger().isDone('job-1')).toBe(true);
    first.close();
    expect(await ledger().isDone('job-1')).toBe(true);
  });

  it('extends the mark when a job is marked done again', async () => {
    const store = ledger();
    await store.markDone('job-1', 60);
    clock.advance(50);
    await store.markDone('job-1', 60);
    clock.advance(50);
    expect(await store.isDone('job-1')).toBe(true);
  });
});

describe("LocalLedger: jobs' records", () => {
  it('keeps the work a job opened and its playbook answer for their TTL, apart from each other', async () => {
    const store = ledger();
    expect(await store.getJobWork('job-1')).toBeUndefined();
    await store.putJobWork('job-1', 'work-a', 3600);
    await store.putStepAnswer('job-1', '{"bundle":"..."}', 60);
    expect(await store.getJobWork('job-1')).toBe('work-a');
    expect(await store.getStepAnswer('job-1')).toBe('{"bundle":"..."}');
    expect(await store.getJobWork('job-2')).toBeUndefined();
    // Another instance on the same file (the next delivery, another process) sees them.
    expect(await ledger().getJobWork('job-1')).toBe('work-a');
    clock.advance(60);
    expect(await store.getStepAnswer('job-1')).toBeUndefined();
    expect(await store.getJobWork('job-1')).toBe('work-a');
    clock.advance(3540);
    expect(await store.getJobWork('job-1')).toBeUndefined();
    await store.putJobWork('job-3', 'work-c', 60);
    expect(rowCount('ledger_job_records')).toBe(1); // expired rows go on later writes
  });

  it('adds its table to a file created before it existed, keeping what the file holds', async () => {
    const old = new DatabaseSync(file);
    old.exec(`CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);`);
    old.close();
    const first = ledger();
    await first.markDone('job-1', 3600);
    first.close();
    const db = new DatabaseSync(file);
    db.exec(
      "DROP TABLE ledger_job_records; DELETE FROM schema_versions WHERE component = 'ledger-job-records'",
    );
    db.close();
    const reopened = ledger();
    expect(await reopened.isDone('job-1')).toBe(true);
    await reopened.putJobWork('job-1', 'work-a', 60);
    expect(await reopened.getJobWork('job-1')).toBe('work-a');
  });
});

describe('LocalLedger: quota pause', () => {
  it('keeps the pause across a reopen until it ends, and clears it on request', async () => {
    const until = clock.ms + 60_000;
    const before = ledger();
    expect(await before.getQuotaPause()).toBeUndefined();
    await before.setQuotaPause(until);
    before.close();

    const after = ledger();
    expect(await after.getQuotaPause()).toBe(until);
    clock.advance(60);
    expect(await after.getQuotaPause()).toBeUndefined();

    await after.setQuotaPause(clock.ms + 30_000);
    await after.setQuotaPause(undefined);
    expect(await after.getQuotaPause()).toBeUndefined();
  });
});

describe('LocalLedger: call lease', () => {
  it('lets one holder at a time take the lease across two instances on one file', async () => {
    const one = ledger();
    const two = ledger();
    expect(await one.acquireLease('criminalip-call', 'a', 10_000)).toBe(true);
    expect(await two.acquireLease('criminalip-call', 'b', 10_000)).toBe(false);
    expect(await one.acquireLease('criminalip-call', 'a', 10_000)).toBe(true);
    expect(await two.acquireLease('other-slot', 'b', 10_000)).toBe(true);

    expect(await two.releaseLease('criminalip-call', 'b')).toBe(false);
    expect(await two.acquireLease('criminalip-call', 'b', 10_000)).toBe(false);
    expect(await one.releaseLease('criminalip-call', 'a')).toBe(true);
    expect(await two.acquireLease('criminalip-call', 'b', 10_000)).toBe(true);
  });

  it('frees the lease of a holder that did not release it once its TTL ends', async () => {
    const crashed = ledger();
    const survivor = ledger();
    expect(await crashed.acquireLease('criminalip-call', 'a', 5_000)).toBe(true);
    clock.advance(4.999);
    expect(await survivor.acquireLease('criminalip-call', 'b', 5_000)).toBe(false);
    clock.advance(0.001);
    expect(await survivor.acquireLease('criminalip-call', 'b', 5_000)).toBe(true);
    expect(await crashed.releaseLease('criminalip-call', 'a')).toBe(false);
    expect(await crashed.acquireLease('criminalip-call', 'a', 5_000)).toBe(false);
  });

  it('gives unique holder ids', () => {
    expect(newLeaseHolder()).not.toBe(newLeaseHolder());
  });

  it('keeps two processes from ever holding the lease at the same time', async () => {
    ledger();
    const log = path.join(dir, 'critical-sections.log');
    await Promise.all([contendForLease(file, log, 'p1', 25), contendForLease(file, log, 'p2', 25)]);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(100);
    // Every "enter" is followed by the same holder's "exit": no two holders ever inside at once.
    for (let i = 0; i < lines.length; i += 2) {
      const [holder, step] = lines[i]!.split(' ');
      expect(step).toBe('enter');
      expect(lines[i + 1]).toBe(`${holder} exit`);
    }
    expect(new Set(lines.map((line) => line.split(' ')[0]))).toEqual(new Set(['p1', 'p2']));
  });
});

describe('local state file', () => {
  it('holds the queue and the ledger side by side', async () => {
    const queue = new LocalQueue({ location: file, maxReceiveCount: 3, clock });
    open.push(queue);
    const store = ledger();
    queue.send(['job']);
    await store.markDone('job-1', 60);
    expect(queue.receive(1, 30).map((m) => m.body)).toEqual(['job']);
    expect(await store.isDone('job-1')).toBe(true);
  });

  it('refuses a file whose ledger schema is newer than this program', () => {
    ledger().close();
    const db = new DatabaseSync(file);
    db.exec("UPDATE schema_versions SET version = 99 WHERE component = 'ledger'");
    db.close();
    expect(() => ledger()).toThrow(LocalStoreError);
    expect(() => ledger()).toThrow(/ledger schema \(version 99\) is newer than this program/);
  });

  it('says which file it cannot create', () => {
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, '');
    expect(() => ledger(path.join(blocker, 'state.db'))).toThrow(
      /Cannot use the local state database .*not-a-folder/,
    );
  });
});

/**
 * A separate process that takes the lease `rounds` times, writing "enter" and "exit" lines to
 * `log` while it holds it. It starts at once; the parent starts two.
 */
function contendForLease(dbFile: string, log: string, holder: string, rounds: number): Promise<void> {
  const script = `
    require('tsx/cjs');
    const fs = require('node:fs');
    const { LocalLedger } = require(${JSON.stringify(path.join(ROOT, 'lib/local/ledger.ts'))});
    const ledger = new LocalLedger({ location: ${JSON.stringify(dbFile)} });
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const holder = ${JSON.stringify(holder)};
    (async () => {
      for (let round = 0; round < ${rounds}; round += 1) {
        while (!(await ledger.acquireLease('criminalip-call', holder, 30000))) Atomics.wait(pause, 0, 0, 1);
        fs.appendFileSync(${JSON.stringify(log)}, holder + ' enter\\n');
        Atomics.wait(pause, 0, 0, 2); // a call in progress
        fs.appendFileSync(${JSON.stringify(log)}, holder + ' exit\\n');
        if (!(await ledger.releaseLease('criminalip-call', holder))) throw new Error('lease lost');
        Atomics.wait(pause, 0, 0, 1);
      }
      ledger.close();
    })().catch((error) => { console.error(error); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${holder} exited with ${code}: ${stderr}`)),
    );
  });
}

describe('LocalLedger: what the connector wrote', () => {
  it('remembers the last write per observable, across reopenings, without expiry', async () => {
    const first = ledger();
    expect(await first.getWritten('ipv4-addr--1')).toBeUndefined();
    await first.putWritten('ipv4-addr--1', { score: 95, stateLabels: ['inbound: critical'], at: 'a' });
    await first.putWritten('ipv4-addr--1', { score: 10, stateLabels: [], at: 'b' });
    first.close();
    clock.advance(400 * 86_400);
    expect(await ledger().getWritten('ipv4-addr--1')).toEqual({ score: 10, stateLabels: [], at: 'b' });
  });
});

describe('LocalLedger: Criminal IP spend per day and month', () => {
  const DEC_3 = { month: '2026-12', day: '2026-12-03' };
  const DEC_4 = { month: '2026-12', day: '2026-12-04' };

  it('counts calls in the day and the month, and refuses both when one would pass its limit', async () => {
    const store = ledger();
    expect(await store.readSpend(DEC_3)).toEqual({ day: 0, month: 0 });
    expect(await store.addSpend(DEC_3, 3, {})).toBe(true);
    expect(await store.addSpend(DEC_4, 2, { day: 2, month: 10 })).toBe(true);
    expect(await store.readSpend(DEC_4)).toEqual({ day: 2, month: 5 });
    // The day is full: nothing is added, to the month either.
    expect(await store.addSpend(DEC_4, 1, { day: 2, month: 10 })).toBe(false);
    // The month is full at 5 + 6 > 10: the day is left as it was.
    expect(await store.addSpend({ month: '2026-12', day: '2026-12-05' }, 6, { month: 10 })).toBe(false);
    expect(await store.readSpend({ month: '2026-12', day: '2026-12-05' })).toEqual({ day: 0, month: 5 });
    // A new month starts at zero, and the counts survive a reopening.
    store.close();
    expect(await ledger().readSpend({ month: '2027-01', day: '2027-01-01' })).toEqual({ day: 0, month: 0 });
    expect(await ledger().readSpend(DEC_3)).toEqual({ day: 3, month: 5 });
  });

  it('never passes a limit with two processes spending on one file at once', async () => {
    ledger().close(); // the schema exists before the children race for it
    const spent = await Promise.all([spendInChild(file, 40, 25), spendInChild(file, 40, 25)]);
    // 80 attempts for 25 calls: exactly 25 were granted, whichever process got them.
    expect(spent[0] + spent[1]).toBe(25);
    expect(await ledger().readSpend(DEC_3)).toEqual({ day: 25, month: 25 });
  });
});

/** A separate process that tries `attempts` times to spend one call under a day limit; prints how many it got. */
function spendInChild(dbFile: string, attempts: number, dayLimit: number): Promise<number> {
  const script = `
    require('tsx/cjs');
    const { LocalLedger } = require(${JSON.stringify(path.join(ROOT, 'lib/local/ledger.ts'))});
    const ledger = new LocalLedger({ location: ${JSON.stringify(dbFile)} });
    (async () => {
      let granted = 0;
      for (let i = 0; i < ${attempts}; i += 1) {
        if (await ledger.addSpend({ month: '2026-12', day: '2026-12-03' }, 1, { day: ${dayLimit} })) granted += 1;
      }
      ledger.close();
      process.stdout.write(String(granted));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(Number(stdout)) : reject(new Error(`spender exited with ${code}: ${stderr}`)),
    );
  });
}
