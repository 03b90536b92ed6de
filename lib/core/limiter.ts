/**
 * Bounds how much runs at once in this process: a slot is taken before the work and given back
 * after it. The Criminal IP client takes one per call (one call at a time per key by default);
 * the enrich handler runs a batch's jobs through one.
 */
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

  /** Runs `task` in a slot, waiting for one when all are taken. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      await release();
    }
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
