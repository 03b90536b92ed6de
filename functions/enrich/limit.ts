/**
 * Runs async tasks with at most `limit` in flight. The batch processor starts every record at
 * once; this keeps a batch of ten from opening ten Criminal IP and OpenCTI conversations together.
 */
export function concurrencyLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be an integer >= 1 (got ${limit})`);
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      // Hand the slot to the next waiter directly, so `active` stays right.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
