import type { FastifyReply } from 'fastify';
import { sendProblem, tooManyRequestsProblem } from './problems.ts';
import type { EmulatorState, RateWindow } from './state.ts';
import {
  type EndpointLimits,
  FIFTEEN_MINUTES_MS,
  ONE_DAY_MS,
  type RateLimitedEndpoint,
  TIER_PROFILES,
} from './tiers.ts';

/** What the `unlimited` tier reports in its headers: a budget no test or benchmark reaches. */
const UNLIMITED_REPORTED = 1_000_000_000;

/**
 * Endpoints for which X always sends the `x-user-limit-24hour-*` and `x-app-limit-24hour-*` headers;
 * any other endpoint sends them when the tier gives it a 24-hour window (e.g. Free `GET /2/users/me`).
 */
const ALWAYS_24H_HEADERS: ReadonlySet<RateLimitedEndpoint> = new Set(['POST /2/tweets']);

interface Counted {
  limit: number;
  window: RateWindow;
}

function windowFor(
  state: EmulatorState,
  scope: string,
  endpoint: RateLimitedEndpoint,
  span: '15m' | '24h',
  now: number,
  limit: number | undefined,
): Counted | null {
  if (limit === undefined) return null;
  const key = `${scope}|${endpoint}|${span}`;
  let window = state.rateWindows.get(key);
  if (window === undefined || window.resetAt <= now) {
    window = { used: 0, resetAt: now + (span === '15m' ? FIFTEEN_MINUTES_MS : ONE_DAY_MS) };
    state.rateWindows.set(key, window);
  }
  return { limit, window };
}

/** Header names of one family, built once. */
interface HeaderFamily {
  limit: string;
  remaining: string;
  reset: string;
}

function family(prefix: string): HeaderFamily {
  return { limit: `${prefix}-limit`, remaining: `${prefix}-remaining`, reset: `${prefix}-reset` };
}

const ENDPOINT_HEADERS = family('x-rate-limit');
const USER_24H_HEADERS = family('x-user-limit-24hour');
const APP_24H_HEADERS = family('x-app-limit-24hour');

function setHeaders(
  reply: FastifyReply,
  names: HeaderFamily,
  counted: Counted | null,
  fallbackResetMs: number,
) {
  const limit = counted?.limit ?? UNLIMITED_REPORTED;
  const remaining = counted === null ? UNLIMITED_REPORTED : Math.max(0, counted.limit - counted.window.used);
  reply.header(names.limit, limit);
  reply.header(names.remaining, remaining);
  reply.header(names.reset, Math.ceil((counted?.window.resetAt ?? fallbackResetMs) / 1000));
}

/**
 * Counts one request of `userId` through app `clientId` against the current tier's windows of
 * `endpoint`, sets X's rate-limit headers and, when any window is exhausted, answers 429 (counting
 * nothing) and returns false.
 *
 * `x-rate-limit-*` describe the endpoint's 15-minute window (user, else app), or its 24-hour user window
 * when the tier has only that (e.g. Free `GET /2/users/me`). The 24-hour families go out on
 * `POST /2/tweets` and wherever the tier has a 24-hour window; a family without a window reports the
 * `unlimited` figure. Windows are fixed: opened by the first
 * request, reset `15 min`/`24 h` later, as X's reset headers behave.
 */
export function takeRateLimit(
  state: EmulatorState,
  now: number,
  reply: FastifyReply,
  endpoint: RateLimitedEndpoint,
  userId: string,
  clientId: string,
): boolean {
  const limits: EndpointLimits = TIER_PROFILES[state.tier][endpoint];
  const user = `user:${userId}`;
  const app = `app:${clientId}`;
  const user15m = windowFor(state, user, endpoint, '15m', now, limits.user15m);
  const app15m = windowFor(state, app, endpoint, '15m', now, limits.app15m);
  const user24h = windowFor(state, user, endpoint, '24h', now, limits.user24h);
  const app24h = windowFor(state, app, endpoint, '24h', now, limits.app24h);
  const counted = [user15m, app15m, user24h, app24h];

  const allowed = counted.every((c) => c === null || c.window.used < c.limit);
  if (allowed) {
    for (const c of counted) if (c !== null) c.window.used += 1;
  }

  const primary = user15m ?? app15m ?? user24h ?? app24h;
  setHeaders(reply, ENDPOINT_HEADERS, primary, now + FIFTEEN_MINUTES_MS);
  if (ALWAYS_24H_HEADERS.has(endpoint) || user24h !== null || app24h !== null) {
    setHeaders(reply, USER_24H_HEADERS, user24h, now + ONE_DAY_MS);
    setHeaders(reply, APP_24H_HEADERS, app24h, now + ONE_DAY_MS);
  }
  if (!allowed) sendProblem(reply, tooManyRequestsProblem());
  return allowed;
}
