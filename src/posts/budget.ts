import type { XTier } from '../config/index.ts';

/** The X endpoint every budget here is about (the name F stores in `rate_limits.endpoint`). */
export const CREATE_TWEET_ENDPOINT = 'POST /2/tweets';

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

/** The largest sum of `run` consecutive pieces (0 when there are none). */
export function heaviestRun(pieces: readonly number[], run: number): number {
  let heaviest = 0;
  for (let i = 0; i < pieces.length; i++) {
    let total = 0;
    for (let k = i; k < Math.min(pieces.length, i + run); k++) total += pieces[k]!;
    heaviest = Math.max(heaviest, total);
  }
  return heaviest;
}

/** A published request limit for `POST /2/tweets`: at most `limit` tweets in any `durationMs`, per user or per app. */
export interface BudgetWindow {
  scope: 'user' | 'app';
  durationMs: number;
  limit: number;
}

/**
 * The `POST /2/tweets` limits X publishes for each tier (x-api.md §4): free 17/24 h per user and per app;
 * basic 100/24 h per user and 1,667/24 h per app; pro and pay-per-use 100/15 min per user and 10,000/24 h
 * per app; unlimited plans no budget (only X's own headers limit it).
 */
export function tierWindows(tier: XTier): BudgetWindow[] {
  switch (tier) {
    case 'free':
      return [
        { scope: 'user', durationMs: ONE_DAY_MS, limit: 17 },
        { scope: 'app', durationMs: ONE_DAY_MS, limit: 17 },
      ];
    case 'basic':
      return [
        { scope: 'user', durationMs: ONE_DAY_MS, limit: 100 },
        { scope: 'app', durationMs: ONE_DAY_MS, limit: 1_667 },
      ];
    case 'pro':
    case 'ppu':
      return [
        { scope: 'user', durationMs: FIFTEEN_MINUTES_MS, limit: 100 },
        { scope: 'app', durationMs: ONE_DAY_MS, limit: 10_000 },
      ];
    case 'unlimited':
      return [];
  }
}

/**
 * What must hold for new tweets at a time:
 * - `sliding`: a published window. `events` are the times (epoch ms, sorted) of the tweets already sent or
 *   planned in its scope; every period of `durationMs` that contains the new tweets must stay within `limit`.
 * - `known`: X's last answer for a window (`rate_limits`, read from its headers at `updatedAt`): `remaining`
 *   until `resetAt`. `events` are the tweets sent or planned after `updatedAt`, which X has not counted yet.
 */
export type BudgetConstraint =
  | ({ kind: 'sliding'; events: number[] } & BudgetWindow)
  | {
      kind: 'known';
      scope: 'user' | 'app';
      remaining: number;
      resetAt: number;
      updatedAt: number;
      events: number[];
    };

/** The answer of {@link findSlot}. */
export interface Slot {
  /** The earliest time from the requested one at which the tweets fit, or null if none up to `searchUntil`. */
  at: number | null;
  /** The constraint that refused the requested time, when it was refused. */
  binding: BudgetConstraint | null;
}

/** How many of the sorted times `events` lie in [from, to). */
export function countIn(events: readonly number[], from: number, to: number): number {
  return lowerBound(events, to) - lowerBound(events, from);
}

/** Adds `count` times `value` to the sorted times `events` (after any equal ones), keeping them sorted. */
export function insertSorted(events: number[], value: number, count = 1): void {
  events.splice(lowerBound(events, value + 1), 0, ...Array.from({ length: count }, () => value));
}

function lowerBound(events: readonly number[], value: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (events[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Whether `tweets` more at time `at` keep the constraint. */
export function fits(constraint: BudgetConstraint, at: number, tweets: number): boolean {
  if (constraint.kind === 'known') {
    if (at >= constraint.resetAt) return true;
    return (
      countIn(constraint.events, constraint.updatedAt + 1, constraint.resetAt) + tweets <=
      constraint.remaining
    );
  }
  const { events, durationMs, limit } = constraint;
  if (tweets > limit) return false;
  // Periods containing `at` start in (at - duration, at]. The count only grows when a period starts
  // early enough to reach a later event, so the fullest one starts first, or just reaches an event after `at`.
  const first = at - durationMs + 1;
  const later = events.slice(lowerBound(events, at + 1), lowerBound(events, at + durationMs));
  const starts = [first, ...later.map((event) => event - durationMs + 1)];
  return starts.every((start) => countIn(events, start, start + durationMs) + tweets <= limit);
}

/**
 * The earliest time at or after `at` when `tweets` new tweets keep every constraint. Counts only change
 * when an event leaves a period or a known window resets, so those instants are the only candidates.
 */
export function findSlot(
  constraints: BudgetConstraint[],
  at: number,
  tweets: number,
  searchUntil: number,
): Slot {
  const binding = constraints.find((c) => !fits(c, at, tweets)) ?? null;
  if (!binding) return { at, binding: null };
  const candidates = new Set<number>();
  for (const c of constraints) {
    if (c.kind === 'known') candidates.add(c.resetAt);
    else for (const event of c.events) candidates.add(event + c.durationMs);
  }
  const ordered = [...candidates].filter((t) => t > at && t <= searchUntil).sort((a, b) => a - b);
  for (const candidate of ordered) {
    if (constraints.every((c) => fits(c, candidate, tweets))) return { at: candidate, binding };
  }
  return { at: null, binding };
}
