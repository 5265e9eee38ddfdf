import twitter from 'twitter-text';
import type { UserTweetsQuery, XTweet, XTweetPage } from '../x/index.ts';
import { XError } from '../x/index.ts';

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/**
 * A text reduced to what survives X's rewriting, for comparing what xgate sent with what X shows: URLs are
 * removed (X replaces each with a t.co link and appends links for attached media), HTML entities decoded
 * (X escapes `&`, `<`, `>`), Unicode NFC-normalised (X counts and stores NFC), whitespace collapsed.
 */
export function comparableText(text: string): string {
  const decoded = text
    .normalize('NFC')
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
  const urls = twitter.extractUrlsWithIndices(decoded).sort((a, b) => b.indices[0] - a.indices[0]);
  let stripped = decoded;
  for (const { indices } of urls) stripped = `${stripped.slice(0, indices[0])} ${stripped.slice(indices[1])}`;
  return stripped
    .replace(/https?:\/\/t\.co\/\w+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What xgate knows about the item it is looking for on X. */
export interface ItemFingerprint {
  authorId: string;
  text: string;
  /** The previous item's tweet id for a reply; undefined for the first item of a post. */
  inReplyToTweetId: string | undefined;
}

/**
 * True when `tweet` is what xgate would have created for the item: same author, text and reply target. The
 * text compared is the whole text (`XTweet.text` is `note_tweet.text` for a long post), never X's shortened one.
 */
export function matchesItem(tweet: XTweet, item: ItemFingerprint): boolean {
  if (tweet.authorId !== undefined && tweet.authorId !== item.authorId) return false;
  if ((tweet.inReplyToTweetId ?? undefined) !== item.inReplyToTweetId) return false;
  return comparableText(tweet.text) === comparableText(item.text);
}

/** The result of looking for an item on X. */
export type SearchResult =
  | { kind: 'found'; tweetId: string }
  | { kind: 'absent' }
  | { kind: 'undecidable'; reason: string };

/** How to read the account's timeline and how hard to try. */
export interface SearchOptions {
  read: (query: UserTweetsQuery) => Promise<XTweetPage>;
  /** Where to start: after the previous item's tweet (`sinceId`) or from a time (`startTime`, epoch ms). */
  from: { sinceId: string } | { startTime: number };
  /** Pages of 100 tweets to read at most before giving up as undecidable. */
  maxPages: number;
  /** Attempts per page when the read fails for a reason worth retrying. */
  readAttempts: number;
  sleep: (ms: number) => Promise<void>;
  /** Longest wait after a 429 on the read before declaring it undecidable, in ms. */
  maxWaitMs: number;
  /** `item 2` or `the post`, for reasons a person reads. */
  label: string;
}

/**
 * Looks for the item among the account's tweets since the previous item (or since the attempt started).
 * Exactly one match → found; none in a complete read → absent; several matches, or a read that keeps failing,
 * or more tweets than `maxPages` can hold → undecidable, with a reason a person understands.
 */
export async function searchTimeline(item: ItemFingerprint, options: SearchOptions): Promise<SearchResult> {
  const matches: string[] = [];
  let paginationToken: string | undefined;
  for (let page = 0; page < options.maxPages; page += 1) {
    const query: UserTweetsQuery = {
      ...options.from,
      maxResults: 100,
      ...(paginationToken !== undefined && { paginationToken }),
    };
    const read = await readWithRetries(options, query);
    if ('reason' in read) return { kind: 'undecidable', reason: read.reason };
    for (const tweet of read.page.tweets) if (matchesItem(tweet, item)) matches.push(tweet.id);
    paginationToken = read.page.nextToken;
    if (paginationToken === undefined) {
      if (matches.length === 1) return { kind: 'found', tweetId: matches[0]! };
      if (matches.length === 0) return { kind: 'absent' };
      return {
        kind: 'undecidable',
        reason: `X shows ${matches.length} tweets that match ${options.label} (${matches.join(', ')}); xgate will not pick one.`,
      };
    }
  }
  return {
    kind: 'undecidable',
    reason: `The account posted too many tweets since ${options.label} was sent for xgate to check them all.`,
  };
}

async function readWithRetries(
  options: SearchOptions,
  query: UserTweetsQuery,
): Promise<{ page: XTweetPage } | { reason: string }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { page: await options.read(query) };
    } catch (error) {
      const retryable = error instanceof XError && error.failureClass === 'retryable';
      const wait =
        error instanceof XError && error.retryAfterMs !== undefined ? error.retryAfterMs : 250 * 2 ** attempt;
      if (!retryable || attempt >= options.readAttempts || wait > options.maxWaitMs) {
        const why = error instanceof Error ? error.message : String(error);
        return {
          reason: `xgate could not read the account's tweets to check whether ${options.label} was published: ${why}`,
        };
      }
      await options.sleep(wait);
    }
  }
}
