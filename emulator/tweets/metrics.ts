/** X's `public_metrics` of a tweet. */
export interface PublicMetrics {
  retweet_count: number;
  reply_count: number;
  like_count: number;
  quote_count: number;
  bookmark_count: number;
  impression_count: number;
}

/** X's `non_public_metrics` (author only, tweets younger than 30 days). */
export interface NonPublicMetrics {
  impression_count: number;
  url_link_clicks: number;
  user_profile_clicks: number;
  engagements: number;
}

/** X's `organic_metrics` (author only, tweets younger than 30 days). */
export interface OrganicMetrics {
  impression_count: number;
  like_count: number;
  reply_count: number;
  retweet_count: number;
  url_link_clicks: number;
  user_profile_clicks: number;
}

export interface TweetMetrics {
  public: PublicMetrics;
  nonPublic: NonPublicMetrics;
  organic: OrganicMetrics;
}

/** Non-public and organic metrics exist only for tweets created within this many ms (X: 30 days). */
export const PRIVATE_METRICS_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Metrics of a tweet at emulator time `now`: a pure function of the tweet id and its age, so tests and
 * the service's metrics collector see the same numbers every run, and every count only grows as
 * emulator time passes (impressions follow √minutes with a per-tweet rate; the other counts are
 * per-tweet fractions of them). No promoted metrics: the emulator has no ads.
 */
export function tweetMetrics(
  tweet: { id: string; createdAt: number; hasLinks: boolean },
  now: number,
): TweetMetrics {
  const seed = hash32(tweet.id);
  const minutes = Math.max(0, now - tweet.createdAt) / 60_000;
  const impressionRate = 5 + (seed % 46); // 5..50 impressions × √minutes
  const likeRate = 0.01 + ((seed >>> 8) % 5) / 100; // 1%..5% of impressions
  const impressions = Math.floor(impressionRate * Math.sqrt(minutes));
  const likes = Math.floor(impressions * likeRate);
  const retweets = Math.floor(likes / 5);
  const replies = Math.floor(likes / 10);
  const quotes = Math.floor(retweets / 5);
  const bookmarks = Math.floor(likes / 7);
  const linkClicks = tweet.hasLinks ? Math.floor(impressions / 100) : 0;
  const profileClicks = Math.floor(impressions / 200);
  return {
    public: {
      retweet_count: retweets,
      reply_count: replies,
      like_count: likes,
      quote_count: quotes,
      bookmark_count: bookmarks,
      impression_count: impressions,
    },
    nonPublic: {
      impression_count: impressions,
      url_link_clicks: linkClicks,
      user_profile_clicks: profileClicks,
      engagements: likes + retweets + replies + quotes + bookmarks + linkClicks + profileClicks,
    },
    organic: {
      impression_count: impressions,
      like_count: likes,
      reply_count: replies,
      retweet_count: retweets,
      url_link_clicks: linkClicks,
      user_profile_clicks: profileClicks,
    },
  };
}

/** FNV-1a, 32 bits: a stable spread of the id's digits. */
function hash32(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
