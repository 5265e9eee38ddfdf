import type { FastifyInstance, FastifyReply } from 'fastify';
import { billCreate, billWrite } from './billing.ts';
import type { EmulatorContext } from './context.ts';
import { ID_PATTERN } from './json-body.ts';
import { mediaStatus } from './media/status.ts';
import {
  forbiddenProblem,
  type InvalidParameter,
  invalidRequestProblem,
  resourceNotFoundError,
  sendProblem,
} from './problems.ts';
import { badIdError, parseFieldSelection, queryOf } from './query.ts';
import type { EmuTweet } from './state.ts';
import { parseCreateTweet } from './tweets/create-request.ts';
import { addToIndex, findDuplicate, removeDeletedText, tweetIndex } from './tweets/index-of-tweets.ts';
import { addTweet, answerBody, emptyAnswer, tweetText } from './tweets/render.ts';
import { linkUrls, maxWeightedLength, weightedLength } from './tweets/text.ts';
import { parseTimelineQuery, TIMELINE_PARAMETERS, timelinePage } from './tweets/timeline.ts';

/** OAuth 2.0 scopes X requires (OpenAPI `security`). */
const WRITE_SCOPES = ['tweet.read', 'tweet.write', 'users.read'] as const;
const READ_SCOPES = ['tweet.read', 'users.read'] as const;

const TOO_LONG =
  'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.';
const DUPLICATE = 'You are not allowed to create a Tweet with duplicate content.';
const REPLY_GONE = 'You attempted to reply to a Tweet that is deleted or not visible to you.';
const QUOTE_GONE = 'You attempted to quote a Tweet that is deleted or not visible to you.';
const MEDIA_INVALID = 'Your media IDs are invalid.';

/** `GET /2/tweets?ids=` takes at most this many ids. */
const MAX_LOOKUP_IDS = 100;

function invalid(reply: FastifyReply, errors: InvalidParameter[]): FastifyReply {
  return sendProblem(reply, invalidRequestProblem(errors));
}

/**
 * Tweet routes: `POST /2/tweets`, `DELETE /2/tweets/:id`, `GET /2/tweets/:id`, `GET /2/tweets?ids=`
 * and the user timeline `GET /2/users/:id/tweets`, with X's validation order and error bodies
 * (reference/x-api.md §2 and §5).
 */
