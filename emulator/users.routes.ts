import type { FastifyInstance } from 'fastify';
import { billRead } from './billing.ts';
import type { EmulatorContext } from './context.ts';
import { type InvalidParameter, invalidRequestProblem, sendProblem } from './problems.ts';
import { parseList, type Query, queryOf, TWEET_FIELDS, USER_FIELDS } from './query.ts';
import type { EmulatorState, EmuTweet, EmuUser } from './state.ts';

const USER_EXPANSIONS = ['affiliation.user_id', 'most_recent_tweet_id', 'pinned_tweet_id'] as const;

/** The query parameters `GET /2/users/me` accepts, each with its allowed values. */
const ME_PARAMETERS: Record<string, readonly string[]> = {
  'user.fields': USER_FIELDS,
  expansions: USER_EXPANSIONS,
  'tweet.fields': TWEET_FIELDS,
};

/** Splits comma-separated list parameters and reports unknown parameters and values in X's words. */
function parseLists(query: Query): { errors: InvalidParameter[]; lists: Record<string, Set<string>> } {
  const errors: InvalidParameter[] = [];
  const lists: Record<string, Set<string>> = {};
  const known = Object.keys(ME_PARAMETERS);
  for (const [name, raw] of Object.entries(query)) {
    const allowed = ME_PARAMETERS[name];
    if (allowed === undefined) {
      errors.push({
        parameters: { [name]: [raw] },
        message: `The query parameter [${name}] is not one of [${known.join(',')}]`,
      });
      continue;
    }
    lists[name] = parseList(name, raw, allowed, errors);
  }
  return { errors, lists };
}

function liveTweetsBy(state: EmulatorState, userId: string): EmuTweet[] {
  const tweets: EmuTweet[] = [];
  for (const tweet of state.tweets.values()) {
    if (tweet.authorId === userId && tweet.deletedAt === null) tweets.push(tweet);
  }
  return tweets;
}

/** The avatar URL of a user: served by the emulator itself, so nothing ever loads from X. */
export function profileImageUrl(origin: string, user: EmuUser): string {
  return `${origin}/profile_images/${user.id}/avatar_normal.svg`;
}

/**
 * A user as `GET /2/users/me` shows it: `id`, `name`, `username` always, other fields on request.
 * Fields the emulator has no data for (location, entities, withheld…) are left out, as X leaves out
 * empty ones.
 */
export function renderMe(args: {
  state: EmulatorState;
  user: EmuUser;
  fields: ReadonlySet<string>;
  scopes: readonly string[];
  origin: string;
}): Record<string, unknown> {
  const { state, user, fields } = args;
  const out: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  const premium = user.subscriptionType !== 'None';
  const tweets =
    fields.has('public_metrics') || fields.has('most_recent_tweet_id') ? liveTweetsBy(state, user.id) : [];
  if (fields.has('created_at')) out.created_at = new Date(user.createdAt).toISOString();
  if (fields.has('description')) out.description = user.description;
  if (fields.has('url')) out.url = '';
  if (fields.has('protected')) out.protected = false;
  if (fields.has('verified')) out.verified = premium;
  if (fields.has('verified_type')) out.verified_type = premium ? 'blue' : 'none';
  if (fields.has('subscription_type')) out.subscription_type = user.subscriptionType;
  if (fields.has('profile_image_url')) out.profile_image_url = profileImageUrl(args.origin, user);
  if (fields.has('parody')) out.parody = false;
  if (fields.has('is_identity_verified')) out.is_identity_verified = false;
  if (fields.has('verified_followers_count')) out.verified_followers_count = 0;
  // X shows the email only to tokens with users.email.
  if (fields.has('confirmed_email') && args.scopes.includes('users.email')) {
    out.confirmed_email = `${user.username.toLowerCase()}@users.emulator.invalid`;
  }
  const newest = tweets.at(-1);
  if (fields.has('most_recent_tweet_id') && newest !== undefined) out.most_recent_tweet_id = newest.id;
  if (fields.has('public_metrics')) {
    out.public_metrics = {
      followers_count: 0,
      following_count: 0,
      tweet_count: tweets.length,
      listed_count: 0,
      like_count: 0,
    };
  }
  return out;
}

function avatarSvg(user: EmuUser): string {
  const initial = (user.name.trim()[0] ?? user.username[0] ?? '?').toUpperCase();
  const hue = Number(BigInt(user.id) % 360n);
  const letter = initial.replace(/[<>&"']/g, '?');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">
<rect width="48" height="48" rx="24" fill="hsl(${hue} 60% 45%)"/>
<text x="24" y="31" font-family="sans-serif" font-size="22" text-anchor="middle" fill="#fff">${letter}</text>
</svg>`;
}

/** `GET /2/users/me` and the avatar images its `profile_image_url` points at. */
export function registerUserRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;

  app.get('/2/users/me', async (req, reply) => {
    const auth = ctx.requireUser(req, reply, ['tweet.read', 'users.read']);
    if (auth === undefined) return reply;
    if (!ctx.takeRateLimit(req, reply, 'GET /2/users/me', auth.userId)) return reply;
    const { errors, lists } = parseLists(queryOf(req.query));
    if (errors.length > 0) return sendProblem(reply, invalidRequestProblem(errors));

    billRead(state.billing, `user:${auth.userId}`, ctx.clock.now(), 'user_read');
    const data = renderMe({
      state,
      user: auth.user,
      fields: lists['user.fields'] ?? new Set(),
      scopes: auth.scopes,
      origin: `${req.protocol}://${req.host}`,
    });
    const body: Record<string, unknown> = { data };
    const expansions = lists.expansions ?? new Set();
    if (expansions.has('most_recent_tweet_id')) {
      const newest = liveTweetsBy(state, auth.userId).at(-1);
      if (newest !== undefined) {
        body.includes = {
          tweets: [{ id: newest.id, text: newest.text, edit_history_tweet_ids: [newest.id] }],
        };
      }
    }
    return reply.send(body);
  });

  app.get('/profile_images/:userId/avatar_normal.svg', async (req, reply) => {
    const { userId } = req.params as { userId: string };
    const user = /^[0-9]{1,19}$/.test(userId) ? state.users.get(userId) : undefined;
    if (user === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply.type('image/svg+xml').header('cache-control', 'public, max-age=3600').send(avatarSvg(user));
  });
}
