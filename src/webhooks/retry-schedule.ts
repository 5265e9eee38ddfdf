/**
 * Standard Webhooks' retry schedule: after the first attempt (immediately) fails, the next ones follow these
 * waits, each counted from the failure before it: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
 * Ten attempts in all, about three days; then the endpoint is disabled.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
];

/** Attempts made before a delivery is given up. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** Jitter added to each wait, as a fraction of it: never earlier than the schedule, at most 10% later. */
const JITTER = 0.1;

/**
 * How long to wait after failed attempt number `attemptsMade` (1 = the first), or null when that was the last.
 * A receiver's `Retry-After` (429, 503) is honoured when it asks for longer than the schedule.
 */
export function retryDelayMs(
  attemptsMade: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number | null {
  const base = RETRY_DELAYS_MS[attemptsMade - 1];
  if (base === undefined) return null;
  const scheduled = Math.round(base * (1 + JITTER * random()));
  return Math.max(scheduled, (retryAfterSeconds ?? 0) * 1000);
}
