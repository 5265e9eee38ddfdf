import { parse as parseCsv } from 'csv-parse/sync';
import type { FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { decodeListCursor, encodeListCursor } from '../db/list-cursor.ts';
import type { AppDeps } from '../deps.ts';
import { ValidationError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import { whileConnected } from '../http/client-gone.ts';
import type { RouteModule, ZodFastify } from '../http/types.ts';
import { createOperation } from '../spend/charges.ts';
import { tweetUrl } from './post-events.ts';
import { POST_ITEM_STATUSES, POST_STATUSES } from './post-status.ts';
import { countScheduledPosts, type Post } from './posts.repository.ts';
import type { PostsService } from './posts.service.ts';

/**
 * Longest text accepted in one field, in UTF-16 units, checked before any parsing. Twice X's 25,000 weighted
 * characters: every Premium post of Latin or CJK text, ordinary emoji and URLs fits, and measuring it is bounded.
 */
export const MAX_TEXT_CHARS = 50_000;

const itemInput = z.strictObject({
  text: z.string().max(MAX_TEXT_CHARS).default('').describe('May be empty when the item has media.'),
  mediaIds: z.array(z.string().min(1).max(100)).max(20).optional().describe('Ids from `POST /api/v1/media`.'),
});

/** An ISO 8601 date-time with an offset, as `z.iso.datetime({ offset: true })` takes it. */
const isoWithOffset = z.iso.datetime({ offset: true });
/** Date and time without an offset: a common mistake, with its own message. */
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

const scheduledAtInput = z
  .union([z.number(), z.string().max(100)])
  .transform((value, ctx) => {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value) && value >= 0) return value;
      ctx.addIssue({ code: 'custom', message: 'must be whole epoch milliseconds (e.g. 1796000000000)' });
      return z.NEVER;
    }
    if (isoWithOffset.safeParse(value).success) return Date.parse(value);
    if (value === 'next_slot') return 'next_slot' as const;
    ctx.addIssue({
      code: 'custom',
      message: LOCAL_DATE_TIME.test(value)
        ? `needs a time zone offset: add \`Z\` for UTC or one like \`+02:00\` (e.g. "${value.replace(' ', 'T')}Z")`
        : 'must be an ISO 8601 date-time with an offset (e.g. "2026-12-01T09:00:00Z"), epoch milliseconds, or "next_slot" (the account\'s queue)',
    });
    return z.NEVER;
  })
  .describe(
    'Epoch milliseconds, an ISO 8601 date-time with offset (e.g. `2026-12-01T09:00:00Z`), or `"next_slot"`: the next free slot of the account\'s posting schedule ("add to queue").',
  );

/** What `accountId` is and where to find it (used in messages too). */
const accountIdInput = z
  .string()
  .min(1)
  .max(100)
  .describe('The id of one of your X accounts, listed by `GET /api/v1/accounts`.');

const linkInReplyInput = z
  .boolean()
  .optional()
  .describe(
    'Move the URLs of the first item into a reply to it, so X bills the post as a plain post ($0.015) instead of ' +
      'a post with a URL ($0.20). Absent: the account’s default (`PUT /api/v1/accounts/:id/spend-settings`).',
  );

const createBody = z.strictObject({
  accountId: accountIdInput,
  items: z.array(itemInput).max(1000).describe('One item is one tweet; several make a thread.'),
  scheduledAt: scheduledAtInput.optional().describe('Absent: publish now.'),
  linkInReply: linkInReplyInput,
});

const patchBody = z.strictObject({
  items: z.array(itemInput).max(1000).optional(),
  scheduledAt: scheduledAtInput
    .refine(
      (value) => value !== 'next_slot',
      'takes a time here; to re-queue a post, delete it and add it again',
    )
    .optional(),
});

/** `POST /api/v1/posts/import`: many posts at once. */
const importBody = z.strictObject({
  posts: z
    .array(
      z.strictObject({
        accountId: accountIdInput,
        items: z.array(itemInput).max(1000),
        scheduledAt: scheduledAtInput.optional(),
        linkInReply: linkInReplyInput,
      }),
    )
    .min(1)
    .max(1000)
    .describe('The posts, as `POST /api/v1/posts` takes them; `scheduledAt` may be `"next_slot"`.'),
  skipInvalid: z
    .boolean()
    .default(false)
    .describe('Create the good rows and report the bad ones, instead of creating nothing.'),
});

