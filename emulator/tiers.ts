import type { Tier } from './state.ts';

/** The rate-limited endpoints, named `METHOD template` as in X's rate-limit table. */
export type RateLimitedEndpoint =
  | 'GET /2/users/me'
  | 'POST /2/tweets'
  | 'DELETE /2/tweets/:id'
  | 'GET /2/tweets/:id'
  | 'GET /2/tweets'
  | 'GET /2/users/:id/tweets'
  | 'POST /2/media/upload'
  | 'GET /2/media/upload'
  | 'POST /2/media/upload/initialize'
  | 'POST /2/media/upload/:id/append'
  | 'POST /2/media/upload/:id/finalize';

/** Request limits of one endpoint; an absent window is not limited. */
export interface EndpointLimits {
  user15m?: number;
  app15m?: number;
  user24h?: number;
  app24h?: number;
}

export type TierProfile = Record<RateLimitedEndpoint, EndpointLimits>;

export const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
export const ONE_DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Pay-per-use, the current table (docs.x.com rate-limits page at HEAD, reference/x-api.md §3–4).
 * The other tiers start from it and override what the older tiered tables state.
 */
const PPU: TierProfile = {
  'GET /2/users/me': { user15m: 75 },
  'POST /2/tweets': { user15m: 100, app24h: 10_000 },
  'DELETE /2/tweets/:id': { user15m: 50 },
  'GET /2/tweets/:id': { user15m: 900, app15m: 450 },
  'GET /2/tweets': { user15m: 5_000, app15m: 3_500 },
  'GET /2/users/:id/tweets': { user15m: 900, app15m: 10_000 },
  'POST /2/media/upload': { user15m: 500, app24h: 50_000 },
  'GET /2/media/upload': { user15m: 1_000 },
  'POST /2/media/upload/initialize': { user15m: 1_875, app24h: 180_000 },
  'POST /2/media/upload/:id/append': { user15m: 1_875, app24h: 180_000 },
  'POST /2/media/upload/:id/finalize': { user15m: 1_875, app24h: 180_000 },
};

/** The retired tiered plans as last published (docs commit 7c59f7be, 2025-12; GH 10up#351 for Free). */
const FREE: TierProfile = {
  ...PPU,
  'GET /2/users/me': { user24h: 25 },
  'POST /2/tweets': { user24h: 17, app24h: 17 },
  'GET /2/users/:id/tweets': { user15m: 1, app15m: 1 },
};

const BASIC: TierProfile = {
  ...PPU,
  'GET /2/users/me': { user24h: 250 },
  'POST /2/tweets': { user24h: 100, app24h: 1_667 },
  'GET /2/users/:id/tweets': { user15m: 5, app15m: 10 },
};

const PRO: TierProfile = {
  ...PPU,
  'POST /2/tweets': { user15m: 100, app24h: 10_000 },
  'GET /2/users/:id/tweets': { user15m: 900, app15m: 1_500 },
};

const UNLIMITED = Object.fromEntries(Object.keys(PPU).map((endpoint) => [endpoint, {}])) as TierProfile;

export const TIER_PROFILES: Record<Tier, TierProfile> = {
  free: FREE,
  basic: BASIC,
  pro: PRO,
  ppu: PPU,
  unlimited: UNLIMITED,
};
