/**
 * Fault injection for the stand-in: each request draws exactly one number from a seeded generator
 * and the configured rates turn it into a fault or none, so the same seed and the same sequence
 * of calls give the same faults, run after run.
 */
import { seededRandom } from '../seeded-random';

export { seededRandom };

export const FAULT_KINDS = [
  'rate-limit',
  'server-error',
  'timeout',
  'drop',
  'concurrency',
  'body-error',
] as const;

/**
 * - rate-limit: HTTP 429 with Retry-After;
 * - server-error: HTTP 500/502/503;
 * - timeout: the request hangs past any client timeout;
 * - drop: the socket is destroyed without an answer;
 * - concurrency: the "unable to call api at the same time" body;
 * - body-error: HTTP 200 whose body carries status 500.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Probability of each fault per request; their sum must not exceed 1. */
export type FaultRates = Partial<Record<FaultKind, number>>;

export interface FaultSettings {
  rates?: FaultRates;
  /** Faults for the next requests, in order, before any random draw (deterministic scenarios). */
  next?: FaultKind[];
  /** Re-seeds the generator; the same seed replays the same faults. */
  seed?: number;
  /** Retry-After sent with rate-limit faults, in seconds. */
  retryAfterSeconds?: number;
  /** How long a timeout fault holds the request before dropping it. */
  hangMs?: number;
}

export class FaultPlan {
  private rates: FaultRates = {};
  private queue: FaultKind[] = [];
  private random: () => number;
  retryAfterSeconds = 1;
  hangMs = 30_000;

  constructor(seed: number, settings: FaultSettings = {}) {
    this.random = seededRandom(seed);
    this.update(settings);
  }

  /** Applies new settings; rates and the queue are replaced when given, the rest kept. */
  update(settings: FaultSettings): void {
    if (settings.rates) {
      const total = Object.values(settings.rates).reduce((sum, r) => sum + (r ?? 0), 0);
      const invalid = Object.values(settings.rates).some((r) => r !== undefined && (r < 0 || r > 1));
      if (invalid || total > 1) throw new RangeError('fault rates must be within 0-1 and sum to at most 1');
      this.rates = { ...settings.rates };
    }
    if (settings.next) this.queue = [...settings.next];
    if (settings.seed !== undefined) this.random = seededRandom(settings.seed);
    if (settings.retryAfterSeconds !== undefined) this.retryAfterSeconds = settings.retryAfterSeconds;
    if (settings.hangMs !== undefined) this.hangMs = settings.hangMs;
  }

  /** The fault for the next request, if any. Always draws once, so scripted faults keep the sequence. */
  roll(): FaultKind | undefined {
    const draw = this.random();
    const scripted = this.queue.shift();
    if (scripted) return scripted;
    let threshold = 0;
    for (const kind of FAULT_KINDS) {
      threshold += this.rates[kind] ?? 0;
      if (draw < threshold) return kind;
    }
    return undefined;
  }
}
