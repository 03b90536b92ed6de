/**
 * The offline demo: it must succeed with no credentials, write a valid bundle per enriched
 * observable, and never send the TLP:RED observable to Criminal IP.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runDemo, safeFileName } from '../../lib/local/demo';
import { DEMO_OBSERVABLES } from '../../lib/standins/criminalip';
import { expectValidBundle } from '../helpers/stix-validator';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'criminalip-opencti.cjs');

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cip-octi-demo-test-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function bundlesIn(dir: string): Promise<Map<string, unknown>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  const bundles = new Map<string, unknown>();
  for (const file of files) bundles.set(file, JSON.parse(await readFile(path.join(dir, file), 'utf8')));
  return bundles;
}

describe('demo', () => {
  it('plays OpenCTI 6.9.17 when OPENCTI_VERSION says so: the worker sends the connector token', async () => {
    const result = await runDemo({
      outDir: path.join(tmp, 'out-6.9'),
      print: () => {},
      logLine: () => {},
      env: { OPENCTI_VERSION: '6.9.17' },
    });
    expect(result.problems).toEqual([]);
    expect(result.platform).toBe('6.9.17');
    expect(result.callbacks).toHaveLength(DEMO_OBSERVABLES.length);
    for (const callback of result.callbacks) {
      expect(callback).toMatchObject({ status: 202, credential: 'connector token' });
    }
  });

  it('enriches every demo observable, writes valid bundles and keeps TLP:RED from Criminal IP', async () => {
    const printed: string[] = [];
    const outDir = path.join(tmp, 'out');
    const result = await runDemo({ outDir, print: (line) => printed.push(line), logLine: () => {}, env: {} });

    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    // By default the demo plays the latest 7.x: every callback carried a platform-signed JWT and was accepted.
    expect(result.platform).toBe('7.260817.0');
    expect(result.callbacks).toHaveLength(DEMO_OBSERVABLES.length);
    for (const callback of result.callbacks)
      expect(callback).toMatchObject({ status: 202, credential: 'platform JWT' });

    const red = DEMO_OBSERVABLES.filter((o) => o.tlp === 'TLP:RED');
    const others = DEMO_OBSERVABLES.filter((o) => o.tlp !== 'TLP:RED');
    expect(red.length).toBeGreaterThan(0);

    const bundles = await bundlesIn(outDir);
    expect([...bundles.keys()].sort()).toEqual(others.map((o) => safeFileName(o.type, o.value)).sort());
    for (const bundle of bundles.values()) expectValidBundle(bundle);

    // The automatic enrichment takes the cheapest path: the quick verdict, one call, no scan.
    const quick = result.rows.find((r) => r.value === 'secure-signin.xyz')!;
    expect(quick).toMatchObject({ criminalIpCalls: 1, outcome: 'written' });
    expect(quick.labels).toContain('quick verdict: malicious');
    const quickBundle = bundles.get(safeFileName('domain-name', 'secure-signin.xyz')) as {
      objects: Array<{ type: string }>;
    };
    expect(quickBundle.objects.some((o) => o.type === 'indicator')).toBe(true);

    for (const observable of red) {
      const named = result.criminalIpRequests.filter((request) =>
        [...Object.values(request.query), ...Object.values(request.form ?? {})].some((v) =>
          v.includes(observable.value),
        ),
      );
      expect(named).toEqual([]);
      const row = result.rows.find((r) => r.value === observable.value)!;
      expect(row).toMatchObject({ criminalIpCalls: 0, workStatus: 'complete', file: undefined });
      expect(row.outcome).toContain('above-max-tlp');
    }
    // The others did reach it, and were scored.
    for (const observable of others) {
      const row = result.rows.find((r) => r.value === observable.value)!;
      expect(row.criminalIpCalls).toBeGreaterThan(0);
      expect(row.outcome).toBe('written');
      expect(row.score).toEqual(expect.any(Number));
    }

    // The summary table names every observable.
    const table = printed.join('\n');
    expect(table).toMatch(/Type\s+Value\s+TLP\s+Score\s+Labels\s+Entities\s+Rels\s+CIP calls\s+Outcome/);
    for (const observable of DEMO_OBSERVABLES) expect(table).toContain(observable.value.slice(0, 40));
  });

  it('runs as `criminalip-opencti demo` with exit status 0 and bundles in out/demo', async () => {
    const run = spawnSync(process.execPath, [BIN, 'demo'], {
      cwd: tmp,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).not.toMatch(/Demo failed/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('0 calls reached the Criminal IP stand-in');
    const bundles = await bundlesIn(path.join(tmp, 'out', 'demo'));
    expect(bundles.size).toBe(DEMO_OBSERVABLES.filter((o) => o.tlp !== 'TLP:RED').length);
    for (const bundle of bundles.values()) expectValidBundle(bundle);
  });
});
