/**
 * Bounds how many Criminal IP calls are in flight. Non-Enterprise keys get "unable to call api at
 * the same time" for a second concurrent call, so by default one call runs at a time per key in
 * this process. Limiters are shared per API URL and key: two clients built from the same settings
 * still take turns.
 */
import { createHash } from 'node:crypto';

/** Gives back a slot (or a lease); called exactly once. */
export type Release = () => void | Promise<void>;

/**
 * A slot provider. The in-process Semaphore is one; a cross-process lease (for example a DynamoDB
 * lock shared by every Lambda instance) can be passed to the client as `acquire`.
 */
export interface Limiter {
  acquire(): Promise<Release>;
}

export class Semaphore implements Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be an integer >= 1, got ${limit}`);
  }

  /** Calls holding a slot right now. */
  get inFlight(): number {
    return this.active;
  }

  async acquire(): Promise<Release> {
    if (this.active < this.limit) {
      this.active += 1;
    } else {
      // The releasing caller hands its slot over directly, so `active` stays unchanged.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }
}

const shared = new Map<string, Semaphore>();

/** The process-wide limiter for one API URL and key (the key only as a hash, never kept). */
export function sharedLimiter(apiUrl: string, apiKey: string, limit: number): Semaphore {
  const keyHash = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
  const id = `${apiUrl}|${keyHash}|${limit}`;
  let limiter = shared.get(id);
  if (!limiter) {
    limiter = new Semaphore(limit);
    shared.set(id, limiter);
  }
  return limiter;
}
