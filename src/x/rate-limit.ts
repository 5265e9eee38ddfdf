import type { XRateLimitInfo, XRateWindow } from './types.ts';

function readWindow(headers: Headers, prefix: string): XRateWindow | undefined {
  const limit = Number(headers.get(`${prefix}-limit`));
  const remaining = Number(headers.get(`${prefix}-remaining`));
  const reset = Number(headers.get(`${prefix}-reset`));
  if (!headers.has(`${prefix}-reset`) || !Number.isFinite(limit + remaining + reset)) return undefined;
  // X sends the reset as epoch seconds.
  return { limit, remaining, resetAt: reset * 1000 };
}

/**
 * Reads X's budget headers: `x-rate-limit-*` (the endpoint's 15-minute window), `x-user-limit-24hour-*` and
 * `x-app-limit-24hour-*`. Returns undefined when the response carries none of them.
 */
export function parseRateLimitHeaders(endpoint: string, headers: Headers): XRateLimitInfo | undefined {
  const window15m = readWindow(headers, 'x-rate-limit');
  const user24h = readWindow(headers, 'x-user-limit-24hour');
  const app24h = readWindow(headers, 'x-app-limit-24hour');
  if (!window15m && !user24h && !app24h) return undefined;
  return {
    endpoint,
    ...(window15m && { window15m }),
    ...(user24h && { user24h }),
    ...(app24h && { app24h }),
  };
}

/**
 * How long to wait after a 429: until the latest reset among the exhausted windows (a 429 can arrive while the
 * 15-minute window still has room, because a 24-hour bucket is empty); the 15-minute reset when none says
 * exhausted; undefined when X sent no reset at all. Never negative.
 */
export function retryAfterMs(info: XRateLimitInfo | undefined, now: number): number | undefined {
  if (!info) return undefined;
  const windows = [info.window15m, info.user24h, info.app24h].filter(
    (w): w is XRateWindow => w !== undefined,
  );
  const exhausted = windows.filter((w) => w.remaining <= 0);
  const candidates = exhausted.length > 0 ? exhausted : windows;
  if (candidates.length === 0) return undefined;
  const resetAt = Math.max(...candidates.map((w) => w.resetAt));
  return Math.max(0, resetAt - now);
}
