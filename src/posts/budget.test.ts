import { describe, expect, it } from 'vitest';
import { type BudgetConstraint, findSlot, fits, tierWindows } from './budget.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('budget', () => {
  it('knows the published tiers', () => {
    expect(tierWindows('free')).toEqual([
      { scope: 'user', durationMs: DAY, limit: 17 },
      { scope: 'app', durationMs: DAY, limit: 17 },
    ]);
    expect(tierWindows('ppu').map((w) => w.limit)).toEqual([100, 10_000]);
    expect(tierWindows('unlimited')).toEqual([]);
  });

  it('refuses the 18th tweet in 24 hours on the free tier and names the next slot', () => {
    const events = Array.from({ length: 17 }, (_, i) => 1_000 + i * HOUR);
    const user: BudgetConstraint = { kind: 'sliding', scope: 'user', durationMs: DAY, limit: 17, events };
    expect(fits(user, 20 * HOUR, 1)).toBe(false);
    // The first tweet leaves the 24-hour period at 1_000 + 24 h.
    expect(findSlot([user], 20 * HOUR, 1, 10 * DAY)).toEqual({ at: 1_000 + DAY, binding: user });
    // Two tweets need two to leave.
    expect(findSlot([user], 20 * HOUR, 2, 10 * DAY).at).toBe(1_000 + HOUR + DAY);
  });

  it('counts future scheduled tweets in the period after the requested time too', () => {
    const events = Array.from({ length: 17 }, (_, i) => 10 * HOUR + i * 60_000);
    const user: BudgetConstraint = { kind: 'sliding', scope: 'user', durationMs: DAY, limit: 17, events };
    expect(fits(user, 0, 1)).toBe(false);
    expect(fits(user, 10 * HOUR - DAY, 1)).toBe(true);
  });

  it('waits for a known exhausted window to reset', () => {
    const known: BudgetConstraint = {
      kind: 'known',
      scope: 'app',
      remaining: 1,
      resetAt: 5 * HOUR,
      updatedAt: 0,
      events: [HOUR],
    };
    expect(fits(known, 2 * HOUR, 1)).toBe(false);
    expect(findSlot([known], 2 * HOUR, 1, DAY).at).toBe(5 * HOUR);
  });

  it('reports no slot when a thread is larger than the window allows', () => {
    const user: BudgetConstraint = { kind: 'sliding', scope: 'user', durationMs: DAY, limit: 17, events: [] };
    expect(findSlot([user], 0, 18, DAY * 30).at).toBeNull();
  });
});
