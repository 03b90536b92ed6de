/**
 * A clock the test moves by hand: queue delays, visibility timeouts, cache and quota windows pass
 * without real waiting. HTTP timeouts stay real (and small).
 */
import type { Clock } from '../../lib/core/clock';

export const START = Date.parse('2026-11-20T10:00:00.000Z');

export class ManualClock implements Clock {
  constructor(public ms = START) {}

  now(): Date {
    return new Date(this.ms);
  }

  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }

  advanceBy(ms: number): void {
    this.ms += ms;
  }

  /** Moves forward to `ms` (never back). */
  advanceTo(ms: number): void {
    if (ms > this.ms) this.ms = ms;
  }
}
