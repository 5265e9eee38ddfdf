import { billRead } from '../billing.ts';
import type { Problem } from '../problems.ts';
import { PROBLEM_TYPE_PREFIX } from '../problems.ts';
import type { FieldSelection } from '../query.ts';
import type { EmulatorState, EmuMedia, EmuTweet, EmuUser } from '../state.ts';
import { PRIVATE_METRICS_MAX_AGE_MS, tweetMetrics } from './metrics.ts';
import {
  escapeText,
  type LinkedUrl,
  leadingPart,
  mediaLink,
  postLink,
  postPageUrl,
  textEntities,
} from './text.ts';

/** X lets a tweet be edited for an hour after it is created (edit_controls.editable_until). */
const EDIT_WINDOW_MS = 60 * 60 * 1000;
const EDITS_ALLOWED = 5;

/** The sub-fields of `organic_metrics` and `promoted_metrics`, which X documents with the same shape. */
const ENGAGEMENT_SUBFIELDS = [
  'impression_count',
  'like_count',
  'reply_count',
  'retweet_count',
  'url_link_clicks',
  'user_profile_clicks',
] as const;

/** Sub-fields X names one by one when it refuses a private metrics field. */
const PRIVATE_SUBFIELDS: Record<string, readonly string[]> = {
  non_public_metrics: ['impression_count', 'url_link_clicks', 'user_profile_clicks', 'engagements'],
  organic_metrics: ENGAGEMENT_SUBFIELDS,
  promoted_metrics: ENGAGEMENT_SUBFIELDS,
};

/** Who is asking and when: decides private metrics and their 30-day limit. */
export interface Viewer {
  /** The user of the token; null for app-only access. */
  userId: string | null;
  now: number;
}

/** A lookup answer being built: tweets, their includes and the per-item errors of a 200. */
export interface TweetsAnswer {
  data: Record<string, unknown>[];
  errors: Problem[];
  includes: {
    users: Map<string, Record<string, unknown>>;
    media: Map<string, Record<string, unknown>>;
    tweets: Map<string, Record<string, unknown>>;
  };
}

export function emptyAnswer(): TweetsAnswer {
  return { data: [], errors: [], includes: { users: new Map(), media: new Map(), tweets: new Map() } };
}

/**
 * Adds a tweet to an answer as X would show it to `viewer`. Private metrics (`non_public_metrics`,
 * `organic_metrics`, `promoted_metrics`) are the author's alone: anyone else gets one
 * not-authorized-for-field error per sub-field and no tweet; the author gets no tweet older than 30
 * days (X's documented "result_count 0 with a next_token" case). Returns whether the tweet was added.
 */
export function addTweet(
  answer: TweetsAnswer,
  state: EmulatorState,
  tweet: EmuTweet,
  selection: FieldSelection,
  viewer: Viewer,
  parameter = 'id',
): boolean {
  const privateFields = ['non_public_metrics', 'organic_metrics', 'promoted_metrics'].filter((f) =>
    selection.tweetFields.has(f),
  );
  if (privateFields.length > 0) {
    if (viewer.userId !== tweet.authorId) {
      for (const field of privateFields) {
        for (const sub of PRIVATE_SUBFIELDS[field]!) {
          answer.errors.push(fieldRefused(tweet.id, `${field}.${sub}`, parameter));
        }
      }
      return false;
    }
    if (viewer.now - tweet.createdAt > PRIVATE_METRICS_MAX_AGE_MS) return false;
  }
  answer.data.push(renderTweet(state, tweet, selection.tweetFields, viewer.now));
  billRead(state.billing, tweet.id, viewer.now);
  addIncludes(answer, state, tweet, selection, viewer.now);
  return true;
}

function fieldRefused(tweetId: string, field: string, parameter: string): Problem {
  return {
    resource_type: 'tweet',
    field,
    parameter,
    resource_id: tweetId,
    title: 'Field Authorization Error',
    section: 'data',
    detail: `Sorry, you are not authorized to access '${field}' on the Tweet with id : [${tweetId}].`,
    value: tweetId,
    type: `${PROBLEM_TYPE_PREFIX}not-authorized-for-field`,
  };
}

