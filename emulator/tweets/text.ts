import { createHash } from 'node:crypto';
import twitter from 'twitter-text';

/** X's limit for accounts without a subscription (twitter-text config v3 `maxWeightedTweetLength`). */
export const STANDARD_MAX_WEIGHTED_LENGTH = 280;
/** X Premium accounts may post long text through the API (x-api.md §5). */
export const LONG_MAX_WEIGHTED_LENGTH = 25_000;

/** Length of every `https://t.co/…` link; twitter-text's `transformedURLLength` is the same 23. */
const TCO_PREFIX = 'https://t.co/';
const TCO_CODE_LENGTH = 10;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The weighted-length limit for a user's subscription type (`Basic`, `Premium`, `PremiumPlus` get
 * 25,000; `None` or unknown gets 280).
 */
export function maxWeightedLength(subscriptionType: string | undefined): number {
  return subscriptionType === 'Basic' || subscriptionType === 'Premium' || subscriptionType === 'PremiumPlus'
    ? LONG_MAX_WEIGHTED_LENGTH
    : STANDARD_MAX_WEIGHTED_LENGTH;
}

/** X's weighted length of a text, computed by twitter-text exactly as X does (URLs 23, emoji and CJK 2). */
export function weightedLength(text: string): number {
  return twitter.parseTweet(text).weightedLength;
}

/** A URL found in a posted text, as X shows it in `entities.urls`. */
export interface LinkedUrl {
  /** The t.co link that replaced it in the stored text. */
  url: string;
  /** The URL with a scheme, as the author meant it. */
  expandedUrl: string;
  /** The URL without scheme, as X displays it. */
  displayUrl: string;
  /** The URL exactly as written in the posted text. */
  original: string;
}

/** A posted text with every URL replaced by a t.co link, and the URLs that were replaced. */
export interface LinkedText {
  text: string;
  urls: LinkedUrl[];
}

/**
 * Replaces every URL that twitter-text recognises (with or without scheme) by a 23-character
 * `https://t.co/<10 chars>` link, the way X stores and returns posted text. The link code is derived
 * from `seed` (the tweet id) and the URL's position, so the same tweet always gets the same links.
 */
export function linkUrls(text: string, seed: string): LinkedText {
  // Every URL the extractor accepts contains a dot; most posted texts have none and skip the scan.
  if (!text.includes('.')) return { text, urls: [] };
  const found = twitter.extractUrlsWithIndices(text);
  if (found.length === 0) return { text, urls: [] };
  const urls: LinkedUrl[] = [];
  let out = '';
  let cursor = 0;
  for (const [position, entity] of found.entries()) {
    const [start, end] = entity.indices;
    const link = TCO_PREFIX + linkCode(seed, position);
    out += text.slice(cursor, start) + link;
    cursor = end;
    const expandedUrl = /^https?:\/\//i.test(entity.url) ? entity.url : `http://${entity.url}`;
    urls.push({ url: link, expandedUrl, displayUrl: displayUrl(expandedUrl), original: entity.url });
  }
  out += text.slice(cursor);
  return { text: out, urls };
}

/** The text as it was posted: the stored text with its t.co links turned back into the URLs written. */
export function postedText(storedText: string, urls: readonly LinkedUrl[]): string {
  let text = storedText;
  for (const url of urls) text = text.replace(url.url, url.original);
  return text;
}

/**
 * The t.co link X appends to the text of a tweet with media (pointing at the media's page); it does not
 * count towards the weighted length.
 */
export function mediaLink(tweetId: string): string {
  return TCO_PREFIX + linkCode(tweetId, 'media');
}

/** The t.co link X puts after the shortened `text` of a long post, pointing at the post's page. */
export function postLink(tweetId: string): string {
  return TCO_PREFIX + linkCode(tweetId, 'post');
}

