/**
 * `criminalip-opencti demo`: the whole product, offline, in well under a minute, with no account
 * and no credentials. It starts the Criminal IP and OpenCTI stand-ins on loopback and the local
 * runtime pointing at them, then does what OpenCTI does when an analyst clicks "Enrich": creates a
 * work and POSTs the listen message to the connector's callback. Once OpenCTI (the stand-in) has
 * every work processed, it prints what was written, writes each pushed bundle to out/demo/, and
 * checks that the TLP:RED observable never reached Criminal IP.
 *
 * The OpenCTI stand-in plays the latest 7.x by default: its "worker" signs every callback with
 * the platform's Ed25519 key (a fresh one per run) and the connector verifies the JWT with the
 * JWKS its registration stored, as on a real 7.x platform. OPENCTI_VERSION=6.9.17 (or the LTS,
 * 7.260309.0-lts.7) plays that platform instead; 6.9 sends the connector token.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type TlpLevel } from '../config';
import { DEMO_OBSERVABLES, startCriminalIpStandIn, type CriminalIpStandIn } from '../standins/criminalip';
import { hasConnectorJwks, parsePlatformVersion } from '../opencti/platform-version';
import {
  STAND_IN_PLATFORMS,
  startOpenCtiStandIn,
  type OpenCtiStandIn,
  type StandInPlatform,
} from '../standins/opencti';
import { danglingRefs } from '../stix/bundle';
import type { StixBundle, StixObject, ObservableStixType } from '../stix/core';
import { observableId } from '../stix/ids';
import { createConsoleLog, logFormatFrom } from './console-log';
import { describeJob, type JobReport } from './consumer';
import { listenMessage } from './demo-messages';
import { startRuntime, type Runtime } from './runtime';

/** The demo's connector id in the OpenCTI stand-in. */
export const DEMO_CONNECTOR_ID = 'c1e2d3f4-0a1b-4c2d-8e3f-5a6b7c8d9e0f';
/** TLP of the demo observables that are not marked otherwise. */
const DEFAULT_TLP: TlpLevel = 'TLP:GREEN';
/** The OpenCTI the demo plays unless OPENCTI_VERSION says otherwise: the latest 7.x. */
export const DEMO_DEFAULT_PLATFORM: StandInPlatform = '7.260817.0';
/** How long the demo waits for the first ping to record the platform (version, 7.x JWKS). */
const PLATFORM_WAIT_MS = 15_000;

export class DemoVersionError extends Error {
  constructor(raw: string) {
    super(
      `OPENCTI_VERSION="${raw.slice(0, 40)}": the demo's OpenCTI stand-in plays ${STAND_IN_PLATFORMS.join(', ')} (default ${DEMO_DEFAULT_PLATFORM}). Set one of them, or unset it.`,
    );
    this.name = 'DemoVersionError';
  }
}

/** The stand-in platform the demo plays: OPENCTI_VERSION if set, else the latest 7.x. */
export function demoPlatform(env: Record<string, string | undefined>): StandInPlatform {
  const raw = env.OPENCTI_VERSION?.trim();
  if (!raw) return DEMO_DEFAULT_PLATFORM;
  const platform = STAND_IN_PLATFORMS.find((p) => p === raw);
  if (!platform) throw new DemoVersionError(raw);
  return platform;
}

type Env = Record<string, string | undefined>;

export interface DemoOptions {
  /** Where bundles are written (default ./out/demo). */
  outDir?: string;
  /** The demo's own output: progress and the summary table (default stdout). */
  print?: (line: string) => void;
  /** Log lines of the runtime (default stderr). */
  logLine?: (line: string) => void;
  /** LOG_LEVEL, LOG_FORMAT and OPENCTI_VERSION (demoPlatform) are honoured; nothing else is read. */
  env?: Env;
  /** Give up waiting for the works after this long (default 45 s). */
  timeoutMs?: number;
}

