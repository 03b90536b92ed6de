/**
 * `criminalip-opencti enrich ... --dry-run` run as a user runs it (a child process of node),
 * against the Criminal IP stand-in: stdout is nothing but a valid bundle whose observable id is
 * the one OpenCTI computes, and failures end with one line on stderr and the documented code.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import { startCriminalIpStandIn, type CriminalIpStandIn } from '../../lib/standins/criminalip';
import { ID_RULES_6_9, ID_RULES_7_LATEST, softwareIdFor, type IdRules } from '../../lib/stix/id-rules';
import { expectValidBundle } from '../helpers/stix-validator';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'criminalip-opencti.cjs');
const ID_VECTORS = path.resolve(__dirname, '../fixtures/reference/opencti/id-vectors.json');
/** STIX 2.1's namespace for deterministic SCO ids (docs/opencti.md §11.1). */
const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let cip: CriminalIpStandIn;
let cwd: string;

beforeAll(async () => {
  // Scans finish at the first poll, so the domain and URL runs wait one poll (1 s) only.
  cip = await startCriminalIpStandIn({ scanProgress: [100] });
  cwd = await mkdtemp(path.join(os.tmpdir(), 'cip-octi-cli-'));
});

afterAll(async () => {
  await cip.close();
  await rm(cwd, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Only what the test gives: no OpenCTI settings at all, and no .env (cwd is a temp folder).
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const standIn = () => ({
  CRIMINALIP_API_URL: cip.url,
  CRIMINALIP_API_KEY: cip.apiKey,
  CRIMINALIP_SCAN_POLL_SECONDS: '1',
});

/** The id docs/opencti.md gives for an observable in its test-vector table. */
async function documentedId(entityType: string, value: string): Promise<string> {
  const { vectorTable } = JSON.parse(await readFile(ID_VECTORS, 'utf8')) as {
    vectorTable: Record<string, string>;
  };
  const id = vectorTable[`${entityType} ${value}`];
  if (!id) throw new Error(`the id vectors have no entry for ${entityType} ${value}`);
  return id;
}

function bundleOf(run: Run): { type: string; objects: Array<Record<string, unknown>> } {
  expect(run.stderr).not.toMatch(/ERROR/);
  expect(run.status).toBe(0);
  // stdout is the bundle and nothing else.
  return JSON.parse(run.stdout) as { type: string; objects: Array<Record<string, unknown>> };
}

describe('enrich --dry-run', () => {
  it('prints a valid bundle for an IPv4 address with the id OpenCTI computes', async () => {
    const bundle = bundleOf(await cli(['enrich', '8.8.8.8', '--dry-run'], standIn()));
    expectValidBundle(bundle);
    const observable = bundle.objects.find((o) => o.type === 'ipv4-addr' && o.value === '8.8.8.8');
    expect(observable?.id).toBe(await documentedId('IPv4-Addr', '8.8.8.8'));
  });

  it('prints a valid bundle for a domain name with the id OpenCTI computes', async () => {
    const bundle = bundleOf(await cli(['enrich', 'example.com', '--dry-run'], standIn()));
    expectValidBundle(bundle);
    const observable = bundle.objects.find((o) => o.type === 'domain-name' && o.value === 'example.com');
    expect(observable?.id).toBe(await documentedId('Domain-Name', 'example.com'));
  });

  it('prints a valid bundle for a URL, its id the UUIDv5 of {"value": url}', async () => {
    const url = 'https://example.com/login?a=1';
    const bundle = bundleOf(await cli(['enrich', url, '--dry-run'], standIn()));
    expectValidBundle(bundle);
    const observable = bundle.objects.find((o) => o.type === 'url');
    expect(observable?.value).toBe(url);
    expect(observable?.id).toBe(`url--${uuidv5(JSON.stringify({ value: url }), SCO_NAMESPACE)}`);
  });

  it('honours --type (a two-label name enriched as a hostname)', async () => {
    const bundle = bundleOf(
      await cli(['enrich', 'example.com', '--type', 'Hostname', '--dry-run'], standIn()),
    );
    expectValidBundle(bundle);
    expect(bundle.objects.some((o) => o.type === 'hostname' && o.value === 'example.com')).toBe(true);
  });
});

describe('enrich --dry-run: ids of the platform the bundle is for', () => {
  const SERVICES_IP = '64.62.197.76';
  const software = (run: Run) =>
    bundleOf(run)
      .objects.filter((o) => o.type === 'software')
      .map((o) => ({ name: o.name as string, id: o.id as string, version: o.version as string | undefined }));
  const idUnder = (rules: IdRules, s: { name: string; version?: string | undefined }) =>
    softwareIdFor(rules, { name: s.name, ...(s.version ? { version: s.version } : {}) });

  it('follows the latest 7.x rules by default, and OPENCTI_VERSION when set', async () => {
    const latest = software(await cli(['enrich', SERVICES_IP, '--dry-run'], standIn()));
    const lts = software(
      await cli(['enrich', SERVICES_IP, '--dry-run'], { ...standIn(), OPENCTI_VERSION: '7.260309.0-lts.7' }),
    );
    expect(latest.length).toBeGreaterThan(0);
    expect(latest.map((s) => s.id)).toEqual(latest.map((s) => idUnder(ID_RULES_7_LATEST, s)));
    expect(lts.map((s) => s.id)).toEqual(lts.map((s) => idUnder(ID_RULES_6_9, s)));
    expect(lts.map((s) => s.id)).not.toEqual(latest.map((s) => s.id));
  });

  it('exits 2 naming OPENCTI_VERSION when it is no version', async () => {
    const before = cip.calls.length;
    const run = await cli(['enrich', SERVICES_IP, '--dry-run'], { ...standIn(), OPENCTI_VERSION: 'seven' });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/OPENCTI_VERSION must be an OpenCTI version such as 6\.9\.17/);
    expect(cip.calls.length).toBe(before);
  });
});

describe('exit codes', () => {
  const oneLine = (text: string) => text.trim().split('\n');

  it('exits 2 with one line for a value that is no observable, before any call', async () => {
    const before = cip.calls.length;
    const run = await cli(['enrich', 'not a value', '--dry-run'], standIn());
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/white space/);
    expect(cip.calls.length).toBe(before);
  });

  it('exits 2 naming CRIMINALIP_API_KEY when the key is missing', async () => {
    const { CRIMINALIP_API_URL } = standIn();
    const run = await cli(['enrich', '8.8.8.8', '--dry-run'], { CRIMINALIP_API_URL });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('CRIMINALIP_API_KEY');
  });

  it('exits 2 for a private address, which is never sent', async () => {
    const before = cip.calls.length;
    const run = await cli(['enrich', '192.168.1.10', '--dry-run'], standIn());
    expect(run.status).toBe(2);
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(cip.calls.length).toBe(before);
  });

  it('exits 1 with one line when Criminal IP refuses the call, without printing the key', async () => {
    const wrongKey = 'wrong-key-0123456789abcdef';
    const run = await cli(['enrich', '8.8.8.8', '--dry-run'], { ...standIn(), CRIMINALIP_API_KEY: wrongKey });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/API key/);
    expect(run.stderr).not.toContain(wrongKey);
  });

  it('exits 2 for an unknown option or command', async () => {
    expect((await cli(['enrich', '8.8.8.8', '--bogus'])).status).toBe(2);
    expect((await cli(['frobnicate'])).status).toBe(2);
  });
});
