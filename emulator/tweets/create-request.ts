import { type BodySchema, checkBody, ID_PATTERN } from '../json-body.ts';
import type { InvalidParameter } from '../problems.ts';

const REPLY_SETTINGS = ['following', 'mentionedUsers', 'subscribers', 'verified'] as const;
const id: BodySchema = { type: 'string', pattern: ID_PATTERN };
const url: BodySchema = { type: 'string' };

/** `TweetCreateRequest` of X's OpenAPI spec (v2.166, with the media fields v2.167 added); strict. */
const CREATE_TWEET_SCHEMA: BodySchema = {
  type: 'object',
  properties: {
    text: { type: 'string' },
    reply: {
      type: 'object',
      required: ['in_reply_to_tweet_id'],
      properties: {
        in_reply_to_tweet_id: id,
        exclude_reply_user_ids: { type: 'array', items: id },
        auto_populate_reply_metadata: { type: 'boolean' },
      },
    },
    media: {
      type: 'object',
      required: ['media_ids'],
      properties: {
        media_ids: { type: 'array', items: id, minItems: 1, maxItems: 4 },
        tagged_user_ids: { type: 'array', items: id, minItems: 0, maxItems: 10 },
        title: { type: 'string' },
        description: { type: 'string' },
        embeddable: { type: 'boolean' },
        preview_media_id: id,
        call_to_actions: {
          type: 'object',
          properties: {
            app_install: {
              type: 'object',
              properties: {
                app_store_id: { type: 'string' },
                ipad_app_store_id: { type: 'string' },
                play_store_id: { type: 'string' },
              },
            },
            visit_site: { type: 'object', required: ['url'], properties: { url } },
            watch_now: { type: 'object', required: ['url'], properties: { url } },
          },
        },
      },
    },
    quote_tweet_id: id,
    poll: {
      type: 'object',
      required: ['options', 'duration_minutes'],
      properties: {
        options: {
          type: 'array',
          items: { type: 'string', minLength: 1, maxLength: 25 },
          minItems: 2,
          maxItems: 4,
        },
        duration_minutes: { type: 'integer', minimum: 5, maximum: 10080 },
        reply_settings: { type: 'string', enum: REPLY_SETTINGS },
      },
    },
    reply_settings: { type: 'string', enum: REPLY_SETTINGS },
    geo: { type: 'object', properties: { place_id: { type: 'string' } } },
    for_super_followers_only: { type: 'boolean' },
    nullcast: { type: 'boolean' },
    share_with_followers: { type: 'boolean' },
    made_with_ai: { type: 'boolean' },
    paid_partnership: { type: 'boolean' },
    community_id: id,
    card_uri: { type: 'string' },
    direct_message_deep_link: { type: 'string' },
    edit_options: { type: 'object', required: ['previous_post_id'], properties: { previous_post_id: id } },
  },
};

/** The parts of a valid `POST /2/tweets` body the emulator acts on. */
export interface CreateTweetRequest {
  text: string;
  inReplyToTweetId: string | null;
  mediaIds: string[];
  quoteTweetId: string | null;
  replySettings: string | null;
  /** `edit_options.previous_post_id`: the request edits instead of creating. */
  editOf: string | null;
}

export type ParsedCreateTweet =
  | { ok: true; request: CreateTweetRequest }
  | { ok: false; errors: InvalidParameter[] };

/** Fields of which at most one may be present (OpenAPI descriptions of `media`, `poll`, `quote_tweet_id`, `card_uri`). */
const EXCLUSIVE = ['poll', 'quote_tweet_id', 'direct_message_deep_link', 'media', 'card_uri'] as const;

/**
 * Checks a `POST /2/tweets` body as X does before it looks at any stored data: the strict schema,
 * then the mutual exclusions, then that there is text or media.
 */
export function parseCreateTweet(body: unknown): ParsedCreateTweet {
  const schemaErrors = checkBody(body, CREATE_TWEET_SCHEMA);
  if (schemaErrors.length > 0) return { ok: false, errors: schemaErrors };
  const fields = body as Record<string, unknown> & {
    text?: string;
    reply?: { in_reply_to_tweet_id: string };
    media?: { media_ids: string[] };
    quote_tweet_id?: string;
    reply_settings?: string;
    edit_options?: { previous_post_id: string };
  };

  const present = EXCLUSIVE.filter((name) => fields[name] !== undefined);
  // A deep link only conflicts with a card; the other four conflict with each other.
  const conflicting =
    present.filter((name) => name !== 'direct_message_deep_link').length > 1 ||
    (present.includes('card_uri') && present.includes('direct_message_deep_link'));
  if (conflicting) {
    const parameters: Record<string, string[]> = {};
    for (const name of present) parameters[name] = [JSON.stringify(fields[name])];
    return {
      ok: false,
      errors: [
        {
          parameters,
          message:
            'You can only provide one of poll or quote_tweet_id or direct_message_deep_link or media or card_uri.',
        },
      ],
    };
  }

  const mediaIds = fields.media?.media_ids ?? [];
  // X counts and stores text in Unicode NFC (docs.x.com "Counting characters").
  const text = (fields.text ?? '').normalize('NFC');
  if (text.trim() === '' && mediaIds.length === 0) {
    return {
      ok: false,
      errors: [{ parameters: { text: [text] }, message: 'Tweet text is empty and no media was attached.' }],
    };
  }
  return {
    ok: true,
    request: {
      text,
      inReplyToTweetId: fields.reply?.in_reply_to_tweet_id ?? null,
      mediaIds,
      quoteTweetId: fields.quote_tweet_id ?? null,
      replySettings: fields.reply_settings ?? null,
      editOf: fields.edit_options?.previous_post_id ?? null,
    },
  };
}