export interface DemoRow {
  type: ObservableStixType;
  value: string;
  tlp: TlpLevel;
  workId: string;
  /** The OpenCTI work's final state. */
  workStatus: string;
  workMessage: string | undefined;
  score: number | undefined;
  labels: string[];
  entities: number;
  relationships: number;
  /** Criminal IP calls made for it (every delivery of its job). */
  criminalIpCalls: number;
  outcome: string;
  /** The bundle file written, relative to the current folder. */
  file: string | undefined;
}

/** One POST to the connector's callback, as the stand-in's worker made it. */
export interface DemoCallback {
  value: string;
  status: number;
  /** What followed `Bearer`: a platform-signed JWT (7.x) or the connector token (6.9). */
  credential: 'platform JWT' | 'connector token';
}

export interface DemoResult {
  ok: boolean;
  /** The OpenCTI the stand-in played. */
  platform: StandInPlatform;
  callbacks: DemoCallback[];
  rows: DemoRow[];
  /** What went wrong, one sentence each (empty when ok). */
  problems: string[];
  outDir: string;
  files: string[];
  /** Every request the Criminal IP stand-in received (path and parameters), in order. */
  criminalIpRequests: Array<{ path: string; query: Record<string, string>; form?: Record<string, string> }>;
}

/** A file name for an observable: letters, digits, dots and hyphens only. */
export function safeFileName(type: string, value: string): string {
  const base = `${type}_${value}`.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^[._]+/, '');
  return `${base.slice(0, 150)}.json`;
}

const seven = (platform: StandInPlatform) => hasConnectorJwks(parsePlatformVersion(platform));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Criminal IP stand-in calls that carry `value` in their query or form. */
function callsNaming(cip: CriminalIpStandIn, value: string): number {
  return cip.calls.filter((call) =>
    [...Object.values(call.query), ...Object.values(call.form ?? {})].some((v) => v.includes(value)),
  ).length;
}

interface Sent {
  type: ObservableStixType;
  value: string;
  tlp: TlpLevel;
  workId: string;
}

function rowFor(
  sent: Sent,
  octi: OpenCtiStandIn,
  reports: JobReport[],
): Omit<DemoRow, 'file'> & { bundle?: StixBundle } {
  const work = octi.works().get(sent.workId);
  const pushes = octi.pushes().filter((push) => push.workId === sent.workId);
  const bundle = pushes[pushes.length - 1]?.bundle;
  const id = observableId(sent.type, sent.value);
  const self: StixObject | undefined = bundle?.objects.find((o) => o.id === id);
  const author = typeof self?.created_by_ref === 'string' ? self.created_by_ref : undefined;
  const others =
    bundle?.objects.filter((o) => o.id !== id && o.id !== author && o.type !== 'marking-definition') ?? [];
  const mine = reports.filter((r) => r.observable?.type === sent.type && r.observable.value === sent.value);
  const final = [...mine].reverse().find((r) => r.outcome !== 'retry-later') ?? mine[mine.length - 1];
  const reason = typeof final?.detail.reason === 'string' ? ` (${final.detail.reason})` : '';
  return {
    ...sent,
    workStatus: work?.status ?? 'unknown',
    workMessage: work?.messages[work.messages.length - 1],
    score: typeof self?.x_opencti_score === 'number' ? self.x_opencti_score : undefined,
    labels: Array.isArray(self?.labels) ? (self.labels as unknown[]).map(String) : [],
    entities: others.filter((o) => o.type !== 'relationship').length,
    relationships: others.filter((o) => o.type === 'relationship').length,
    criminalIpCalls: mine.reduce((sum, r) => sum + r.calls, 0),
    outcome: final ? `${final.outcome}${final.outcome === 'written' ? '' : reason}` : 'no answer',
    ...(bundle ? { bundle } : {}),
  };
}

