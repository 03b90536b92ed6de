/**
 * 2. Pipeline saturation: how close the pipeline comes to Criminal IP's allowance. The Criminal IP
 * stand-in answers each call after L ms and refuses a call beyond C at once, so no client can do
 * better than C/L observables per second (one call per IPv4); the figure is the achieved rate
 * over that bound, in steady state (the first jobs, which open connections, are left out).
 *
 * Two shapes are measured: the pipeline itself (enrichJob with the real HTTP adapters, fed by
 * enough workers, as several Lambda instances feed it), and the local runtime end to end (POST
 * /opencti/callback → SQLite queue → consumer → enrich handler), as `npm start` runs it.
 */
import { performance } from 'node:perf_hooks';
import { enrichJob } from '../lib/pipeline/enrich-job';
import { silentLog } from '../lib/core/log';
import { listenMessage } from '../lib/local/demo-messages';
import { startRuntime } from '../lib/local/runtime';
import { atLeast, type Figure } from './lib/report';
import type { StandInsProcess, StandInUrls } from './lib/standins-process';
import { benchWorld, CONNECTOR_ID, ipObservable, job, publicIp, realDeps } from './lib/world';

const SECTION = '2. Pipeline saturation';

export interface SaturationSettings {
  /** Criminal IP stand-in latency per call (ms). */
  latencyMs: number;
  /** OpenCTI stand-in latency per GraphQL request (ms). */
  openCtiLatencyMs: number;
  /** Observables per run, by allowed concurrency. */
  jobs: Record<number, number>;
}

interface RunResult {
  /** performance.now() at each job's end, in order. */
  finished: number[];
  /** Jobs ending before this time are left out (the local runtime: while requests were still posted). */
  steadyFrom?: number;
  outcomes: Record<string, number>;
  /** Workers or handler concurrency used. */
  parallel: string;
  /** CPU time of this process (user + system) per job, in ms. */
  cpuMsPerJob: number;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/**
 * Steady-state rate: the jobs after the warm-up ones (and after `steadyFrom`), over the time they
 * took from the end of the last job left out.
 */
function steadyRate(
  finished: number[],
  concurrency: number,
  steadyFrom = 0,
): { perSecond: number; counted: number } {
  const sorted = [...finished].sort((a, b) => a - b);
  const warmup = Math.min(Math.max(2 * concurrency, 5), Math.floor(sorted.length / 3));
  const before = sorted.filter((t) => t < steadyFrom).length;
  const skip = Math.min(Math.max(warmup, before), sorted.length - 6);
  const counted = sorted.length - 1 - skip;
  const seconds = (sorted[sorted.length - 1]! - sorted[skip]!) / 1000;
  return { perSecond: counted / seconds, counted };
}

/** enrichJob on N jobs, pulled by 2C + 2 workers (each job also waits on OpenCTI, off the slot). */
async function runPipeline(
  urls: StandInUrls,
  host: StandInsProcess,
  concurrency: number,
  count: number,
): Promise<RunResult> {
  const world = benchWorld(urls, { CRIMINALIP_CONCURRENCY: String(concurrency) });
  const deps = realDeps(world.config);
  try {
    const works = await host.createWorks(count, CONNECTOR_ID);
    const jobs = works.map((workId, i) =>
      job(ipObservable(publicIp(i)), { kind: 'enrichment', workId, mode: 'auto', trigger: 'create' }),
    );
    const finished: number[] = [];
    const outcomes: Record<string, number> = {};
    let next = 0;
    const workers = 2 * concurrency + 2;
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < jobs.length) {
          const current = jobs[next++]!;
          const outcome = await enrichJob(current, { receiveCount: 1, maxReceiveCount: 5 }, deps);
          finished.push(performance.now());
          outcomes[outcome.kind] = (outcomes[outcome.kind] ?? 0) + 1;
        }
      }),
    );
    return { finished, outcomes, parallel: `${workers} workers`, cpuMsPerJob: cpuMs(cpu) / count };
  } finally {
    deps.ledger.close();
    world.close();
  }
}