/** A post as the API shows it (CONTRACT §3). */
export const postSchema = z.object({
  id: z.string(),
  accountId: z.string(),
  status: z.enum(POST_STATUSES),
  scheduledAt: z.number().describe('Epoch milliseconds.'),
  createdAt: z.number(),
  updatedAt: z.number(),
  publishedAt: z.number().nullable(),
  queueSlotAt: z
    .number()
    .nullable()
    .describe('The queue slot the post took with `"scheduledAt": "next_slot"` (epoch ms), or null.'),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  estimatedCostUsd: z
    .number()
    .describe('What X will bill to publish it (USD), from the price table when it was scheduled or changed.'),
  linkInReply: z.boolean().describe('The first item’s URLs were moved into a reply to it.'),
  warnings: z
    .array(z.object({ code: z.string(), item: z.number(), message: z.string() }))
    .describe('Things worth knowing before it goes out, e.g. `url_in_post`: X bills a post with a URL more.'),
  items: z.array(
    z.object({
      position: z.number(),
      text: z.string(),
      mediaIds: z.array(z.string()),
      status: z
        .enum(POST_ITEM_STATUSES)
        .describe(
          '`deleted`: published, then deleted from X by a DELETE; `canceled`: never sent, the post was canceled.',
        ),
      tweetId: z.string().optional(),
      url: z
        .string()
        .optional()
        .describe('`https://x.com/<username>/status/<tweetId>` while the tweet is live.'),
      error: z.string().optional(),
    }),
  ),
});

const idParams = z.object({ id: z.string().min(1).max(100) });

/** `url_in_post` when the first item (the post; the others are replies) has a URL: X bills it at the URL price. */
function postWarnings(items: readonly { text: string }[]): { code: string; item: number; message: string }[] {
  const first = items[0];
  if (!first || createOperation(first.text, false) !== 'post_with_url') return [];
  return [
    {
      code: 'url_in_post',
      item: 0,
      message:
        'The post contains a URL: X bills it at the post-with-URL price ($0.20 by default, instead of $0.015). With `linkInReply: true` the URL goes into a reply and the post is billed as a plain post.',
    },
  ];
}

/** The one conversion of a post to its API shape (CONTRACT §3). */
export function postView(post: Post): z.infer<typeof postSchema> {
  return {
    id: post.id,
    accountId: post.accountId,
    status: post.status,
    scheduledAt: post.scheduledAt,
    createdAt: post.createdAt,
    updatedAt: post.updatedAt,
    publishedAt: post.publishedAt,
    queueSlotAt: post.queueSlotAt,
    ...(post.errorCode !== null && { error: { code: post.errorCode, message: post.errorMessage ?? '' } }),
    estimatedCostUsd: post.estimatedCostUsd,
    linkInReply: post.linkInReply,
    warnings: postWarnings(post.items),
    items: post.items.map((item) => ({
      position: item.position,
      text: item.text,
      mediaIds: item.mediaIds,
      status: item.status,
      ...(item.tweetId !== null && { tweetId: item.tweetId }),
      ...(item.tweetId !== null &&
        item.status === 'published' &&
        post.username !== null && { url: tweetUrl(post.username, item.tweetId) }),
      ...(item.errorMessage !== null && { error: item.errorMessage }),
    })),
  };
}

/**
 * Posts: `POST|GET /api/v1/posts`, `GET|PATCH|DELETE /api/v1/posts/:id`, `POST /api/v1/threads/split`;
 * and the queue-depth gauge `xgate_posts_scheduled`.
 */