/** A path as the user would type it: relative when under the current folder. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The summary table, one row per observable. */
export function summaryTable(rows: readonly DemoRow[]): string[] {
  const header = ['Type', 'Value', 'TLP', 'Score', 'Labels', 'Entities', 'Rels', 'CIP calls', 'Outcome'];
  const cells = rows.map((r) => [
    r.type,
    clip(r.value, 44),
    r.tlp,
    r.score === undefined ? '-' : String(r.score),
    clip(r.labels.join(', ') || '-', 42),
    String(r.entities),
    String(r.relationships),
    String(r.criminalIpCalls),
    r.outcome,
  ]);
  const numeric = new Set([3, 5, 6, 7]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = options.env ?? process.env;
  const outDir = path.resolve(options.outDir ?? path.join('out', 'demo'));
  const timeoutMs = options.timeoutMs ?? 45_000;
  const started = Date.now();
  const problems: string[] = [];
  const reports: JobReport[] = [];
  let jobLines: string[] | undefined = [];
  const platform = demoPlatform(env);
  const callbacks: DemoCallback[] = [];

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'criminalip-opencti-demo-'));
  let cip: CriminalIpStandIn | undefined;
  let octi: OpenCtiStandIn | undefined;
  let runtime: Runtime | undefined;
  try {
    print('Starting the Criminal IP and OpenCTI stand-ins on 127.0.0.1 and the local runtime...');
    cip = await startCriminalIpStandIn();
    octi = await startOpenCtiStandIn({ platform });
    const config = loadConfig({
      CRIMINALIP_API_KEY: cip.apiKey,
      CRIMINALIP_API_URL: cip.url,
      OPENCTI_URL: octi.url,
      OPENCTI_TOKEN: octi.token,
      CONNECTOR_ID: DEMO_CONNECTOR_ID,
      CONNECTOR_NAME: 'Criminal IP (demo)',
      WEBHOOK_TOKEN: randomUUID(),
      PORT: '0',
      DATA_DIR: dataDir,
      // Scans in the stand-in finish after a few polls: poll every second rather than every 15.
      CRIMINALIP_SCAN_POLL_SECONDS: '1',
      // Only warnings from the runtime: the demo prints each job's line itself.
      LOG_LEVEL: env.LOG_LEVEL ?? 'WARN',
    });
    const logFormat = logFormatFrom(env);
    runtime = await startRuntime(config, {
      settings: { reenrichIntervalMinutes: 0, logFormat },
      log: createConsoleLog({
        level: config.logLevel,
        format: logFormat,
        ...(options.logLine ? { write: options.logLine } : {}),
      }),
      idlePollMs: 250,
      onJob: (report) => {
        reports.push(report);
        // Held back while the messages are being sent, so that the two lists do not interleave.
        if (jobLines) jobLines.push(`  ${describeJob(report)}`);
        else print(`  ${describeJob(report)}`);
      },
    });

    // The first ping registers the connector and records the platform; on 7.x that stores the
    // JWKS the callbacks are verified with (until then they would get 503).
    const ledger = runtime.ledger;
    const recordBy = Date.now() + PLATFORM_WAIT_MS;
    let record = await ledger.getPlatform();
    while (!(record && (!seven(platform) || record.jwks)) && Date.now() < recordBy) {
      await sleep(50);
      record = await ledger.getPlatform();
    }
    if (!record) problems.push('the connector did not register with the OpenCTI stand-in');
    print(
      seven(platform)
        ? `OpenCTI stand-in plays ${platform}: its worker signs each callback with the platform's Ed25519 key (a JWT), the connector verifies it with the JWKS its registration stored.`
        : `OpenCTI stand-in plays ${platform}: its worker sends the connector token on each callback.`,
    );
    print(
      `Runtime on ${runtime.url}. Sending ${DEMO_OBSERVABLES.length} OpenCTI listen messages to POST /opencti/callback:`,
    );
    const sent: Sent[] = [];
    for (const demo of DEMO_OBSERVABLES) {
      const tlp: TlpLevel = demo.tlp ?? DEFAULT_TLP;
      const workId = octi.createWork(
        DEMO_CONNECTOR_ID,
        `Enrichment (${observableId(demo.type, demo.value)})`,
      );
      const credential = await octi.callbackCredential();
      const response = await fetch(`${runtime.url}/opencti/callback`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${credential}`,
          'content-type': 'application/json',
          'user-agent': `pycti/${platform}`,
        },
        body: JSON.stringify(
          listenMessage({
            workId,
            type: demo.type,
            value: demo.value,
            tlp,
            ...(demo.mode === 'auto' ? { mode: 'auto', trigger: 'create' } : {}),
          }),
        ),
      });
      const answer = await response.text();
      print(`  ${response.status} ${demo.type} ${demo.value} (${tlp}): ${demo.description}`);
      callbacks.push({
        value: demo.value,
        status: response.status,
        // What was sent, not what the platform should send: a 7.x run that fell back to the token shows.
        credential: credential === octi.token ? 'connector token' : 'platform JWT',
      });
      if (response.status !== 202)
        problems.push(`the callback answered ${response.status} for ${demo.value}: ${answer}`);
      sent.push({ type: demo.type, value: demo.value, tlp, workId });
    }

    print('Jobs (domain and URL scans are polled every second):');
    for (const line of jobLines) print(line);
    jobLines = undefined;
    const deadline = Date.now() + timeoutMs;
    const pending = () => sent.filter((s) => octi!.works().get(s.workId)?.status !== 'complete');
    while (pending().length > 0 && Date.now() < deadline) await sleep(100);
    const late = pending();
    if (late.length > 0) {
      problems.push(
        `OpenCTI works still open after ${Math.round(timeoutMs / 1000)} s: ${late.map((s) => s.value).join(', ')}`,
      );
    }

    await mkdir(outDir, { recursive: true });
    const rows: DemoRow[] = [];
    const files: string[] = [];
    for (const s of sent) {
      const { bundle, ...row } = rowFor(s, octi, reports);
      let file: string | undefined;
      if (bundle) {
        file = path.join(outDir, safeFileName(s.type, s.value));
        await writeFile(file, `${JSON.stringify(bundle, null, 2)}\n`);
        files.push(file);
        const dangling = danglingRefs(bundle);
        if (dangling.length > 0)
          problems.push(`the bundle for ${s.value} references unknown objects: ${dangling.join(', ')}`);
      }
      rows.push({ ...row, file: file && shown(file) });
      const work = octi.works().get(s.workId);
      if (work?.inError)
        problems.push(`the OpenCTI work for ${s.value} ended in error: ${row.workMessage ?? ''}`);
      if (s.tlp !== 'TLP:RED' && !bundle) problems.push(`nothing was pushed to OpenCTI for ${s.value}`);
    }

    print('');
    for (const line of summaryTable(rows)) print(line);
    print('');

    for (const s of sent.filter((x) => x.tlp === 'TLP:RED')) {
      const reached = callsNaming(cip, s.value);
      const row = rows.find((r) => r.workId === s.workId);
      if (reached > 0 || (row?.criminalIpCalls ?? 0) > 0) {
        problems.push(`${s.value} is marked TLP:RED but ${reached} call(s) naming it reached Criminal IP`);
      } else if (row) {
        print(
          `TLP:RED ${s.type} ${s.value}: 0 calls reached the Criminal IP stand-in; OpenCTI's work says "${row.workMessage ?? ''}".`,
        );
      }
    }
    const stats = cip.stats();
    const works = sent.filter((s) => octi!.works().get(s.workId)?.status === 'complete').length;
    print(
      `Criminal IP stand-in: ${stats.calls} calls, ${stats.creditsUsed} credits. OpenCTI stand-in: ${works} of ${sent.length} works processed, ${octi.pushes().length} bundles pushed.`,
    );
    print(`Bundles written to ${shown(outDir)}${path.sep} (${files.length} files).`);
    print(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (problems.length === 0) {
      print(
        'Next: run it against your own Criminal IP key and OpenCTI with `npm start` (README: Run locally).',
      );
    }
    const criminalIpRequests = cip.calls.map((call) => ({
      path: call.path,
      query: { ...call.query },
      ...(call.form ? { form: { ...call.form } } : {}),
    }));
    return {
      ok: problems.length === 0,
      platform,
      callbacks,
      rows,
      problems,
      outDir,
      files,
      criminalIpRequests,
    };
  } finally {
    await runtime?.stop({ graceMs: 2_000 }).catch(() => undefined);
    await cip?.close().catch(() => undefined);
    await octi?.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
