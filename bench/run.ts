/**
 * `npm run bench`: the product's performance figures, each a ratio against a baseline measured in
 * the same run, with its goal and verdict. BENCHMARKS.md records a run and explains the figures.
 *
 *   npm run bench                      every section, full length (a few minutes)
 *   npm run bench -- --smoke           every section, small and quick (CI: proves the bench runs)
 *   npm run bench -- --only 1,4        some sections (1 mapping, 2 saturation, 3 credits,
 *                                      4 cold start, 5 memory)
 *   npm run bench -- --markdown        the table as Markdown (for BENCHMARKS.md)
 *   npm run bench -- --json FILE       the figures as JSON too
 *   npm run bench -- --strict          exit 1 when a figure misses its goal
 *
 * BENCH_SMOKE=1 in the environment is the same as --smoke.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { coldStart } from './cold-start';
import { creditsPerObservable } from './credits';
import { markdownTable, summaryLine, textTable, verdictOf, type Figure } from './lib/report';
import { StandInsProcess } from './lib/standins-process';
import { mappingCost } from './mapping';
import { peakMemory } from './memory';
import { pipelineSaturation } from './saturation';

interface Options {
  smoke: boolean;
  only: Set<number>;
  markdown: boolean;
  json: string | undefined;
  strict: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    smoke: process.env.BENCH_SMOKE === '1' || process.env.BENCH_SMOKE === 'true',
    only: new Set([1, 2, 3, 4, 5]),
    markdown: false,
    json: undefined,
    strict: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--smoke') options.smoke = true;
    else if (arg === '--markdown') options.markdown = true;
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--json') options.json = argv[++i];
    else if (arg === '--only') {
      const sections = (argv[++i] ?? '').split(',').map(Number);
      if (sections.length === 0 || sections.some((n) => !Number.isInteger(n) || n < 1 || n > 5)) {
        throw new UsageError('--only takes section numbers from 1 to 5, e.g. --only 1,4');
      }
      options.only = new Set(sections);
    } else throw new UsageError(`unknown option ${arg} (see bench/run.ts for the options)`);
  }
  if (options.json === '') throw new UsageError('--json needs a file name');
  return options;
}

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.availableParallelism()} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  console.error(`criminalip-opencti bench (${options.smoke ? 'smoke' : 'full'}) on ${machine()}`);
  const figures: Figure[] = [];
  const section = async (n: number, title: string, run: () => Promise<Figure[]>) => {
    if (!options.only.has(n)) return;
    const at = Date.now();
    console.error(`${title}...`);
    figures.push(...(await run()));
    console.error(`  done in ${((Date.now() - at) / 1000).toFixed(1)} s`);
  };

  await section(1, '1. Mapping cost', () => mappingCost(options.smoke));
  if (options.only.has(2) || options.only.has(3)) {
    const host = new StandInsProcess();
    try {
      await section(2, '2. Pipeline saturation', () => pipelineSaturation(host, options.smoke));
      await section(3, '3. Credits per observable', () => creditsPerObservable(host));
    } finally {
      await host.close();
    }
  }
  await section(4, '4. Cold start', () => coldStart(options.smoke));
  await section(5, '5. Memory', () => peakMemory(options.smoke));

  console.log(options.markdown ? markdownTable(figures) : textTable(figures));
  console.log('');
  console.log(summaryLine(figures));
  console.log(`Machine: ${machine()}. Run took ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  if (options.json) {
    const results = figures.map((f) => ({ ...f, verdict: verdictOf(f) }));
    writeFileSync(
      options.json,
      `${JSON.stringify({ machine: machine(), smoke: options.smoke, results }, null, 2)}\n`,
    );
  }
  return options.strict && figures.some((f) => !f.reference && f.goal && verdictOf(f) === 'MISS') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof UsageError ? `bench: ${error.message}` : error);
    process.exit(2);
  },
);
