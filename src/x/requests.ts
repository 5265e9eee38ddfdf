/**
 * Pure request builders and response readers for X's v2 endpoints (docs/x-api.md §2–§3).
 * Builders return an `XRequest`; `transport.send()` does the I/O.
 */
import { classifyFailure, XError } from './errors.ts';
import type { XRequest } from './transport.ts';
import type {
  XMedia,
  XMediaCategory,
  XTweet,
  XTweetMetrics,
  XTweetMetricsAnswer,
  XTweetPage,
  XUser,
} from './types.ts';

const userFields = 'profile_image_url,subscription_type,verified_type';
// `note_tweet` carries the whole text of a long post (Premium, over 280): X's `text` then holds only its start.
const tweetFields = 'author_id,created_at,conversation_id,referenced_tweets,note_tweet';

export function getMeRequest(): XRequest {
  return {
    endpoint: 'GET /2/users/me',
    kind: 'idempotent',
    method: 'GET',
    path: '/2/users/me',
    query: { 'user.fields': userFields },
  };
}

export interface CreateTweetInput {
  text: string;
  /** The tweet this one replies to (the previous item of a thread). */
  replyToTweetId?: string;
  /** X media ids (1–4), from `uploadMedia`. */
  mediaIds?: string[];
}

export function createTweetRequest(input: CreateTweetInput): XRequest {
  return {
    endpoint: 'POST /2/tweets',
    kind: 'create',
    method: 'POST',
    path: '/2/tweets',
    json: {
      text: input.text,
      ...(input.replyToTweetId !== undefined && { reply: { in_reply_to_tweet_id: input.replyToTweetId } }),
      ...(input.mediaIds !== undefined &&
        input.mediaIds.length > 0 && { media: { media_ids: input.mediaIds } }),
    },
  };
}

export function deleteTweetRequest(tweetId: string): XRequest {
  return {
    endpoint: 'DELETE /2/tweets/:id',
    kind: 'idempotent',
    method: 'DELETE',
    path: `/2/tweets/${encodeURIComponent(tweetId)}`,
  };
}

export function getTweetsRequest(ids: readonly string[]): XRequest {
  return {
    endpoint: 'GET /2/tweets',
    kind: 'idempotent',
    method: 'GET',
    path: '/2/tweets',
    query: { ids: ids.join(','), 'tweet.fields': tweetFields },
  };
}

/**
 * `GET /2/tweets?ids=` for metrics: public metrics always; with `private`, the author-only `non_public_metrics`
 * and `organic_metrics` too (X omits a tweet older than 30 days from `data` when they are asked for).
 */
export function getTweetMetricsRequest(ids: readonly string[], withPrivate: boolean): XRequest {
  return {
    endpoint: 'GET /2/tweets',
    kind: 'idempotent',
    method: 'GET',
    path: '/2/tweets',
    query: {
      ids: ids.join(','),
      'tweet.fields': withPrivate ? 'public_metrics,non_public_metrics,organic_metrics' : 'public_metrics',
    },
  };
}

export interface UserTweetsQuery {
  /** Only tweets newer than this id (takes precedence over `startTime` at X). */
  sinceId?: string;
  /** Only tweets created at or after this epoch ms. */
  startTime?: number;
  /** 5–100; X's default is 10. */
  maxResults?: number;
  paginationToken?: string;
}

