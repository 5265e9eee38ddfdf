import { type BillingState, createBilling } from './billing.ts';
import { createRequestLog, type RequestLog } from './request-log.ts';

/** A rate-limit profile name; see `tiers.ts` for what each allows. */
export type Tier = 'free' | 'basic' | 'pro' | 'ppu' | 'unlimited';

export const TIERS: readonly Tier[] = ['free', 'basic', 'pro', 'ppu', 'unlimited'];

/** X's `subscription_type` user field. */
export type SubscriptionType = 'None' | 'Basic' | 'Premium' | 'PremiumPlus';

export const SUBSCRIPTION_TYPES: readonly SubscriptionType[] = ['None', 'Basic', 'Premium', 'PremiumPlus'];

/** A registered OAuth 2.0 client (an "app" in X's developer console). */
export interface EmuClient {
  clientId: string;
  /** Present → confidential client (Basic auth at the token endpoint); absent → public client. */
  clientSecret: string | null;
  /** Exact-match callback URLs. */
  redirectUris: string[];
  name: string;
}

export interface EmuUser {
  id: string;
  username: string;
  name: string;
  subscriptionType: SubscriptionType;
  description: string;
  createdAt: number;
}

/** An issued authorization code: single use, bound to client, redirect URI and PKCE challenge. */
export interface EmuAuthCode {
  code: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  codeChallengeMethod: 'S256' | 'plain';
  expiresAt: number;
}

export interface EmuAccessToken {
  token: string;
  clientId: string;
  userId: string;
  scopes: string[];
  /** One authorization (consent) and every token refreshed from it share a grant id. */
  grantId: string;
  expiresAt: number;
}

export interface EmuRefreshToken {
  token: string;
  clientId: string;
  userId: string;
  scopes: string[];
  grantId: string;
}

/** A fixed rate-limit window: opened by the first request, closed at `resetAt`. */
export interface RateWindow {
  used: number;
  /** Epoch ms at which the window ends and `used` starts again from zero. */
  resetAt: number;
}

export interface EmuTweet {
  id: string;
  authorId: string;
  text: string;
  createdAt: number;
  inReplyToTweetId: string | null;
  conversationId: string;
  mediaIds: string[];
  deletedAt: number | null;
  /** URLs of the posted text, each replaced by its t.co link in `text` (engineer B). */
  urls: { url: string; expandedUrl: string; displayUrl: string; original: string }[];
  quoteTweetId: string | null;
  replySettings: string | null;
}

export interface EmuMedia {
  id: string;
  mediaKey: string;
  ownerId: string;
  mediaType: string;
  category: string;
  totalBytes: number;
  size: number;
  /** segment_index → bytes received for that segment. */
  segments: Record<number, number>;
  state: 'initialized' | 'pending' | 'in_progress' | 'succeeded' | 'failed';
  createdAt: number;
  finalizedAt: number | null;
  expiresAt: number;
  error: string | null;
  /** `image`, `gif`, `video` or `subtitles` (engineer B: see media/rules.ts). */
  kind: 'image' | 'gif' | 'video' | 'subtitles';
  /** Base64 of the first bytes received (at most media/sniff.ts HEAD_BYTES), dropped at finalize. */
  head: string;
  /** Decided at finalize from `head`: whether the content is what `mediaType` says. */
  contentOk: boolean | null;
  /** How long GIF/video processing takes after the pending second (ms). */
  processingMs: number;
  altText: string | null;
  /** Users besides the owner who may attach it (`additional_owners`). */
  additionalOwners: string[];
}

export type FaultKind = 'error' | 'latency' | 'timeout' | 'drop_after_commit';

/** A fault rule of `POST /__admin/faults`. */
export interface FaultRule {
  /** HTTP method, or `*` for any. */
  method: string;
  /** Exact path (`/2/tweets/123`) or a route template (`/2/tweets/:id`). */
  path: string;
  kind: FaultKind;
  /** Status answered by an `error` fault. */
  status: number | null;
  /** Chance in [0, 1] that a matching request is hit; 1 by default. */
  probability: number;
  /** How many more requests this rule may hit; null = unlimited. */
  remaining: number | null;
  /** Delay of a `latency` fault. */
  latencyMs: number;
}

/**
 * Everything the emulator knows. Plain data (Maps, arrays, numbers, strings), so `persistence.ts` can
 * write and read it without knowing the fields: a field added here is persisted too.
 */
export interface EmulatorState {
  tier: Tier;
  clients: Map<string, EmuClient>;
  users: Map<string, EmuUser>;
  authCodes: Map<string, EmuAuthCode>;
  accessTokens: Map<string, EmuAccessToken>;
  refreshTokens: Map<string, EmuRefreshToken>;
  /** Key: `<scope>|<endpoint>|<window>` with scope `user:<id>` or `app:<clientId>`. */
  rateWindows: Map<string, RateWindow>;
  /** In creation order (ids increase), deleted ones kept with `deletedAt`. */
  tweets: Map<string, EmuTweet>;
  media: Map<string, EmuMedia>;
  requestLog: RequestLog;
  faults: FaultRule[];
  autoApproveUserId: string | null;
  /** Added to the base time source by `POST /__admin/clock`. */
  clockOffsetMs: number;
  /** Last id handed out by `nextId()` (decimal string), so ids keep increasing across restarts. */
  lastId: string;
  /**
   * A user's text equal to one of their live tweets created this recently is refused as duplicate
   * content (X does not document its window; engineer B).
   */
  duplicateWindowMs: number;
  /** What X would bill the app (pay-per-use). */
  billing: BillingState;
}

/** Default of `duplicateWindowMs`: 24 hours. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A fresh, empty state. */
export function createState(tier: Tier): EmulatorState {
  return {
    tier,
    clients: new Map(),
    users: new Map(),
    authCodes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    rateWindows: new Map(),
    tweets: new Map(),
    media: new Map(),
    requestLog: createRequestLog(),
    faults: [],
    autoApproveUserId: null,
    clockOffsetMs: 0,
    lastId: '0',
    billing: createBilling(),
    duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
  };
}