/** A tweet object: `id`, `text`, `edit_history_tweet_ids` always, the requested fields that apply. */
export function renderTweet(
  state: EmulatorState,
  tweet: EmuTweet,
  fields: ReadonlySet<string>,
  now: number,
): Record<string, unknown> {
  const leading = leadingPart(tweet.text);
  const out: Record<string, unknown> = {
    id: tweet.id,
    text: tweetText(tweet, leading),
    edit_history_tweet_ids: [tweet.id],
  };
  if (fields.size === 0) return out;
  if (fields.has('note_tweet') && leading !== undefined) {
    const entities = textEntities(tweet.text, tweet.urls);
    out.note_tweet = {
      text: escapeText(tweet.text),
      ...(Object.keys(entities).length > 0 && { entities }),
    };
  }
  const parent = tweet.inReplyToTweetId === null ? undefined : state.tweets.get(tweet.inReplyToTweetId);
  if (fields.has('author_id')) out.author_id = tweet.authorId;
  if (fields.has('created_at')) out.created_at = new Date(tweet.createdAt).toISOString();
  if (fields.has('conversation_id')) out.conversation_id = tweet.conversationId;
  if (fields.has('in_reply_to_user_id') && parent) out.in_reply_to_user_id = parent.authorId;
  if (fields.has('referenced_tweets')) {
    const referenced: { type: string; id: string }[] = [];
    if (tweet.inReplyToTweetId !== null) referenced.push({ type: 'replied_to', id: tweet.inReplyToTweetId });
    if (tweet.quoteTweetId !== null) referenced.push({ type: 'quoted', id: tweet.quoteTweetId });
    if (referenced.length > 0) out.referenced_tweets = referenced;
  }
  if (fields.has('attachments') && tweet.mediaIds.length > 0) {
    out.attachments = { media_keys: mediaKeys(state, tweet) };
  }
  if (fields.has('entities')) {
    const entities = leading === undefined ? entitiesOf(state, tweet) : leadingEntities(tweet, leading);
    if (Object.keys(entities).length > 0) out.entities = entities;
  }
  if (fields.has('display_text_range')) {
    const shown = leading === undefined ? tweet.text : `${leading}…`;
    out.display_text_range = [0, [...escapeText(shown)].length];
  }
  if (fields.has('edit_controls')) {
    const editableUntil = tweet.createdAt + EDIT_WINDOW_MS;
    out.edit_controls = {
      is_edit_eligible: tweet.mediaIds.length === 0 && now < editableUntil,
      editable_until: new Date(editableUntil).toISOString(),
      edits_remaining: EDITS_ALLOWED,
    };
  }
  if (fields.has('lang')) out.lang = 'en';
  if (fields.has('possibly_sensitive')) out.possibly_sensitive = false;
  if (fields.has('reply_settings')) out.reply_settings = tweet.replySettings ?? 'everyone';
  const wantsMetrics =
    fields.has('public_metrics') || fields.has('non_public_metrics') || fields.has('organic_metrics');
  if (wantsMetrics) {
    const metrics = tweetMetrics(
      { id: tweet.id, createdAt: tweet.createdAt, hasLinks: tweet.urls.length > 0 },
      now,
    );
    if (fields.has('public_metrics')) out.public_metrics = metrics.public;
    if (fields.has('non_public_metrics')) out.non_public_metrics = metrics.nonPublic;
    if (fields.has('organic_metrics')) out.organic_metrics = metrics.organic;
  }
  return out;
}

/**
 * A tweet's `text` as X shows it: `&`, `<`, `>` escaped as HTML entities and, when media are attached, a
 * t.co link to them appended. The stored text (and the `/__admin/tweets` ledger) has neither. A long post
 * (heavier than 280) shows only its leading part, `…`, a space and a t.co link to the post (no media link);
 * its whole text is in `note_tweet`.
 */
export function tweetText(tweet: EmuTweet, leading = leadingPart(tweet.text)): string {
  if (leading !== undefined) return `${escapeText(leading)}… ${postLink(tweet.id)}`;
  const escaped = escapeText(tweet.text);
  if (tweet.mediaIds.length === 0) return escaped;
  const link = mediaLink(tweet.id);
  return escaped === '' ? link : `${escaped} ${link}`;
}

/** Entities of the shown text: those of the words, plus the media link with the first media's key. */
function entitiesOf(state: EmulatorState, tweet: EmuTweet) {
  if (tweet.mediaIds.length === 0) return textEntities(tweet.text, tweet.urls);
  const first = state.media.get(tweet.mediaIds[0]!);
  const author = state.users.get(tweet.authorId);
  const link = mediaLink(tweet.id);
  const page = first?.kind === 'video' ? 'video' : 'photo';
  const mediaUrl: LinkedUrl & { mediaKey?: string } = {
    url: link,
    expandedUrl: `https://x.com/${author?.username ?? 'i'}/status/${tweet.id}/${page}/1`,
    displayUrl: `pic.x.com/${link.slice('https://t.co/'.length)}`,
    original: link,
    ...(first === undefined ? {} : { mediaKey: first.mediaKey }),
  };
  const text = tweet.text === '' ? link : `${tweet.text} ${link}`;
  return textEntities(text, [...tweet.urls, mediaUrl]);
}

