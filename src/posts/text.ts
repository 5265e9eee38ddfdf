import twitter from 'twitter-text';

/** X's limit for a post by an account without a subscription (twitter-text v3 `maxWeightedTweetLength`). */
export const STANDARD_MAX_WEIGHTED_LENGTH = 280;

/** X's limit for long posts, open to subscribed accounts through the API (x-api.md §5). */
export const LONG_POST_MAX_WEIGHTED_LENGTH = 25_000;

/**
 * `subscription_type` values (from X's `GET /2/users/me`) whose accounts may post long text.
 * `Basic` is included: X Premium Basic lists "longer posts" among its features, and the one client
 * that maps the field (x-api.md §5) treats Basic like Premium. Unknown or `None` → 280.
 */
const LONG_POST_SUBSCRIPTIONS = new Set(['Basic', 'Premium', 'PremiumPlus']);

/** The weighted-length limit for an account with this X `subscription_type` (null = unknown). */
export function maxWeightedLengthFor(subscriptionType: string | null): number {
  return subscriptionType !== null && LONG_POST_SUBSCRIPTIONS.has(subscriptionType)
    ? LONG_POST_MAX_WEIGHTED_LENGTH
    : STANDARD_MAX_WEIGHTED_LENGTH;
}

/** Length of `text` as X counts it: NFC, URLs 23, emoji and CJK 2, most Latin 1 (x-api.md §7). */
export function weightedLength(text: string): number {
  return twitter.parseTweet(text).weightedLength;
}

/** Why a text cannot be posted as one tweet; `null` from {@link checkText} means it can. */
export type TextProblem = 'text_too_long' | 'invalid_characters';

/** The result of checking one tweet's text against a limit. */
export interface TextCheck {
  weightedLength: number;
  limit: number;
  problem: TextProblem | null;
}

/** Whether `text` has characters X refuses (U+FFFE, U+FEFF, U+FFFF); cheap, unlike the weighted length. */
export function hasInvalidCharacters(text: string): boolean {
  return twitter.hasInvalidCharacters(text);
}

/**
 * Checks `text` as X will when the tweet is sent: characters twitter-text calls invalid
 * (U+FFFE, U+FEFF, U+FFFF) and the weighted length against `limit`. Empty text is not a problem
 * here: whether it is allowed depends on the item's media, which the caller knows.
 */
export function checkText(text: string, limit: number): TextCheck {
  const length = weightedLength(text);
  let problem: TextProblem | null = null;
  if (hasInvalidCharacters(text)) problem = 'invalid_characters';
  else if (length > limit) problem = 'text_too_long';
  return { weightedLength: length, limit, problem };
}
