/**
 * Where the use cases read the time: a port, so that tests of what takes hours or days (a
 * handle's claim cooldown and hold) move a clock of their own instead of sleeping.
 */
export interface Clock {
  now(): Date;
}

/** The process's clock. */
export const systemClock: Clock = { now: () => new Date() };
