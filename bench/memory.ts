/**
 * 5. Memory: peak RSS of a fresh process taking a batch of 10 large Criminal IP reports (an SQS
 * batch) through mapping and bundle building, against a baseline process that only loads the same
 * modules. Both run bench/memory-child.ts bundled by esbuild, as the functions are, with plain
 * Node (no TypeScript loader in the measured process).
 *
 * A batch is measured twice: all ten reports alive at once (the worst case), and four at a time,
 * the enrich function's ENRICH_CONCURRENCY default (jobs of a batch in flight together).
 *
 * V8 sizes its heap from the machine's memory: on a large machine the young generation alone grows
 * to 128 MB before collecting, which says nothing about a 256 MB function. Both processes get the
 * limits the Lambda Node.js runtime's bootstrap sets for a 256 MB function (new space a tenth of the
 * memory: semi-spaces of 12 MB, old space 231 MB; per public copies of that script) and the
 * deployed --enable-source-maps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { below, type Figure } from './lib/report';
import { bundle, DEPLOYED_EXTERNALS, ROOT } from './lib/bundles';
import { formatBytes, median } from './lib/stats';
import { FIVE_MB, LARGE, syntheticIpReport, type ReportShape } from './lib/synthetic';

const SECTION = '5. Memory';
const BATCH = 10;
const LIMIT_BYTES = 256 * 1024 * 1024;
const FUNCTION_MB = 256;
export const LAMBDA_NODE_FLAGS = [
  '--enable-source-maps',
  `--max-semi-space-size=${Math.floor(FUNCTION_MB / 10 / 2)}`,
  `--max-old-space-size=${FUNCTION_MB - Math.floor(FUNCTION_MB / 10)}`,
];

interface ChildUsage {
  maxRssBytes: number;
  heapUsedBytes: number;
}

function runChild(script: string, args: string[]): ChildUsage {
  const child = spawnSync(process.execPath, [...LAMBDA_NODE_FLAGS, script, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ChildUsage;
  } catch {
    throw new Error(`the memory child failed (exit ${child.status}): ${child.stderr.slice(0, 500)}`);
  }
}

/** Peak RSS, the median of `runs` fresh processes. */
function peak(script: string, args: string[], runs: number): number {
  return median(Array.from({ length: runs }, () => runChild(script, args).maxRssBytes));
}

export async function peakMemory(smoke: boolean): Promise<Figure[]> {
  const runs = smoke ? 1 : 3;
  const out = mkdtempSync(path.join(os.tmpdir(), 'cip-octi-bench-memory-'));
  try {
    const child = await bundle(
      path.join(ROOT, 'bench', 'memory-child.ts'),
      path.join(out, 'child'),
      DEPLOYED_EXTERNALS,
    );
    const baseline = peak(child.file, ['baseline'], runs);

    const batches: Array<{ label: string; shape: Omit<ReportShape, 'ip'> }> = [
      { label: '1,000 domains, 300 ports, 500 CVEs', shape: LARGE },
      { label: '5 MB', shape: FIVE_MB },
    ];
    const figures: Figure[] = [];
    for (const { label, shape } of batches) {
      const files = Array.from({ length: BATCH }, (_, i) => {
        const file = path.join(out, `${label.replace(/\W+/g, '-')}-${i}.json`);
        writeFileSync(
          file,
          JSON.stringify(syntheticIpReport({ ...shape, ip: `45.33.9.${i + 1}`, seed: 100 + i })),
        );
        return file;
      });
      for (const window of [BATCH, 4]) {
        const rss = peak(child.file, ['batch', String(window), ...files], runs);
        figures.push({
          section: SECTION,
          name: `${BATCH} reports of ${label}, ${window === BATCH ? 'all alive at once' : `${window} at a time`}`,
          value: rss,
          shown: formatBytes(rss),
          goal: below(LIMIT_BYTES, '< 256 MB'),
          detail:
            `baseline (modules loaded) ${formatBytes(baseline)}, so the batch adds ${formatBytes(rss - baseline)}; ` +
            `peak RSS, median of ${runs}; node ${LAMBDA_NODE_FLAGS.join(' ')}`,
        });
      }
    }
    return figures;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
