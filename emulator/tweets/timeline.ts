import { ID_PATTERN } from '../json-body.ts';
import type { InvalidParameter } from '../problems.ts';
import { badIdError, type Query } from '../query.ts';
import type { EmuTweet } from '../state.ts';

/** Query parameters of `GET /2/users/:id/tweets` besides the field selection. */
export const TIMELINE_PARAMETERS = [
  'id',
  'since_id',
  'until_id',
  'max_results',
  'pagination_token',
  'exclude',
  'start_time',
  'end_time',
] as const;

/** X's depth limits: the 3,200 most recent posts (800 when replies are excluded) can be reached. */
const DEPTH = 3200;
const DEPTH_WITHOUT_REPLIES = 800;
const DEFAULT_MAX_RESULTS = 10;

/** A validated timeline query. */
export interface TimelineQuery {
  maxResults: number;
  /** Page after (`next`) or before (`previous`) the anchor id. */
  cursor: { direction: 'next' | 'previous'; anchorId: bigint } | null;
  sinceId: bigint | null;
  untilId: bigint | null;
  startTime: number | null;
  endTime: number | null;
  excludeReplies: boolean;
  excludeRetweets: boolean;
}

/** Validates the timeline parameters with X's messages; `errors` is empty when the query is usable. */
export function parseTimelineQuery(query: Query): { errors: InvalidParameter[]; timeline: TimelineQuery } {
  const errors: InvalidParameter[] = [];
  const timeline: TimelineQuery = {
    maxResults: DEFAULT_MAX_RESULTS,
    cursor: null,
    sinceId: null,
    untilId: null,
    startTime: null,
    endTime: null,
    excludeReplies: false,
    excludeRetweets: false,
  };

  const max = query.max_results;
  if (max !== undefined) {
    const n = /^-?\d+$/.test(max) ? Number(max) : Number.NaN;
    if (Number.isInteger(n) && n >= 5 && n <= 100) timeline.maxResults = n;
    else {
      errors.push({
        parameters: { max_results: [max] },
        message: `The \`max_results\` query parameter value [${max}] is not between 5 and 100`,
      });
    }
  }
  for (const name of ['since_id', 'until_id'] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (!ID_PATTERN.test(value)) errors.push(badIdError(name, value));
    else if (name === 'since_id') timeline.sinceId = BigInt(value);
    else timeline.untilId = BigInt(value);
  }
  for (const name of ['start_time', 'end_time'] as const) {
    const value = query[name];
    if (value === undefined) continue;
    const at = parseTimestamp(value);
    if (at === null) {
      errors.push({
        parameters: { [name]: [value] },
        message: `The \`${name}\` query parameter value [${value}] is not a valid RFC 3339 timestamp (YYYY-MM-DDTHH:mm:ssZ)`,
      });
    } else if (name === 'start_time') timeline.startTime = at;
    else timeline.endTime = at;
  }
  if (timeline.startTime !== null && timeline.endTime !== null && timeline.startTime >= timeline.endTime) {
    errors.push({
      parameters: { start_time: [query.start_time!], end_time: [query.end_time!] },
      message: `Invalid 'start_time':'${query.start_time}'. 'start_time' must be before 'end_time':'${query.end_time}'`,
    });
  }
  const exclude = query.exclude;
  if (exclude !== undefined) {
    for (const value of exclude.split(',')) {
      if (value === 'replies') timeline.excludeReplies = true;
      else if (value === 'retweets') timeline.excludeRetweets = true;
      else {
        errors.push({
          parameters: { exclude: [exclude] },
          message: `The \`exclude\` query parameter value [${value}] is not one of [replies,retweets]`,
        });
      }
    }
  }
  const token = query.pagination_token;
  if (token !== undefined) {
    const cursor = decodeToken(token);
    if (cursor === null) {
      errors.push({
        parameters: { pagination_token: [token] },
        message: `The \`pagination_token\` query parameter value [${token}] is not a valid pagination token`,
      });
    } else timeline.cursor = cursor;
  }
  return { errors, timeline };
}

/** RFC 3339 with a zone (X documents `YYYY-MM-DDTHH:mm:ssZ`; fractions and offsets parse too). */
function parseTimestamp(value: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

/** One page of a timeline: tweets newest first, and the tokens to the pages around it. */
export interface TimelinePage {
  tweets: EmuTweet[];
  nextToken: string | null;
  previousToken: string | null;
}

/**
 * The page of `authored` (one author's tweets, oldest first, deleted ones included) that `query`
 * selects. `since_id` wins over `start_time` and `until_id` over `end_time`, as X documents. Tokens
 * point at the page's last (next) and first (previous) tweet, so pages stay stable while new tweets
 * arrive.
 */
export function timelinePage(authored: readonly EmuTweet[], query: TimelineQuery): TimelinePage {
  const depth = query.excludeReplies ? DEPTH_WITHOUT_REPLIES : DEPTH;
  const eligible: EmuTweet[] = [];
  let reachable = 0;
  for (let i = authored.length - 1; i >= 0 && reachable < depth; i--) {
    const tweet = authored[i]!;
    if (tweet.deletedAt !== null) continue;
    reachable++;
    if (query.excludeReplies && tweet.inReplyToTweetId !== null) continue;
    const id = BigInt(tweet.id);
    if (query.sinceId !== null) {
      if (id <= query.sinceId) break;
    } else if (query.startTime !== null && tweet.createdAt < query.startTime) break;
    if (query.untilId !== null) {
      if (id >= query.untilId) continue;
    } else if (query.endTime !== null && tweet.createdAt >= query.endTime) continue;
    eligible.push(tweet);
  }

  // `eligible` is newest first.
  let start = 0;
  let end = Math.min(eligible.length, query.maxResults);
  if (query.cursor?.direction === 'next') {
    const anchor = query.cursor.anchorId;
    start = eligible.findIndex((t) => BigInt(t.id) < anchor);
    if (start < 0) start = eligible.length;
    end = Math.min(eligible.length, start + query.maxResults);
  } else if (query.cursor?.direction === 'previous') {
    const anchor = query.cursor.anchorId;
    let firstOlder = eligible.findIndex((t) => BigInt(t.id) <= anchor);
    if (firstOlder < 0) firstOlder = eligible.length;
    end = firstOlder;
    start = Math.max(0, end - query.maxResults);
  }
  const tweets = eligible.slice(start, end);
  const last = tweets[tweets.length - 1];
  const first = tweets[0];
  return {
    tweets,
    nextToken: last && end < eligible.length ? encodeToken('next', last.id) : null,
    previousToken: first && (start > 0 || query.cursor !== null) ? encodeToken('previous', first.id) : null,
  };
}

/** Opaque base36 tokens (X's are base36 too): the anchor id times two, plus one for "previous". */
function encodeToken(direction: 'next' | 'previous', anchorId: string): string {
  return (BigInt(anchorId) * 2n + (direction === 'previous' ? 1n : 0n)).toString(36);
}

function decodeToken(token: string): TimelineQuery['cursor'] {
  if (!/^[0-9a-z]{1,30}$/.test(token)) return null;
  let value = 0n;
  for (const char of token) value = value * 36n + BigInt(Number.parseInt(char, 36));
  return { direction: value % 2n === 1n ? 'previous' : 'next', anchorId: value / 2n };
}
