/** The time, as every part of the product reads it (tests move their own). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
