/** Time source, injected everywhere so expiry, leases and schedules are testable without waiting. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
