/**
 * Timing helpers. Every figure of the bench is a ratio against a baseline timed in the same run,
 * interleaved with it, so that a busy machine slows both sides alike and the ratio holds.
 */
import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface PairOptions {
  /** Timed runs per side; the figure is the median run. */
  runs: number;
  /** Untimed calls of each side first (at least three, for this long), so that the JIT has compiled both. */
  warmupMs: number;
  /** A run lasts at least this long (iterations per run are calibrated to it). */
  minRunMs: number;
}

export interface PairTiming {
  /** Median time of one call, in milliseconds. */
  subjectMs: number;
  baselineMs: number;
  /** subjectMs / baselineMs */
  ratio: number;
  iterations: { subject: number; baseline: number };
}

/** Calls per run so that a run lasts about `minRunMs` (at least one call). */
function calibrate(fn: () => unknown, minRunMs: number): number {
  const started = performance.now();
  let calls = 0;
  do {
    fn();
    calls += 1;
  } while (performance.now() - started < minRunMs / 4);
  const perCall = (performance.now() - started) / calls;
  return Math.max(1, Math.ceil(minRunMs / Math.max(perCall, 1e-6)));
}

function timeRun(fn: () => unknown, iterations: number): number {
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) fn();
  return (performance.now() - started) / iterations;
}

/**
 * Times `subject` against `baseline`: both warmed up, then runs alternating between the two, so
 * that noise (another process, a GC pause) lands on both sides; the median run of each is kept.
 */
export function timePair(subject: () => unknown, baseline: () => unknown, options: PairOptions): PairTiming {
  const warmupStarted = performance.now();
  for (let i = 0; i < 3 || performance.now() - warmupStarted < options.warmupMs; i += 1) {
    subject();
    baseline();
  }
  const iterations = {
    subject: calibrate(subject, options.minRunMs),
    baseline: calibrate(baseline, options.minRunMs),
  };
  const subjectRuns: number[] = [];
  const baselineRuns: number[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    // Alternate which side goes first, so neither always runs right after a collection.
    if (run % 2 === 0) {
      subjectRuns.push(timeRun(subject, iterations.subject));
      baselineRuns.push(timeRun(baseline, iterations.baseline));
    } else {
      baselineRuns.push(timeRun(baseline, iterations.baseline));
      subjectRuns.push(timeRun(subject, iterations.subject));
    }
  }
  const subjectMs = median(subjectRuns);
  const baselineMs = median(baselineRuns);
  return { subjectMs, baselineMs, ratio: subjectMs / baselineMs, iterations };
}

/** "0.123 ms", "12.3 ms", "1.23 s": three significant digits. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  return `${ms.toPrecision(3)} ms`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
