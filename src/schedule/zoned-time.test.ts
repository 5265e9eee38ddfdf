import { describe, expect, it } from 'vitest';
import { isTimeZone, wallClock, zonedInstant } from './zoned-time.ts';

const iso = (ms: number) => new Date(ms).toISOString();

describe('zoned time', () => {
  it('knows IANA zones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });

  it('keeps the wall-clock time across daylight-saving changes', () => {
    // Berlin: CET (+1) in winter, CEST (+2) from 2026-03-29.
    expect(
      iso(zonedInstant({ year: 2026, month: 3, day: 28 }, { hour: 8, minute: 30 }, 'Europe/Berlin')),
    ).toBe('2026-03-28T07:30:00.000Z');
    expect(
      iso(zonedInstant({ year: 2026, month: 3, day: 30 }, { hour: 8, minute: 30 }, 'Europe/Berlin')),
    ).toBe('2026-03-30T06:30:00.000Z');
    // New York: EST (-5) until 2026-03-08, EDT (-4) after; back to EST on 2026-11-01.
    expect(
      iso(zonedInstant({ year: 2026, month: 3, day: 7 }, { hour: 9, minute: 0 }, 'America/New_York')),
    ).toBe('2026-03-07T14:00:00.000Z');
    expect(
      iso(zonedInstant({ year: 2026, month: 3, day: 9 }, { hour: 9, minute: 0 }, 'America/New_York')),
    ).toBe('2026-03-09T13:00:00.000Z');
    expect(
      iso(zonedInstant({ year: 2026, month: 11, day: 2 }, { hour: 9, minute: 0 }, 'America/New_York')),
    ).toBe('2026-11-02T14:00:00.000Z');
  });

  it('takes a skipped time as the same time after the jump, and a repeated time as the first', () => {
    const skipped = zonedInstant({ year: 2026, month: 3, day: 29 }, { hour: 2, minute: 30 }, 'Europe/Berlin');
    expect(iso(skipped)).toBe('2026-03-29T01:30:00.000Z');
    expect(wallClock(skipped, 'Europe/Berlin')).toMatchObject({ hour: 3, minute: 30 });
    const repeated = zonedInstant(
      { year: 2026, month: 10, day: 25 },
      { hour: 2, minute: 30 },
      'Europe/Berlin',
    );
    expect(iso(repeated)).toBe('2026-10-25T00:30:00.000Z');
  });
});
