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

/** How fast a tweet's first-day audience arrives: most of it within a few hours, as on X. */
const FIRST_DAY_TIME_CONSTANT_MINUTES = 240;

/**
 * Metrics of a tweet at emulator time `now`: a pure function of the tweet id and its age, so tests and
 * the service's metrics collector see the same numbers every run, and every count only grows as
 * emulator time passes. Like on X, most of a tweet's reach comes in its first day: impressions rise towards a
 * per-tweet reach (200–5,000) with a 4-hour time constant, then a slow tail adds about 10 % of it per
 * month (logarithmically). Likes are 1–5 % of impressions; reposts, replies, quotes and bookmarks fractions of
 * likes. No promoted metrics: the emulator has no ads.
 */
export function tweetMetrics(
  tweet: { id: string; createdAt: number; hasLinks: boolean },
  now: number,
): TweetMetrics {
  const seed = hash32(tweet.id);
  const minutes = Math.max(0, now - tweet.createdAt) / 60_000;
  const reach = 200 + (seed % 4801); // 200..5,000 impressions in the first days
  const likeRate = 0.01 + ((seed >>> 8) % 5) / 100; // 1%..5% of impressions
  const firstDays = 1 - Math.exp(-minutes / FIRST_DAY_TIME_CONSTANT_MINUTES);
  const tail = 0.04 * Math.log1p(minutes / 1440);
  const impressions = Math.floor(reach * (firstDays + tail));
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