export function registerTweetRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;

  app.post('/2/tweets', async (req, reply) => {
    const authed = ctx.requireUser(req, reply, WRITE_SCOPES);
    if (!authed) return reply;
    if (!ctx.takeRateLimit(req, reply, 'POST /2/tweets', authed.userId)) return reply;

    const parsed = parseCreateTweet(req.body);
    if (!parsed.ok) return invalid(reply, parsed.errors);
    const request = parsed.request;
    if (request.editOf !== null) {
      // Editing needs a Premium author and X's edit history; the emulator does not model edits.
      return sendProblem(reply, forbiddenProblem());
    }
    if (weightedLength(request.text) > maxWeightedLength(authed.user.subscriptionType)) {
      return invalid(reply, [{ parameters: { text: [request.text] }, message: TOO_LONG }]);
    }

    const now = ctx.clock.now();
    const parent = request.inReplyToTweetId === null ? undefined : state.tweets.get(request.inReplyToTweetId);
    if (request.inReplyToTweetId !== null && (parent === undefined || parent.deletedAt !== null)) {
      return sendProblem(reply, forbiddenProblem(REPLY_GONE));
    }
    if (request.quoteTweetId !== null) {
      const quoted = state.tweets.get(request.quoteTweetId);
      if (quoted === undefined || quoted.deletedAt !== null)
        return sendProblem(reply, forbiddenProblem(QUOTE_GONE));
    }
    if (request.mediaIds.length > 0 && !mediaUsable(ctx, request.mediaIds, authed.userId, now)) {
      return invalid(reply, [
        { parameters: { 'media.media_ids': request.mediaIds }, message: MEDIA_INVALID },
      ]);
    }

    const index = tweetIndex(state.tweets);
    if (
      request.text !== '' &&
      findDuplicate(index, authed.userId, request.text, now, state.duplicateWindowMs)
    ) {
      return sendProblem(reply, forbiddenProblem(DUPLICATE));
    }

    const id = ctx.nextId();
    const linked = linkUrls(request.text, id);
    const tweet: EmuTweet = {
      id,
      authorId: authed.userId,
      text: linked.text,
      createdAt: now,
      inReplyToTweetId: request.inReplyToTweetId,
      conversationId: parent?.conversationId ?? id,
      mediaIds: request.mediaIds,
      deletedAt: null,
      urls: linked.urls,
      quoteTweetId: request.quoteTweetId,
      replySettings: request.replySettings,
    };
    state.tweets.set(id, tweet);
    addToIndex(index, tweet);
    billCreate(state.billing, { id, text: request.text, inReplyToTweetId: request.inReplyToTweetId }, now);
    ctx.markDirty();
    return reply.code(201).send({ data: { id, text: tweetText(tweet), edit_history_tweet_ids: [id] } });
  });

  app.delete<{ Params: { id: string } }>('/2/tweets/:id', async (req, reply) => {
    const authed = ctx.requireUser(req, reply, WRITE_SCOPES);
    if (!authed) return reply;
    if (!ctx.takeRateLimit(req, reply, 'DELETE /2/tweets/:id', authed.userId)) return reply;
    const { id } = req.params;
    if (!ID_PATTERN.test(id)) return invalid(reply, [badIdError('id', id)]);
    const tweet = state.tweets.get(id);
    if (tweet === undefined || tweet.deletedAt !== null) {
      return reply.code(404).send({ errors: [tweetNotFound(id, 'id')] });
    }
    if (tweet.authorId !== authed.userId) return sendProblem(reply, forbiddenProblem());
    tweet.deletedAt = ctx.clock.now();
    removeDeletedText(tweetIndex(state.tweets), tweet);
    billWrite(state.billing, 'delete', id, tweet.deletedAt);
    ctx.markDirty();
    return reply.send({ data: { deleted: true } });
  });

  app.get<{ Params: { id: string } }>('/2/tweets/:id', async (req, reply) => {
    const authed = ctx.requireUser(req, reply, READ_SCOPES);
    if (!authed) return reply;
    if (!ctx.takeRateLimit(req, reply, 'GET /2/tweets/:id', authed.userId)) return reply;
    const query = queryOf(req.query);
    const { id } = req.params;
    const { errors, selection } = parseFieldSelection(query, ['id']);
    if (!ID_PATTERN.test(id)) errors.unshift(badIdError('id', id));
    if (errors.length > 0) return invalid(reply, errors);
    const answer = emptyAnswer();
    const tweet = state.tweets.get(id);
    if (tweet === undefined || tweet.deletedAt !== null) answer.errors.push(tweetNotFound(id, 'id'));
    else addTweet(answer, state, tweet, selection, { userId: authed.userId, now: ctx.clock.now() });
    return reply.send(answerBody(answer, true));
  });

  app.get('/2/tweets', async (req, reply) => {
    const authed = ctx.requireUser(req, reply, READ_SCOPES);
    if (!authed) return reply;
    if (!ctx.takeRateLimit(req, reply, 'GET /2/tweets', authed.userId)) return reply;
    const query = queryOf(req.query);
    const { errors, selection } = parseFieldSelection(query, ['ids']);
    const ids = query.ids === undefined ? [] : query.ids.split(',');
    if (query.ids === undefined) {
      errors.unshift({ parameters: { ids: [] }, message: 'The `ids` query parameter can not be empty' });
    } else if (ids.length > MAX_LOOKUP_IDS) {
      errors.unshift({
        parameters: { ids: [query.ids] },
        message: `The number of values in the \`ids\` query parameter list [${ids.length}] is not between 1 and ${MAX_LOOKUP_IDS}`,
      });
    } else {
      for (const id of ids) if (!ID_PATTERN.test(id)) errors.unshift(badIdError('ids', id));
    }
    if (errors.length > 0) return invalid(reply, errors);
    const answer = emptyAnswer();
    const viewer = { userId: authed.userId, now: ctx.clock.now() };
    for (const id of new Set(ids)) {
      const tweet = state.tweets.get(id);
      if (tweet === undefined || tweet.deletedAt !== null) answer.errors.push(tweetNotFound(id, 'ids'));
      else addTweet(answer, state, tweet, selection, viewer, 'ids');
    }
    return reply.send(answerBody(answer, false));
  });

  app.get<{ Params: { id: string } }>('/2/users/:id/tweets', async (req, reply) => {
    const authed = ctx.requireUser(req, reply, READ_SCOPES);
    if (!authed) return reply;
    if (!ctx.takeRateLimit(req, reply, 'GET /2/users/:id/tweets', authed.userId)) return reply;
    const query = queryOf(req.query);
    const { id } = req.params;
    const fields = parseFieldSelection(query, TIMELINE_PARAMETERS);
    const parsed = parseTimelineQuery(query);
    const errors = [...fields.errors, ...parsed.errors];
    if (!ID_PATTERN.test(id)) errors.unshift(badIdError('id', id));
    if (errors.length > 0) return invalid(reply, errors);
    if (!state.users.has(id)) {
      return reply.send({
        errors: [
          resourceNotFoundError({
            parameter: 'id',
            value: id,
            resourceType: 'user',
            detail: `Could not find user with id: [${id}].`,
          }),
        ],
      });
    }

    const page = timelinePage(tweetIndex(state.tweets).byAuthor.get(id) ?? [], parsed.timeline);
    const answer = emptyAnswer();
    const viewer = { userId: authed.userId, now: ctx.clock.now() };
    for (const tweet of page.tweets) addTweet(answer, state, tweet, fields.selection, viewer);
    const meta: Record<string, unknown> = { result_count: answer.data.length };
    const newest = answer.data[0];
    const oldest = answer.data[answer.data.length - 1];
    if (newest && oldest) {
      meta.newest_id = newest.id;
      meta.oldest_id = oldest.id;
    }
    if (page.nextToken !== null) meta.next_token = page.nextToken;
    if (page.previousToken !== null) meta.previous_token = page.previousToken;
    return reply.send({ ...answerBody(answer, false), meta });
  });
}

function tweetNotFound(id: string, parameter: string) {
  return resourceNotFoundError({
    parameter,
    value: id,
    resourceType: 'tweet',
    detail: `Could not find tweet with id: [${id}].`,
  });
}

/**
 * Whether these media ids may go on one tweet of `userId`: each known, owned (or shared with the
 * user), unexpired, processed successfully and made for posts; and at most 4 images, or 1 GIF, or 1
 * video.
 */
function mediaUsable(ctx: EmulatorContext, ids: readonly string[], userId: string, now: number): boolean {
  let moving = 0;
  for (const id of ids) {
    const media = ctx.state.media.get(id);
    if (media === undefined || media.expiresAt <= now) return false;
    if (media.ownerId !== userId && !media.additionalOwners.includes(userId)) return false;
    if (media.kind === 'subtitles' || media.category.startsWith('dm_')) return false;
    if (mediaStatus(media, now).state !== 'succeeded') return false;
    if (media.kind !== 'image') moving++;
  }
  return moving === 0 || ids.length === 1;
}
