import { wallClock, zonedInstant } from './zoned-time.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** An account's posting schedule: recurring wall-clock slots in its time zone, and dates without posts. */
export interface PostingSchedule {
  /** IANA zone, e.g. `Europe/Berlin`: slots keep their wall-clock time across daylight-saving changes. */
  timezone: string;
  slots: Array<{ days: Weekday[]; time: string }>;
  /** Local dates (`YYYY-MM-DD`, inclusive) with no slots. */
  blackout: Array<{ from: string; to: string }>;
  /** A slot is taken by any post of the account within this many minutes of it. */
  spacingMinutes: number;
  /** When a queued post is canceled, later queued posts move up into the freed slots. */
  pullForward: boolean;
}

const DAY_MS = 86_400_000;

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * The schedule's slot times after `from` up to `until` (epoch ms), ascending and distinct, skipping blackout dates.
 * Generated day by day in the schedule's zone, so 08:30 stays 08:30 on both sides of a daylight-saving change.
 */
export function* slotTimes(schedule: PostingSchedule, from: number, until: number): Generator<number> {
  const times = schedule.slots.map((slot) => {
    const [hour, minute] = slot.time.split(':').map(Number) as [number, number];
    return { days: new Set(slot.days), hour, minute };
  });
  const start = wallClock(from, schedule.timezone);
  // Walk calendar dates (UTC arithmetic on the local date, so months and leap years come out right).
  for (let date = Date.UTC(start.year, start.month - 1, start.day); ; date += DAY_MS) {
    const d = new Date(date);
    const local = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    const weekday = WEEKDAYS[d.getUTCDay()]!;
    const day = isoDate(local.year, local.month, local.day);
    const dayStart = zonedInstant(local, { hour: 0, minute: 0 }, schedule.timezone);
    if (dayStart > until) return;
    if (schedule.blackout.some((b) => b.from <= day && day <= b.to)) continue;
    const instants = times
      .filter((t) => t.days.has(weekday))
      .map((t) => zonedInstant(local, t, schedule.timezone))
      .sort((a, b) => a - b);
    let previous = Number.NaN;
    for (const at of instants) {
      if (at === previous) continue;
      previous = at;
      if (at > from && at <= until) yield at;
    }
  }
}
