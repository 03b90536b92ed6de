/**
 * 4. Cold start: each function bundle's size (the deployed layout, AWS SDK left to the runtime,
 * and for reference everything bundled), and the time a fresh Node process takes to load it and
 * run its first invocation up to the point where it needs AWS, against the same for a minimal
 * handler bundled the same way. Both run with the deployed NODE_OPTIONS (--enable-source-maps,
 * which makes Node read the source map at load).
 *
 * The first invocation is driven without a SECRET_ARN: every handler imports its AWS wiring
 * lazily on the first event, loads it, then stops at the missing setting. So the time counts all
 * code loading a real cold start does, and no network.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { atMost, type Figure } from './lib/report';
import { biggestInputs, bundle, DEPLOYED_EXTERNALS, ROOT, type BuiltBundle } from './lib/bundles';
import { formatBytes, formatMs, median } from './lib/stats';

const SECTION = '4. Cold start';
const FUNCTIONS = ['ingest', 'enrich', 'schedule'] as const;
const MAX_BYTES = 1024 * 1024;

/** The events that start each function's first invocation. */
const EVENTS: Record<(typeof FUNCTIONS)[number] | 'minimal', unknown> = {
  ingest: {
    httpMethod: 'GET',
    path: '/health',
    resource: '/health',
    headers: {},
    body: null,
    isBase64Encoded: false,
  },
  enrich: { Records: [] },
  schedule: { task: 'ping' },
  minimal: {},
};

/** Runs in the fresh process: load, first invocation, then one JSON line with the timings. */
const PROBE = `
const { performance } = require('node:perf_hooks');
const [file, eventJson] = process.argv.slice(1);
const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 30000 };
const started = performance.now();
const mod = require(file);
const loaded = performance.now();
Promise.resolve()
  .then(() => mod.handler(JSON.parse(eventJson), context))
  .then(() => 'answered', (error) => (error && error.name) || 'error')
  .then((stop) => {
    process.stdout.write('\\n' + JSON.stringify({ requireMs: loaded - started, readyMs: performance.now() - started, stop }) + '\\n');
  });
`;

interface Probe {
  wallMs: number;
  requireMs: number;
  readyMs: number;
  stop: string;
}

function probe(file: string, event: unknown): Probe {
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    ['--enable-source-maps', '-e', PROBE, file, JSON.stringify(event)],
    {
      // As in Lambda: the SDK resolves from the runtime's node_modules (here the project's), and
      // the function has its region but no secret to read.
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: path.join(ROOT, 'node_modules'),
        AWS_REGION: 'eu-west-1',
        POWERTOOLS_LOG_LEVEL: 'CRITICAL',
      },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  const wallMs = performance.now() - started;
  const line = child.stdout.trim().split('\n').pop() ?? '';
  let parsed: Omit<Probe, 'wallMs'>;
  try {
    parsed = JSON.parse(line) as Omit<Probe, 'wallMs'>;
  } catch {
    throw new Error(`loading ${file} failed (exit ${child.status}): ${child.stderr.slice(0, 500)}`);
  }
  return { wallMs, ...parsed };
}

interface LoadTiming {
  ratio: number;
  wallMs: number;
  minimalWallMs: number;
  readyMs: number;
  minimalReadyMs: number;
  stop: string;
}

/** Fresh processes alternating between the bundle and the minimal handler; medians. */
function timeLoad(subject: BuiltBundle, event: unknown, minimal: BuiltBundle, runs: number): LoadTiming {
  probe(subject.file, event); // warms the file cache
  probe(minimal.file, EVENTS.minimal);
  const ours: Probe[] = [];
  const theirs: Probe[] = [];
  for (let run = 0; run < runs; run += 1) {
    ours.push(probe(subject.file, event));
    theirs.push(probe(minimal.file, EVENTS.minimal));
  }
  const wallMs = median(ours.map((p) => p.wallMs));
  const minimalWallMs = median(theirs.map((p) => p.wallMs));
  return {
    ratio: wallMs / minimalWallMs,
    wallMs,
    minimalWallMs,
    readyMs: median(ours.map((p) => p.readyMs)),
    minimalReadyMs: median(theirs.map((p) => p.readyMs)),
    stop: ours[0]!.stop,
  };
}

export async function coldStart(smoke: boolean): Promise<Figure[]> {
  const runs = smoke ? 3 : 11;
  const out = mkdtempSync(path.join(os.tmpdir(), 'cip-octi-bench-bundles-'));
  try {
    const minimalEntry = path.join(out, 'minimal.ts');
    writeFileSync(minimalEntry, 'export const handler = async () => ({ statusCode: 200, body: "ok" });\n');
    const minimal = await bundle(minimalEntry, path.join(out, 'minimal'), DEPLOYED_EXTERNALS);

    const figures: Figure[] = [];
    for (const layout of ['deployed', 'all bundled'] as const) {
      for (const fn of FUNCTIONS) {
        const built = await bundle(
          path.join(ROOT, 'functions', fn, 'lambda.ts'),
          path.join(out, layout.replace(' ', '-'), fn),
          layout === 'deployed' ? DEPLOYED_EXTERNALS : [],
        );
        const label =
          layout === 'deployed'
            ? `${fn} (deployed: SDK from the runtime)`
            : `${fn} (all bundled, not deployed)`;
        const inputs = biggestInputs(built.metafile)
          .map((i) => `${i.name} ${formatBytes(i.bytes)}`)
          .join(', ');
        figures.push({
          section: SECTION,
          name: `${label}: size`,
          value: built.bytes,
          shown: formatBytes(built.bytes),
          goal: atMost(MAX_BYTES, '≤ 1 MB'),
          reference: layout !== 'deployed',
          detail: `minimal handler ${formatBytes(minimal.bytes)}; source map ${formatBytes(built.mapBytes)}; biggest: ${inputs}`,
        });
        const load = timeLoad(built, EVENTS[fn], minimal, runs);
        figures.push({
          section: SECTION,
          name: `${label}: fresh process load`,
          value: load.ratio,
          shown: `${load.ratio.toFixed(2)}x`,
          // The issue asks for this time against a minimal handler's, and sets no goal on it.
          goal: undefined,
          reference: layout !== 'deployed',
          detail:
            `process ${formatMs(load.wallMs)} vs minimal ${formatMs(load.minimalWallMs)}; ` +
            `load + first invocation ${formatMs(load.readyMs)} vs ${formatMs(load.minimalReadyMs)} ` +
            `(stopped at ${load.stop}); median of ${runs}`,
        });
      }
    }
    return figures;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