/** The local runtime: listen messages posted to its callback route, processed by its consumer. */
async function runRuntime(
  urls: StandInUrls,
  host: StandInsProcess,
  concurrency: number,
  count: number,
): Promise<RunResult> {
  const world = benchWorld(urls, { CRIMINALIP_CONCURRENCY: String(concurrency) });
  const finished: number[] = [];
  const outcomes: Record<string, number> = {};
  let done: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (done = resolve));
  // The most the runtime allows (ENRICH_CONCURRENCY 1-10): every job of a batch at once.
  const enrichConcurrency = 10;
  const runtime = await startRuntime(world.config, {
    log: silentLog,
    settings: { reenrichIntervalMinutes: 0, enrichConcurrency },
    idlePollMs: 50,
    onJob: (report) => {
      if (report.outcome === 'retry-later') return;
      finished.push(performance.now());
      outcomes[report.outcome] = (outcomes[report.outcome] ?? 0) + 1;
      if (finished.length === count) done();
    },
  });
  try {
    const works = await host.createWorks(count, CONNECTOR_ID);
    const cpu = process.cpuUsage();
    for (const [i, workId] of works.entries()) {
      const response = await fetch(`${runtime.url}/opencti/callback`, {
        method: 'POST',
        headers: { authorization: `Bearer ${urls.openCtiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          listenMessage({
            workId,
            type: 'ipv4-addr',
            value: publicIp(i, 34),
            mode: 'auto',
            trigger: 'create',
          }),
        ),
      });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`the callback answered ${response.status}`);
    }
    const steadyFrom = performance.now();
    const timeout = setTimeout(() => done(), 120_000);
    await allDone;
    clearTimeout(timeout);
    return {
      finished,
      steadyFrom,
      outcomes,
      parallel: `ENRICH_CONCURRENCY ${enrichConcurrency}, batches of 10`,
      cpuMsPerJob: cpuMs(cpu) / count,
    };
  } finally {
    await runtime.stop({ graceMs: 0 });
    world.close();
  }
}

async function measure(
  host: StandInsProcess,
  shape: 'pipeline' | 'local runtime',
  concurrency: number,
  settings: SaturationSettings,
): Promise<Figure> {
  const count = settings.jobs[concurrency] ?? 50;
  const urls = await host.start({ latencyMs: settings.latencyMs, concurrency }, settings.openCtiLatencyMs);
  const standInCpu = await host.cpuMs();
  const result =
    shape === 'pipeline'
      ? await runPipeline(urls, host, concurrency, count)
      : await runRuntime(urls, host, concurrency, count);
  const stats = await host.criminalIpStats();
  const standInCpuMs = ((await host.cpuMs()) - standInCpu) / count;
  await host.stopStandIns();

  const bound = (concurrency * 1000) / settings.latencyMs;
  const { perSecond, counted } = steadyRate(result.finished, concurrency, result.steadyFrom);
  const ratio = perSecond / bound;
  const rejected = stats.byOutcome['concurrency-rejected'] ?? 0;
  const written = result.outcomes.written ?? 0;
  return {
    section: SECTION,
    name: `${shape}, C=${concurrency}, L=${settings.latencyMs} ms`,
    value: ratio,
    shown: ratio.toFixed(2),
    goal: atLeast(0.9, '≥ 0.9, 0 rejected'),
    alsoHolds: rejected === 0 && written === count,
    detail:
      `${perSecond.toFixed(1)} obs/s vs C/L = ${bound.toFixed(0)}/s over ${counted} jobs; ` +
      `${written}/${count} written, ${stats.calls} calls, ${rejected} rejected, max ${stats.maxInFlight} in flight; ` +
      `${result.parallel}; OpenCTI ${settings.openCtiLatencyMs} ms per request; ` +
      `CPU per observable: ${result.cpuMsPerJob.toFixed(1)} ms here, ${standInCpuMs.toFixed(1)} ms in the stand-ins`,
  };
}

export async function pipelineSaturation(host: StandInsProcess, smoke: boolean): Promise<Figure[]> {
  const settings: SaturationSettings = smoke
    ? { latencyMs: 50, openCtiLatencyMs: 20, jobs: { 1: 20, 5: 80 } }
    : { latencyMs: 50, openCtiLatencyMs: 20, jobs: { 1: 60, 5: 250 } };
  const figures: Figure[] = [];
  for (const shape of ['pipeline', 'local runtime'] as const) {
    for (const concurrency of [1, 5]) figures.push(await measure(host, shape, concurrency, settings));
  }
  return figures;
}