/** The page a long post's {@link postLink} leads to. */
export function postPageUrl(tweetId: string): string {
  return `https://x.com/i/web/status/${tweetId}`;
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * The leading part X shows in `text` for a stored text heavier than 280 (a Premium long post, whose whole
 * text is in `note_tweet`), or undefined for a text that fits. The part is cut at a grapheme boundary, then
 * back to the last whitespace when a word would be split (a single word longer than the room is cut mid-word),
 * and small enough that it, `…`, a space and the 23-character post link weigh at most 280 together.
 */
export function leadingPart(storedText: string): string | undefined {
  // Stored URLs are already 23-character t.co links, so no character weighs more than 2 per UTF-16 unit.
  if (storedText.length * 2 <= STANDARD_MAX_WEIGHTED_LENGTH) return undefined;
  const parsed = twitter.parseTweet(storedText);
  if (parsed.weightedLength <= STANDARD_MAX_WEIGHTED_LENGTH) return undefined;
  let kept: string[] = [];
  let splitsWord = false;
  for (const { segment, index } of graphemes.segment(storedText)) {
    if (index + segment.length > parsed.validRangeEnd + 1) {
      splitsWord = !/^\s/.test(segment);
      break;
    }
    kept.push(segment);
  }
  if (splitsWord) kept = withoutLastWord(kept);
  const link = TCO_PREFIX + 'x'.repeat(TCO_CODE_LENGTH);
  while (
    kept.length > 0 &&
    weightedLength(`${kept.join('').trimEnd()}… ${link}`) > STANDARD_MAX_WEIGHTED_LENGTH
  ) {
    kept = withoutLastWord(kept);
  }
  return kept.join('').trimEnd();
}

/** The graphemes up to the last whitespace before the final word, or all but the last when there is none. */
function withoutLastWord(kept: readonly string[]): string[] {
  let end = kept.length;
  while (end > 0 && /^\s/.test(kept[end - 1]!)) end--;
  let space = end - 1;
  while (space > 0 && !/^\s/.test(kept[space]!)) space--;
  return kept.slice(0, space > 0 ? space : end - 1);
}

/** X escapes `&`, `<` and `>` in tweet text as HTML entities (`&amp;`, `&lt;`, `&gt;`). */
export function escapeText(text: string): string {
  if (!/[&<>]/.test(text)) return text;
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function linkCode(seed: string, position: number | string): string {
  const digest = createHash('sha256').update(`${seed}:${position}`).digest();
  let code = '';
  for (let i = 0; i < TCO_CODE_LENGTH; i++) code += BASE62[digest[i]! % 62];
  return code;
}

function displayUrl(expandedUrl: string): string {
  const bare = expandedUrl.replace(/^https?:\/\//i, '').replace(/^www\./i, '');
  return bare.length > 26 ? `${bare.slice(0, 25)}…` : bare;
}

/** A recognised entity in a stored text, with code-point indices (start inclusive, end exclusive). */
interface EntityRange {
  start: number;
  end: number;
}

/** `entities` of a stored tweet text, shaped like X's `FullTextEntities` (empty lists are omitted). */
export interface TweetEntities {
  urls?: (EntityRange & { url: string; expanded_url: string; display_url: string; media_key?: string })[];
  hashtags?: (EntityRange & { tag: string })[];
  mentions?: (EntityRange & { username: string })[];
  cashtags?: (EntityRange & { tag: string })[];
}

/**
 * Entities of a stored text (whose URLs are already t.co links), with X's code-point indices.
 * `urls` pairs each t.co link with the URL it replaced.
 */
export function textEntities(
  text: string,
  urls: readonly (LinkedUrl & { mediaKey?: string })[],
): TweetEntities {
  const entities: TweetEntities = {};
  const toCodePoints = codePointIndexer(text);
  if (urls.length > 0) {
    const list: NonNullable<TweetEntities['urls']> = [];
    let from = 0;
    for (const url of urls) {
      const at = text.indexOf(url.url, from);
      if (at < 0) continue;
      from = at + url.url.length;
      list.push({
        start: toCodePoints(at),
        end: toCodePoints(from),
        url: url.url,
        expanded_url: url.expandedUrl,
        display_url: url.displayUrl,
        ...(url.mediaKey === undefined ? {} : { media_key: url.mediaKey }),
      });
    }
    if (list.length > 0) entities.urls = list;
  }
  const hashtags = twitter.extractHashtagsWithIndices(text);
  if (hashtags.length > 0) {
    entities.hashtags = hashtags.map((h) => ({
      start: toCodePoints(h.indices[0]),
      end: toCodePoints(h.indices[1]),
      tag: h.hashtag,
    }));
  }
  const mentions = twitter.extractMentionsWithIndices(text);
  if (mentions.length > 0) {
    entities.mentions = mentions.map((m) => ({
      start: toCodePoints(m.indices[0]),
      end: toCodePoints(m.indices[1]),
      username: m.screenName,
    }));
  }
  const cashtags = twitter.extractCashtagsWithIndices(text);
  if (cashtags.length > 0) {
    entities.cashtags = cashtags.map((c) => ({
      start: toCodePoints(c.indices[0]),
      end: toCodePoints(c.indices[1]),
      tag: c.cashtag,
    }));
  }
  return entities;
}

/** Maps UTF-16 offsets of `text` to code-point offsets (X counts entity indices in code points). */
function codePointIndexer(text: string): (utf16: number) => number {
  return (utf16) => {
    let points = 0;
    for (let i = 0; i < utf16 && i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= 0xd800 && unit <= 0xdbff) i++;
      points++;
    }
    return points;
  };
}
