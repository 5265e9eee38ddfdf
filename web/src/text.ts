import twitterText from 'twitter-text';

/** X's limit without a subscription, and for accounts whose subscription allows long posts. */
export const STANDARD_LIMIT = 280;
export const LONG_POST_LIMIT = 25_000;
const LONG_POST_SUBSCRIPTIONS = new Set(['Basic', 'Premium', 'PremiumPlus']);

/** The weighted-length limit of an account, as the server applies it (src/posts/text.ts). */
export function limitFor(subscriptionType: string | null | undefined): number {
  return subscriptionType && LONG_POST_SUBSCRIPTIONS.has(subscriptionType) ? LONG_POST_LIMIT : STANDARD_LIMIT;
}

/** The length X counts: URLs 23, emoji and CJK 2, the rest 1 (twitter-text, the library X publishes). */
export function weightedLength(text: string): number {
  return twitterText.parseTweet(text).weightedLength;
}

/** The URLs X would find in `text` (they count 23 each). */
export function urlsIn(text: string): string[] {
  return twitterText.extractUrls(text);
}
