/**
 * When the collector reads a tweet's metrics. X bills a post read at most once per UTC day per tweet, so the
 * schedule reads each tweet at most once per UTC day — except the young reads (1 h, 6 h, 24 h, 48 h after
 * publishing), whose extra reads fall on days already paid for — and reads all of an account's tweets of the same
 * phase at one time of day (the account's slot), so that one `GET /2/tweets` call carries up to 100 of them.
 *
 * - young: 1 h, 6 h, 24 h and 48 h after publishing, each rounded up to the next quarter hour (tweets published
 *   close together share their reads);
 * - daily, while X gives private metrics (30 days): once per UTC day at the account's slot;
 * - weekly, public metrics only, to `maxAgeDays`: once a week at the account's slot, on the account's weekday;
 * - then never again.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const YOUNG_AGES_MS = [1 * HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS, 48 * HOUR_MS] as const;
/** X gives `non_public_metrics` and `organic_metrics` for tweets younger than 30 days. */
export const PRIVATE_METRICS_DAYS = 30;
/** Reads at an age past this (30 days less an hour, for clock skew with X) ask for public metrics only. */
export const PRIVATE_CUTOFF_MS = PRIVATE_METRICS_DAYS * DAY_MS - HOUR_MS;
const QUARTER_HOUR_MS = 15 * 60_000;

/** Where in each day, and on which weekday, an account's tweets are read: spread over the day by account id. */
export interface AccountSlot {
  /** Milliseconds after 00:00 UTC, a multiple of 15 minutes. */
  timeOfDayMs: number;
  /** 0–6: the day (days since the epoch, mod 7) of the weekly reads. */
  weekday: number;
}

export function accountSlot(accountId: string): AccountSlot {
  let hash = 2166136261;
  for (let i = 0; i < accountId.length; i++) hash = Math.imul(hash ^ accountId.charCodeAt(i), 16777619) >>> 0;
  return { timeOfDayMs: (hash % 96) * QUARTER_HOUR_MS, weekday: (hash >>> 8) % 7 };
}

/** The UTC day of `at`, as days since the epoch. */
export const utcDay = (at: number): number => Math.floor(at / DAY_MS);

/** The UTC day of `at` as `YYYY-MM-DD`. */
export const utcDate = (at: number): string => new Date(at).toISOString().slice(0, 10);

const ceilToQuarter = (at: number): number => Math.ceil(at / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;

/**
 * The time of the next read of a tweet published at `publishedAt` whose last read was at `lastReadAt` (null:
 * never read), or null when collection is over (past `maxAgeDays`).
 */
export function nextReadAt(
  publishedAt: number,
  lastReadAt: number | null,
  slot: AccountSlot,
  maxAgeDays: number,
): number | null {
  const after = lastReadAt ?? publishedAt;
  for (const age of YOUNG_AGES_MS) {
    const at = ceilToQuarter(publishedAt + age);
    if (at > after) return at;
  }
  // Daily, then weekly: at the slot, on a UTC day after the last read's.
  const privateUntil = publishedAt + PRIVATE_CUTOFF_MS;
  const endAt = publishedAt + maxAgeDays * DAY_MS;
  const day = utcDay(after) + 1;
  const daily = day * DAY_MS + slot.timeOfDayMs;
  if (daily > endAt) return null;
  if (daily <= privateUntil) return daily;
  // Past the private window: weekly, on the account's weekday.
  const weekly = (day + ((((slot.weekday - day) % 7) + 7) % 7)) * DAY_MS + slot.timeOfDayMs;
  return weekly > endAt ? null : weekly;
}

/** Whether a read at `at` of a tweet published at `publishedAt` may ask for private metrics. */
export function readsPrivate(publishedAt: number, at: number): boolean {
  return at - publishedAt <= PRIVATE_CUTOFF_MS;
}
