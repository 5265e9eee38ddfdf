/**
 * The X API client's public shapes. Implemented in `client.ts`; used by accounts/, media/ and delivery/.
 * Facts: docs/x-api.md.
 */

/** A token pair as xgate keeps it. `expiresAt` is epoch ms (X answers `expires_in: 7200`). */
export interface XTokenSet {
  accessToken: string;
  /** Present only when `offline.access` was granted. Rotates on every refresh. */
  refreshToken: string | null;
  expiresAt: number;
  scopes: string[];
}

export interface XUser {
  id: string;
  username: string;
  name: string;
  profileImageUrl: string | null;
  /** `None`, `Basic`, `Premium` or `PremiumPlus` when X says; null when it does not. */
  subscriptionType: string | null;
}

export interface XTweet {
  id: string;
  /**
   * The whole text: X's `note_tweet.text` for a long post (Premium, over 280 weighted characters), whose
   * `text` holds only its first ~280 followed by `…` and a link; otherwise `text`.
   */
  text: string;
  authorId?: string;
  createdAt?: string;
  inReplyToTweetId?: string;
  conversationId?: string;
}

/** A tweet's counts as X gave them; the private ones only when asked for, by the author, under 30 days. */
export interface XTweetMetrics {
  id: string;
  impressions: number;
  likes: number;
  replies: number;
  /** X's `retweet_count`. */
  reposts: number;
  quotes: number;
  bookmarks: number;
  urlClicks?: number;
  profileClicks?: number;
  engagements?: number;
}

export interface XTweetMetricsAnswer {
  metrics: XTweetMetrics[];
  /** Ids X answered "not found" for: deleted (or never existed). */
  gone: string[];
}

/** One rate-limit window as read from X's response headers; `resetAt` is epoch ms. */
export interface XRateWindow {
  limit: number;
  remaining: number;
  resetAt: number;
}

/** What one response told about the budgets: `x-rate-limit-*`, `x-user-limit-24hour-*`, `x-app-limit-24hour-*`. */
export interface XRateLimitInfo {
  endpoint: string;
  window15m?: XRateWindow;
  user24h?: XRateWindow;
  app24h?: XRateWindow;
}

/**
 * How a failed X call is to be treated (docs/DESIGN.md, "Failure table"):
 * - `retryable`: nothing reached X, or X said "not now" (429, 5xx on a read); try again later.
 * - `ambiguous`: the request may have been applied (timeout or cut connection after sending, 5xx on a create).
 * - `auth`: 401 — refresh once, then the account needs reconnecting.
 * - `terminal`: X refused for a reason a retry will not change (validation, duplicate, forbidden, revoked grant).
 */
/** `app`: the whole app is refused (out of credits, not enrolled): nothing was done; pause and probe. */
export type XFailureClass = 'retryable' | 'ambiguous' | 'auth' | 'terminal' | 'app';

/** What a request does to X's state; decides how a timeout or a 5xx is classified (see `classifyFailure`). */
export type XRequestKind =
  /** Creates something X has no idempotency key for (`POST /2/tweets`): a lost answer is ambiguous. */
  | 'create'
  /** Rotates the refresh token (`POST /2/oauth2/token`): a lost answer may have spent the old token. */
  | 'token'
  /** Reads, deletes, revokes, media steps: repeating them is harmless. */
  | 'idempotent';

/** A media id returned by X's upload endpoints. X media ids expire (`expiresAfterSecs`, typically 86,400). */
export interface XMedia {
  mediaId: string;
  mediaKey: string | null;
  expiresAfterSecs: number | null;
}

/** `media_category` of X's upload endpoints. Images go one-shot; GIFs and videos go chunked. */
export type XMediaCategory = 'tweet_image' | 'tweet_gif' | 'tweet_video';

/** Bytes to upload: a buffer, or a stream with its exact size known up front (X's `total_bytes`). */
export type XMediaSource = Uint8Array | { size: number; stream: AsyncIterable<Uint8Array> };

/** One page of `GET /2/users/:id/tweets`, newest first. */
export interface XTweetPage {
  tweets: XTweet[];
  /** `meta.next_token`: pass it as `paginationToken` for the next (older) page; absent on the last page. */
  nextToken?: string;
}
