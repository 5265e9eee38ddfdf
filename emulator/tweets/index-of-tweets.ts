import type { EmuTweet } from '../state.ts';
import { postedText } from './text.ts';

/**
 * Lookup structures derived from `state.tweets`, so timelines and the duplicate check do not scan every
 * tweet: each user's tweets in id order, and each user's live texts with the newest tweet that used them.
 * Never persisted; rebuilt from the tweets whenever they were replaced or changed behind its back
 * (reset, load from a file).
 */
export interface TweetIndex {
  /** Author id → that author's tweets (deleted ones included), oldest first; ids increase. */
  byAuthor: Map<string, EmuTweet[]>;
  /** `<authorId>\0<posted text>` → newest live tweet with that text, in creation order (oldest first). */
  recentTexts: Map<string, EmuTweet>;
  /** How many tweets of the source map this index has seen. */
  indexed: number;
  /** The source map's first tweet when the index was built: a different one means it was refilled. */
  first: EmuTweet | undefined;
}

const indexes = new WeakMap<Map<string, EmuTweet>, TweetIndex>();

/** The index of `tweets`, built or rebuilt when it does not match them. */
export function tweetIndex(tweets: Map<string, EmuTweet>): TweetIndex {
  const existing = indexes.get(tweets);
  const first = tweets.values().next().value;
  if (existing && existing.indexed === tweets.size && existing.first === first) return existing;
  const index: TweetIndex = { byAuthor: new Map(), recentTexts: new Map(), indexed: 0, first };
  for (const tweet of tweets.values()) addToIndex(index, tweet);
  indexes.set(tweets, index);
  return index;
}

/** Records a tweet just added to the source map. */
export function addToIndex(index: TweetIndex, tweet: EmuTweet): void {
  let list = index.byAuthor.get(tweet.authorId);
  if (!list) {
    list = [];
    index.byAuthor.set(tweet.authorId, list);
  }
  list.push(tweet);
  index.first ??= tweet;
  if (tweet.deletedAt === null) {
    const key = textKey(tweet.authorId, postedText(tweet.text, tweet.urls));
    // Delete first so the map's insertion order stays creation order (pruning walks it from the front).
    index.recentTexts.delete(key);
    index.recentTexts.set(key, tweet);
  }
  index.indexed++;
}

/** Forgets a deleted tweet's text, so the same text may be posted again. */
export function removeDeletedText(index: TweetIndex, tweet: EmuTweet): void {
  const key = textKey(tweet.authorId, postedText(tweet.text, tweet.urls));
  if (index.recentTexts.get(key) === tweet) index.recentTexts.delete(key);
}

/**
 * The author's live tweet posted with exactly this text created within `windowMs` before `now`, if
 * any. O(1): one map lookup, plus pruning of entries that left the window (each pruned once).
 */
export function findDuplicate(
  index: TweetIndex,
  authorId: string,
  text: string,
  now: number,
  windowMs: number,
): EmuTweet | undefined {
  const oldest = now - windowMs;
  for (const [key, tweet] of index.recentTexts) {
    if (tweet.createdAt >= oldest) break;
    index.recentTexts.delete(key);
  }
  const found = index.recentTexts.get(textKey(authorId, text));
  return found && found.createdAt >= oldest && found.deletedAt === null ? found : undefined;
}

function textKey(authorId: string, text: string): string {
  return `${authorId}\u0000${text}`;
}