function xTime(epochMs: number): string {
  // X wants YYYY-MM-DDTHH:mm:ssZ, without milliseconds.
  return `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
}

export function getUserTweetsRequest(userId: string, query: UserTweetsQuery = {}): XRequest {
  return {
    endpoint: 'GET /2/users/:id/tweets',
    kind: 'idempotent',
    method: 'GET',
    path: `/2/users/${encodeURIComponent(userId)}/tweets`,
    query: {
      'tweet.fields': tweetFields,
      ...(query.sinceId !== undefined && { since_id: query.sinceId }),
      ...(query.startTime !== undefined && { start_time: xTime(query.startTime) }),
      ...(query.maxResults !== undefined && { max_results: String(query.maxResults) }),
      ...(query.paginationToken !== undefined && { pagination_token: query.paginationToken }),
    },
  };
}

/** One-shot upload (`POST /2/media/upload`, multipart) — for images. */
export function uploadMediaRequest(bytes: Uint8Array, mime: string, category: XMediaCategory): XRequest {
  const form = new FormData();
  form.set('media', new Blob([bytes], { type: mime }), 'media');
  form.set('media_category', category);
  form.set('media_type', mime);
  return {
    endpoint: 'POST /2/media/upload',
    kind: 'idempotent',
    method: 'POST',
    path: '/2/media/upload',
    form,
  };
}

export function initializeUploadRequest(
  totalBytes: number,
  mime: string,
  category: XMediaCategory,
): XRequest {
  return {
    endpoint: 'POST /2/media/upload/initialize',
    kind: 'idempotent',
    method: 'POST',
    path: '/2/media/upload/initialize',
    json: { media_type: mime, total_bytes: totalBytes, media_category: category },
  };
}

export function appendUploadRequest(mediaId: string, segmentIndex: number, chunk: Uint8Array): XRequest {
  const form = new FormData();
  form.set('media', new Blob([chunk], { type: 'application/octet-stream' }), 'media');
  form.set('segment_index', String(segmentIndex));
  return {
    endpoint: 'POST /2/media/upload/:id/append',
    kind: 'idempotent',
    method: 'POST',
    path: `/2/media/upload/${encodeURIComponent(mediaId)}/append`,
    form,
  };
}

export function finalizeUploadRequest(mediaId: string): XRequest {
  return {
    endpoint: 'POST /2/media/upload/:id/finalize',
    kind: 'idempotent',
    method: 'POST',
    path: `/2/media/upload/${encodeURIComponent(mediaId)}/finalize`,
  };
}

export function uploadStatusRequest(mediaId: string): XRequest {
  return {
    endpoint: 'GET /2/media/upload',
    kind: 'idempotent',
    method: 'GET',
    path: '/2/media/upload',
    query: { command: 'STATUS', media_id: mediaId },
  };
}

export function setAltTextRequest(mediaId: string, text: string): XRequest {
  return {
    endpoint: 'POST /2/media/metadata',
    kind: 'idempotent',
    method: 'POST',
    path: '/2/media/metadata',
    json: { id: mediaId, metadata: { alt_text: { text } } },
  };
}

// ---- response readers: X's JSON → xgate's shapes; a body that does not fit throws x_unreadable_body ----

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unreadable(endpoint: string, what: string): XError {
  return new XError(
    classifyFailure({ kind: endpoint === 'POST /2/tweets' ? 'create' : 'idempotent', status: 200 }),
    `X answered ${endpoint} without ${what}.`,
    { endpoint, status: 200 },
  );
}

function dataOf(body: unknown, endpoint: string): Json {
  const data = isObject(body) ? body.data : undefined;
  if (!isObject(data)) throw unreadable(endpoint, 'a data object');
  return data;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function readUser(body: unknown): XUser {
  const data = dataOf(body, 'GET /2/users/me');
  const id = str(data.id);
  const username = str(data.username);
  if (id === undefined || username === undefined)
    throw unreadable('GET /2/users/me', 'a user id and username');
  return {
    id,
    username,
    name: str(data.name) ?? username,
    profileImageUrl: str(data.profile_image_url) ?? null,
    subscriptionType: str(data.subscription_type) ?? null,
  };
}

function readTweetObject(data: Json): XTweet | undefined {
  const id = str(data.id);
  const note = isObject(data.note_tweet) ? str(data.note_tweet.text) : undefined;
  const text = note ?? str(data.text);
  if (id === undefined || text === undefined) return undefined;
  const replied = Array.isArray(data.referenced_tweets)
    ? data.referenced_tweets.find((ref) => isObject(ref) && ref.type === 'replied_to')
    : undefined;
  const tweet: XTweet = { id, text };
  const authorId = str(data.author_id);
  const createdAt = str(data.created_at);
  const conversationId = str(data.conversation_id);
  const inReplyTo = isObject(replied) ? str(replied.id) : undefined;
  if (authorId !== undefined) tweet.authorId = authorId;
  if (createdAt !== undefined) tweet.createdAt = createdAt;
  if (conversationId !== undefined) tweet.conversationId = conversationId;
  if (inReplyTo !== undefined) tweet.inReplyToTweetId = inReplyTo;
  return tweet;
}

export function readCreatedTweet(body: unknown): { id: string; text: string } {
  const tweet = readTweetObject(dataOf(body, 'POST /2/tweets'));
  if (!tweet) throw unreadable('POST /2/tweets', 'the new tweet id');
  return { id: tweet.id, text: tweet.text };
}

export function readDeleted(body: unknown): boolean {
  return dataOf(body, 'DELETE /2/tweets/:id').deleted === true;
}

function readTweetList(body: unknown, endpoint: string): XTweet[] {
  if (!isObject(body)) throw unreadable(endpoint, 'a JSON object');
  // X leaves `data` out when nothing matched.
  if (body.data === undefined) return [];
  if (!Array.isArray(body.data)) throw unreadable(endpoint, 'a data list');
  return body.data.flatMap((item) => {
    const tweet = isObject(item) ? readTweetObject(item) : undefined;
    return tweet ? [tweet] : [];
  });
}

/** Tweets found; ids X reports as missing (deleted or never existed) are simply absent. */
export function readTweets(body: unknown): XTweet[] {
  return readTweetList(body, 'GET /2/tweets');
}

const count = (value: unknown): number => (typeof value === 'number' && value >= 0 ? Math.floor(value) : 0);

/** The answer of {@link getTweetMetricsRequest}: each returned tweet's counts, and the ids X says are gone. */
export function readTweetMetrics(body: unknown): XTweetMetricsAnswer {
  const json = isObject(body) ? body : {};
  const data = Array.isArray(json.data) ? json.data.filter(isObject) : [];
  const metrics: XTweetMetrics[] = [];
  for (const tweet of data) {
    const id = str(tweet.id);
    const pub = isObject(tweet.public_metrics) ? tweet.public_metrics : undefined;
    if (id === undefined || pub === undefined) continue;
    const nonPublic = isObject(tweet.non_public_metrics) ? tweet.non_public_metrics : undefined;
    const organic = isObject(tweet.organic_metrics) ? tweet.organic_metrics : undefined;
    metrics.push({
      id,
      impressions: count(pub.impression_count),
      likes: count(pub.like_count),
      replies: count(pub.reply_count),
      reposts: count(pub.retweet_count),
      quotes: count(pub.quote_count),
      bookmarks: count(pub.bookmark_count),
      ...(nonPublic && {
        urlClicks: count(nonPublic.url_link_clicks ?? organic?.url_link_clicks),
        profileClicks: count(nonPublic.user_profile_clicks ?? organic?.user_profile_clicks),
        engagements: count(nonPublic.engagements),
      }),
    });
  }
  // "Could not find tweet" (deleted, or never existed): X's resource-not-found problem, per id.
  const gone = (Array.isArray(json.errors) ? json.errors.filter(isObject) : [])
    .filter((error) => str(error.type)?.endsWith('/resource-not-found') || error.title === 'Not Found Error')
    .map((error) => str(error.resource_id) ?? str(error.value))
    .filter((id): id is string => id !== undefined);
  return { metrics, gone };
}

export function readTweetPage(body: unknown): XTweetPage {
  const tweets = readTweetList(body, 'GET /2/users/:id/tweets');
  const meta = isObject(body) && isObject(body.meta) ? body.meta : {};
  const nextToken = str(meta.next_token);
  return nextToken === undefined ? { tweets } : { tweets, nextToken };
}

/** The `processing_info` of an upload answer; absent means the media is ready. */
export interface XProcessingInfo {
  state: 'pending' | 'in_progress' | 'succeeded' | 'failed';
  checkAfterSecs?: number;
  errorMessage?: string;
}

export function readMedia(body: unknown, endpoint: string): XMedia & { processing?: XProcessingInfo } {
  const data = dataOf(body, endpoint);
  const id = str(data.id) ?? str(data.media_id_string);
  if (id === undefined) throw unreadable(endpoint, 'a media id');
  const expires = data.expires_after_secs;
  const media: XMedia & { processing?: XProcessingInfo } = {
    mediaId: id,
    mediaKey: str(data.media_key) ?? null,
    expiresAfterSecs: typeof expires === 'number' ? expires : null,
  };
  const info = data.processing_info;
  if (isObject(info) && typeof info.state === 'string') {
    const processing: XProcessingInfo = { state: info.state as XProcessingInfo['state'] };
    if (typeof info.check_after_secs === 'number') processing.checkAfterSecs = info.check_after_secs;
    const message = isObject(info.error) ? str(info.error.message) : undefined;
    if (message !== undefined) processing.errorMessage = message;
    media.processing = processing;
  }
  return media;
}