export function postsRoutes(posts: PostsService): RouteModule {
  /** `?wait=SECONDS`: the post once final (or when the wait ends or the client leaves), else as it is. */
  async function waitIfAsked(request: FastifyRequest, post: Post): Promise<Post> {
    const { wait } = request.query as { wait?: number };
    if (!wait) return post;
    return whileConnected(request, (signal) => posts.waitForFinal(post.userId, post.id, wait, signal));
  }

  return async (app: ZodFastify, deps: AppDeps) => {
    new Gauge({
      name: 'xgate_posts_scheduled',
      help: 'Posts waiting to be published (the queue depth).',
      registers: [deps.metrics],
      async collect() {
        this.set(await countScheduledPosts(deps.db));
      },
    });

    app.post(
      '/api/v1/posts',
      {
        schema: {
          tags: ['posts'],
          summary: 'Creates a post (one tweet) or a thread, now or scheduled.',
          description:
            'Validated now, not at publish time: X’s weighted length per item (280, or 25,000 for subscribed ' +
            'accounts), 1–25 items, up to 4 images or 1 GIF or 1 video per item, your own media and active ' +
            'account, a time not in the past and within the horizon, and the X_TIER budget (422 ' +
            '`rate_budget_exceeded` with `details.nextSlotAt`). `?wait=SECONDS` (≤ 60) holds the answer until ' +
            'the post is published, failed, needs review or canceled.',
          body: createBody,
          querystring: z.strictObject({
            wait: z.coerce
              .number()
              .int()
              .min(0)
              .max(60)
              .optional()
              .describe('Seconds to wait for a final status.'),
          }),
          response: { 201: postSchema },
        },
        config: {
          // Idempotency-Key: the key is written in the create transaction; a retry after the first request
          // died gets the post as it is by then (waiting again when it asks to).
          idempotency: {
            answerFor: async (request, postId) => {
              const post = await posts.find(requireUser(request).id, postId);
              return post ? { status: 201, body: postView(await waitIfAsked(request, post)) } : null;
            },
          },
        },
      },
      async (request, reply) => {
        const user = requireUser(request);
        const key = request.idempotency;
        const post = await posts.create(
          user.id,
          request.body,
          key ? { inTransaction: (trx, created) => key.record(trx, created.id) } : {},
        );
        return reply.status(201).send(postView(await waitIfAsked(request, post)));
      },
    );

    app.post(
      '/api/v1/posts/estimate',
      {
        schema: {
          tags: ['posts'],
          summary: 'What creating this post would send and cost at X, without creating it.',
          description:
            'Takes the body of `POST /api/v1/posts` and runs the same checks (but the spending caps): the items as ' +
            'they would be sent (`linkInReply` applied), `estimatedCostUsd` from the price table, and warnings.',
          body: createBody,
          response: {
            200: z.object({
              items: z.array(z.object({ text: z.string(), mediaIds: z.array(z.string()) })),
              estimatedCostUsd: z.number(),
              linkInReply: z.boolean(),
              warnings: postSchema.shape.warnings,
            }),
          },
        },
      },
      async (request) => {
        const estimate = await posts.estimate(requireUser(request).id, request.body);
        return { ...estimate, warnings: postWarnings(estimate.items) };
      },
    );

    app.get(
      '/api/v1/posts',
      {
        schema: {
          tags: ['posts'],
          summary: 'Lists your posts, newest first.',
          querystring: z.strictObject({
            status: z.enum(POST_STATUSES).optional(),
            accountId: z.string().min(1).max(100).optional(),
            cursor: z.string().min(1).max(500).optional().describe('`nextCursor` of the previous page.'),
            limit: z.coerce.number().int().min(1).max(100).default(20),
          }),
          response: { 200: z.object({ items: z.array(postSchema), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { status, accountId, cursor, limit } = request.query;
        const page = await posts.list(requireUser(request).id, {
          limit,
          ...(status && { status }),
          ...(accountId && { accountId }),
          ...(cursor && { after: decodeListCursor(cursor) }),
        });
        return {
          items: page.posts.map(postView),
          nextCursor: page.next ? encodeListCursor(page.next) : null,
        };
      },
    );

    app.get(
      '/api/v1/posts/:id',
      {
        schema: {
          tags: ['posts'],
          summary: 'One of your posts.',
          params: idParams,
          response: { 200: postSchema },
        },
      },
      async (request) => postView(await posts.get(requireUser(request).id, request.params.id)),
    );

    app.patch(
      '/api/v1/posts/:id',
      {
        schema: {
          tags: ['posts'],
          summary:
            'Edits the items and/or time of a post that is still scheduled (else 409 `post_not_editable`).',
          params: idParams,
          body: patchBody,
          response: { 200: postSchema },
        },
      },
      async (request) =>
        postView(await posts.update(requireUser(request).id, request.params.id, request.body)),
    );

    app.delete(
      '/api/v1/posts/:id',
      {
        schema: {
          tags: ['posts'],
          summary: 'Cancels a scheduled post, or deletes a published one from X (all its tweets).',
          description:
            'A scheduled post becomes `canceled`. A published (or failed / needs-review) post has each of its ' +
            'tweets deleted from X, last first; those items become `deleted` and the post `canceled`. ' +
            'While publishing: 409 `post_publishing`.',
          params: idParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await posts.remove(requireUser(request).id, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/api/v1/threads/split',
      {
        schema: {
          tags: ['posts'],
          summary: 'Cuts long text into tweets at sentence, then word boundaries, by X’s weighted length.',
          body: z.strictObject({
            text: z.string().max(MAX_TEXT_CHARS),
            accountId: z
              .string()
              .min(1)
              .max(100)
              .optional()
              .describe('Use this account’s limit (25,000 for long posts); default 280.'),
          }),
          response: {
            200: z.object({
              items: z.array(z.object({ text: z.string(), weightedLength: z.number() })),
              limit: z.number(),
            }),
          },
        },
      },
      async (request) => {
        const { text, accountId } = request.body;
        return posts.split(requireUser(request).id, text, accountId);
      },
    );
    app.post(
      '/api/v1/posts/:id/move-to-top',
      {
        schema: {
          tags: ['queue'],
          summary:
            'Moves a queued post to the first slot of its account’s queue; the posts before it move down one.',
          description:
            'Only a post added with `"scheduledAt": "next_slot"` and still waiting (else 409 `post_not_queued`).',
          params: idParams,
          response: { 200: postSchema },
        },
      },
      async (request) => postView(await posts.moveToTop(requireUser(request).id, request.params.id)),
    );

    // CSV imports: one post per row, in an encapsulated scope so only this route parses text/csv.
    await app.register(async (scope: ZodFastify) => {
      scope.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => {
        try {
          done(null, { posts: csvPosts(body as string) });
        } catch (error) {
          done(error as Error, undefined);
        }
      });
      scope.post(
        '/api/v1/posts/import',
        {
          schema: {
            tags: ['queue'],
            summary:
              'Creates many posts at once (JSON, or CSV), each with a time or `next_slot`: all or nothing.',
            description:
              'Every row is checked first, as `POST /api/v1/posts` would, counting X’s budget and the queue slots ' +
              'of the rows before it. Any bad row → 422 `import_invalid` with every bad row (its number from 0 ' +
              'and reason) in `details.rows`, and nothing is created — unless `skipInvalid`, which creates the good ' +
              'rows and lists the bad ones in `skipped`. CSV (`text/csv`): a header row with `accountId`, ' +
              '`scheduledAt` (empty, a time, or `next_slot`), `text`, and optionally `mediaIds` (space-separated); ' +
              'one tweet per row; `?skipInvalid=1`. With an `Idempotency-Key` a retried import creates nothing twice.',
            consumes: ['application/json', 'text/csv'],
            body: importBody,
            querystring: z.strictObject({
              skipInvalid: z.enum(['1', 'true', '0', 'false']).optional().describe('For CSV bodies.'),
            }),
            response: {
              201: z.object({
                items: z.array(postSchema),
                skipped: z.array(
                  z.object({
                    row: z.number(),
                    code: z.string(),
                    message: z.string(),
                    details: z.unknown().optional(),
                  }),
                ),
              }),
            },
          },
          config: {
            idempotency: {
              answerFor: async (request, resourceId) => {
                const user = requireUser(request);
                const found = await Promise.all(resourceId.split(',').map((id) => posts.find(user.id, id)));
                if (found.some((post) => !post)) return null;
                return { status: 201, body: { items: found.map((post) => postView(post!)), skipped: [] } };
              },
            },
          },
        },
        async (request, reply) => {
          const user = requireUser(request);
          const { skipInvalid: fromQuery } = request.query;
          const skipInvalid = request.body.skipInvalid || fromQuery === '1' || fromQuery === 'true';
          const key = request.idempotency;
          const result = await posts.importPosts(user.id, request.body.posts, {
            skipInvalid,
            ...(key && { inTransaction: (trx, created) => key.record(trx, created.ids.join(',')) }),
          });
          return reply.status(201).send({ items: result.posts.map(postView), skipped: result.skipped });
        },
      );
    });
  };
}

/** CSV rows → import posts: `accountId`, `scheduledAt`, `text`, `mediaIds` (space-separated), one tweet each. */
function csvPosts(text: string): unknown[] {
  let records: Record<string, string>[];
  try {
    records = parseCsv(text, { columns: true, skip_empty_lines: true, trim: false, bom: true });
  } catch (error) {
    throw new ValidationError(
      `The CSV body could not be read: ${(error as Error).message}. Send a header row (accountId,scheduledAt,text,mediaIds) and one post per row.`,
      undefined,
      'invalid_request',
    );
  }
  return records.map((record) => {
    const when = (record.scheduledAt ?? '').trim();
    const mediaIds = (record.mediaIds ?? '').split(/\s+/).filter((id) => id !== '');
    return {
      accountId: record.accountId,
      ...(when !== '' && { scheduledAt: /^\d+$/.test(when) ? Number(when) : when }),
      items: [{ text: record.text ?? '', ...(mediaIds.length > 0 && { mediaIds }) }],
    };
  });
}