/** Entities of a long post's shown text: those within its leading part, plus the link to the post. */
function leadingEntities(tweet: EmuTweet, leading: string) {
  const link = postLink(tweet.id);
  const page = postPageUrl(tweet.id);
  const postUrl: LinkedUrl = {
    url: link,
    expandedUrl: page,
    displayUrl: `${page.replace(/^https:\/\//, '').slice(0, 25)}…`,
    original: link,
  };
  return textEntities(`${leading}… ${link}`, [...tweet.urls, postUrl]);
}

function mediaKeys(state: EmulatorState, tweet: EmuTweet): string[] {
  return tweet.mediaIds.map((id) => state.media.get(id)?.mediaKey ?? `3_${id}`);
}

function addIncludes(
  answer: TweetsAnswer,
  state: EmulatorState,
  tweet: EmuTweet,
  selection: FieldSelection,
  now: number,
): void {
  const { expansions } = selection;
  if (expansions.size === 0) return;
  const addUser = (id: string) => {
    const user = state.users.get(id);
    if (user && !answer.includes.users.has(id))
      answer.includes.users.set(id, renderUser(user, selection.userFields));
  };
  if (expansions.has('author_id')) addUser(tweet.authorId);
  const parent = tweet.inReplyToTweetId === null ? undefined : state.tweets.get(tweet.inReplyToTweetId);
  if (expansions.has('in_reply_to_user_id') && parent) addUser(parent.authorId);
  if (expansions.has('attachments.media_keys')) {
    for (const id of tweet.mediaIds) {
      const media = state.media.get(id);
      if (media && !answer.includes.media.has(media.mediaKey)) {
        answer.includes.media.set(media.mediaKey, renderMedia(media, selection.mediaFields));
      }
    }
  }
  if (expansions.has('referenced_tweets.id')) {
    for (const id of [tweet.inReplyToTweetId, tweet.quoteTweetId]) {
      const referenced = id === null ? undefined : state.tweets.get(id);
      if (referenced && referenced.deletedAt === null && !answer.includes.tweets.has(referenced.id)) {
        const fields = new Set(
          [...selection.tweetFields].filter((f) => !f.endsWith('_metrics') || f === 'public_metrics'),
        );
        answer.includes.tweets.set(referenced.id, renderTweet(state, referenced, fields, now));
      }
    }
  }
}

/** A user object as found in `includes.users`. */
export function renderUser(user: EmuUser, fields: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  if (fields.has('created_at')) out.created_at = new Date(user.createdAt).toISOString();
  if (fields.has('description')) out.description = user.description;
  if (fields.has('protected')) out.protected = false;
  if (fields.has('verified')) out.verified = user.subscriptionType !== 'None';
  if (fields.has('subscription_type')) out.subscription_type = user.subscriptionType;
  return out;
}

/** A media object as found in `includes.media`. */
export function renderMedia(media: EmuMedia, fields: ReadonlySet<string>): Record<string, unknown> {
  const type = media.kind === 'gif' ? 'animated_gif' : media.kind === 'video' ? 'video' : 'photo';
  const out: Record<string, unknown> = { media_key: media.mediaKey, type };
  if (fields.has('alt_text') && media.altText !== null) out.alt_text = media.altText;
  return out;
}

/** The answer as X's JSON: `data` (omitted when empty unless `single`), `includes`, `errors`. */
export function answerBody(answer: TweetsAnswer, single: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (single) {
    if (answer.data[0]) body.data = answer.data[0];
  } else if (answer.data.length > 0) {
    body.data = answer.data;
  }
  const includes: Record<string, unknown[]> = {};
  if (answer.includes.users.size > 0) includes.users = [...answer.includes.users.values()];
  if (answer.includes.media.size > 0) includes.media = [...answer.includes.media.values()];
  if (answer.includes.tweets.size > 0) includes.tweets = [...answer.includes.tweets.values()];
  if (Object.keys(includes).length > 0) body.includes = includes;
  if (answer.errors.length > 0) body.errors = answer.errors;
  return body;
}
