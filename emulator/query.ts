import type { InvalidParameter } from './problems.ts';

/** `tweet.fields` values of X's OpenAPI spec (v2.166). */
export const TWEET_FIELDS = [
  'article',
  'attachments',
  'author_id',
  'card_uri',
  'community_id',
  'context_annotations',
  'conversation_id',
  'created_at',
  'display_text_range',
  'edit_controls',
  'edit_history_tweet_ids',
  'entities',
  'geo',
  'id',
  'in_reply_to_user_id',
  'lang',
  'matched_media_notes',
  'media_metadata',
  'non_public_metrics',
  'note_request_suggestions',
  'note_tweet',
  'organic_metrics',
  'paid_partnership',
  'possibly_sensitive',
  'promoted_metrics',
  'public_metrics',
  'referenced_tweets',
  'reply_settings',
  'scopes',
  'source',
  'suggested_source_links',
  'suggested_source_links_with_counts',
  'text',
  'withheld',
] as const;

/** `expansions` values for tweet endpoints. */
export const TWEET_EXPANSIONS = [
  'article.cover_media',
  'article.media_entities',
  'attachments.media_keys',
  'attachments.media_source_tweet',
  'attachments.poll_ids',
  'author_id',
  'edit_history_tweet_ids',
  'entities.mentions.username',
  'geo.place_id',
  'in_reply_to_user_id',
  'entities.note.mentions.username',
  'referenced_tweets.id',
  'referenced_tweets.id.attachments.media_keys',
  'referenced_tweets.id.author_id',
] as const;

export const MEDIA_FIELDS = [
  'alt_text',
  'duration_ms',
  'height',
  'media_key',
  'non_public_metrics',
  'organic_metrics',
  'preview_image_url',
  'promoted_metrics',
  'public_metrics',
  'type',
  'url',
  'variants',
  'width',
] as const;

export const USER_FIELDS = [
  'affiliation',
  'confirmed_email',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'is_identity_verified',
  'location',
  'most_recent_tweet_id',
  'name',
  'parody',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscription',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_followers_count',
  'verified_type',
  'withheld',
] as const;

const POLL_FIELDS = ['duration_minutes', 'end_datetime', 'id', 'options', 'voting_status'] as const;
const PLACE_FIELDS = [
  'contained_within',
  'country',
  'country_code',
  'full_name',
  'geo',
  'id',
  'name',
  'place_type',
] as const;

/** The field and expansion parameters every tweet-returning endpoint accepts. */
const FIELD_PARAMETERS: Record<string, readonly string[]> = {
  'tweet.fields': TWEET_FIELDS,
  // v2.167 of the spec renamed `tweet.fields` to `post.fields`; X's docs and clients still use the old name.
  'post.fields': TWEET_FIELDS,
  expansions: TWEET_EXPANSIONS,
  'media.fields': MEDIA_FIELDS,
  'user.fields': USER_FIELDS,
  'poll.fields': POLL_FIELDS,
  'place.fields': PLACE_FIELDS,
};

/** What a tweet-returning request asked to see. */
export interface FieldSelection {
  tweetFields: Set<string>;
  expansions: Set<string>;
  mediaFields: Set<string>;
  userFields: Set<string>;
}

/** A parsed query string: each parameter's last value (X reads one value per name). */
export type Query = Record<string, string>;

/** The query of a request as a plain name → value record (Fastify gives arrays for repeated names). */
export function queryOf(raw: unknown): Query {
  const query: Query = {};
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    query[name] = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
  }
  return query;
}

/**
 * The values of the comma-separated list parameter `name`; each value not in `allowed` is left out and
 * reported in `errors` in X's words ("The `tweet.fields` query parameter value [x] is not one of [...]").
 */
export function parseList(
  name: string,
  raw: string,
  allowed: readonly string[],
  errors: InvalidParameter[],
): Set<string> {
  const values = new Set<string>();
  for (const value of raw.split(',')) {
    if (allowed.includes(value)) values.add(value);
    else {
      errors.push({
        parameters: { [name]: [raw] },
        message: `The \`${name}\` query parameter value [${value}] is not one of [${allowed.join(',')}]`,
      });
    }
  }
  return values;
}

/**
 * Checks the query of a tweet-returning endpoint like X: a parameter the endpoint does not know →
 * "The query parameter [x] is not one of [...]"; a field list value it does not know → "The
 * `tweet.fields` query parameter value [x] is not one of [...]". Returns the errors and the selection.
 */
export function parseFieldSelection(
  query: Query,
  ownParameters: readonly string[],
): { errors: InvalidParameter[]; selection: FieldSelection } {
  const errors: InvalidParameter[] = [];
  const known = [...ownParameters, ...Object.keys(FIELD_PARAMETERS)];
  for (const [name, value] of Object.entries(query)) {
    if (!known.includes(name)) {
      errors.push({
        parameters: { [name]: [value] },
        message: `The query parameter [${name}] is not one of [${known.join(',')}]`,
      });
    }
  }
  const list = (name: string): Set<string> => {
    const raw = query[name];
    return raw === undefined ? new Set() : parseList(name, raw, FIELD_PARAMETERS[name]!, errors);
  };
  const tweetFields = list('tweet.fields');
  for (const field of list('post.fields')) tweetFields.add(field);
  const selection: FieldSelection = {
    tweetFields,
    expansions: list('expansions'),
    mediaFields: list('media.fields'),
    userFields: list('user.fields'),
  };
  list('poll.fields');
  list('place.fields');
  return { errors, selection };
}

/** X's message for an id parameter that is not an id. */
export function badIdError(name: string, value: string): InvalidParameter {
  return {
    parameters: { [name]: [value] },
    message: `The \`${name}\` query parameter value [${value}] does not match ^[0-9]{1,19}$`,
  };
}
