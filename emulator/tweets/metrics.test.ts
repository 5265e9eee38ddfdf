import { describe, expect, it } from 'vitest';
import { tweetMetrics } from './metrics.ts';

const HOUR = 60 * 60 * 1000;

describe('tweetMetrics', () => {
  it('is zero at creation, deterministic, and never decreases', () => {
    const tweet = { id: '1866000000000000000', createdAt: 0, hasLinks: true };
    expect(tweetMetrics(tweet, 0).public.impression_count).toBe(0);
    expect(tweetMetrics(tweet, 5 * HOUR)).toEqual(tweetMetrics(tweet, 5 * HOUR));
    let previous = tweetMetrics(tweet, 0);
    for (let at = HOUR; at <= 60 * 24 * HOUR; at += 7 * HOUR) {
      const next = tweetMetrics(tweet, at);
      for (const group of ['public', 'nonPublic', 'organic'] as const) {
        for (const [key, value] of Object.entries(next[group])) {
          expect(value).toBeGreaterThanOrEqual((previous[group] as unknown as Record<string, number>)[key]!);
        }
      }
      previous = next;
    }
    expect(previous.public.like_count).toBeGreaterThan(0);
    expect(previous.nonPublic.url_link_clicks).toBeGreaterThan(0);
  });

  it('grows mostly in the first day, impressions far above likes', () => {
    const tweet = { id: '1866000000000000042', createdAt: 0, hasLinks: false };
    const day = tweetMetrics(tweet, 24 * HOUR).public;
    const month = tweetMetrics(tweet, 30 * 24 * HOUR).public;
    expect(day.impression_count).toBeGreaterThan(0.75 * month.impression_count);
    expect(month.impression_count).toBeGreaterThan(day.impression_count);
    expect(day.like_count).toBeLessThan(day.impression_count / 10);
  });

  it('differs between tweets and has no link clicks without links', () => {
    const a = tweetMetrics({ id: '1', createdAt: 0, hasLinks: false }, 10 * HOUR);
    const b = tweetMetrics({ id: '2', createdAt: 0, hasLinks: false }, 10 * HOUR);
    expect(a.public).not.toEqual(b.public);
    expect(a.nonPublic.url_link_clicks).toBe(0);
  });
});
