import { usageError } from './errors.ts';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The forms `--at` takes, for help and errors. */
export const TIME_FORMS =
  'ISO 8601 ("2026-12-01T09:00", "2026-12-01T09:00Z"), "now", "in 2h" / "in 30m" / "in 1d", "tomorrow 09:00", "today 18:30", "mon 8am", "friday 14:15", or a time alone ("9am", "21:30": the next one)';

/** `9am`, `8:30pm`, `09:00`, `21:15` → [hours, minutes]; null when not a time of day. */
function timeOfDay(text: string): [number, number] | null {
  const match = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/.exec(text);
  if (!match) return null;
  let hours = Number(match[1]);
  const minutes = Number(match[2] ?? 0);
  const meridiem = match[3];
  if (meridiem === undefined && match[2] === undefined) return null;
  if (meridiem) {
    if (hours < 1 || hours > 12) return null;
    hours = (hours % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hours > 23 || minutes > 59) return null;
  return [hours, minutes];
}

function at(day: Date, [hours, minutes]: [number, number]): Date {
  const result = new Date(day);
  result.setHours(hours, minutes, 0, 0);
  return result;
}

/**
 * Reads a time as people write it, in the local zone (TZ), relative to `now`. Throws a usage error naming the
 * forms it takes.
 */
export function parseWhen(input: string, now: Date = new Date()): Date {
  const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const fail = () => usageError(`cannot read the time "${input}"; use ${TIME_FORMS}`);
  if (text === 'now') return new Date(now);

  const relative = /^(?:in |\+)(\d+(?:\.\d+)?) ?(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/.exec(
    text,
  );
  if (relative) {
    const unit = (relative[2] as string)[0] as string;
    return new Date(now.getTime() + Number(relative[1]) * (UNIT_MS[unit] as number));
  }

  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    // A date alone is local midnight (JavaScript would read it as UTC).
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${input.trim()}T00:00` : input.trim();
    const parsed = new Date(iso);
    if (Number.isNaN(parsed.getTime())) throw fail();
    return parsed;
  }

  const [first = '', ...rest] = text.split(' ');
  const clock = rest.length > 0 ? timeOfDay(rest.join('')) : null;
  if (rest.length > 0 && clock === null) throw fail();
  if (first === 'today' || first === 'tomorrow') {
    const day = new Date(now);
    if (first === 'tomorrow') day.setDate(day.getDate() + 1);
    return at(day, clock ?? [9, 0]);
  }
  const weekday = WEEKDAYS.findIndex((name) => name === first || name.slice(0, 3) === first);
  if (weekday !== -1) {
    for (let ahead = 0; ahead <= 7; ahead++) {
      const day = new Date(now);
      day.setDate(day.getDate() + ahead);
      const candidate = at(day, clock ?? [9, 0]);
      if (day.getDay() === weekday && candidate.getTime() > now.getTime()) return candidate;
    }
  }
  const alone = rest.length === 0 ? timeOfDay(first) : null;
  if (alone) {
    const today = at(now, alone);
    if (today.getTime() > now.getTime()) return today;
    const tomorrow = new Date(now);
    tomorrow.setDate(tomorrow.getDate() + 1);
    return at(tomorrow, alone);
  }
  throw fail();
}
