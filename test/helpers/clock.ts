import type { Clock } from '../../src/clock.ts';

/** A clock tests move by hand. Starts at `start` (default: the real time when created). */
export interface TestClock extends Clock {
  advance(ms: number): void;
  set(epochMs: number): void;
}

export function createTestClock(start = Date.now()): TestClock {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    set(epochMs) {
      now = epochMs;
    },
  };
}
