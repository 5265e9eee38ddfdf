import { z } from 'zod';
import { requireUser } from '../http/auth.ts';
import type { RouteModule } from '../http/types.ts';
import { postSchema, postView } from '../posts/index.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

const resolveBody = z
  .strictObject({
    itemTweetIds: z
      .record(z.string().regex(/^[0-9]+$/), z.string().regex(/^[0-9]{1,19}$/))
      .optional()
      .describe('Tweets you found on X, by item position: `{"1": "1874732600935198942"}`.'),
    status: z
      .enum(['published', 'failed'])
      .optional()
      .describe('`published`: every remaining item is on X; `failed`: give the post up.'),
  })
  .refine((body) => body.itemTweetIds !== undefined || body.status !== undefined, {
    message: 'Give itemTweetIds, status, or both.',
  });

/**
 * `POST /api/v1/posts/:id/retry` and `POST /api/v1/posts/:id/resolve`: what a person does with a post that
 * failed or needs review (see `ReviewService`). Both answer the post.
 */
export const deliveryRoutes: RouteModule = (app, deps) => {
  const { review, posts } = deps;

  app.post(
    '/api/v1/posts/:id/retry',
    {
      schema: {
        tags: ['posts'],
        summary: 'Retries a post that failed or needs review (else 409 `post_not_retryable`).',
        description:
          'Publishing resumes where it stopped: items already on X are kept; an item whose outcome is unknown is ' +
          'first looked for on X (never resent blindly); items X refused are sent again.',
        params: idParams,
        response: { 200: postSchema },
      },
    },
    async (request) => {
      const user = requireUser(request);
      await review.retry(user.id, request.params.id);
      return postView(await posts.get(user.id, request.params.id));
    },
  );

  app.post(
    '/api/v1/posts/:id/resolve',
    {
      schema: {
        tags: ['posts'],
        summary: 'Tells xgate what X has for a post that needs review (else 409 `post_not_in_review`).',
        description:
          '`itemTweetIds` records the tweets you found on X for items whose outcome was unknown; the remaining ' +
          'items are then published in order. `status: "published"` marks every remaining item as on X; ' +
          '`status: "failed"` gives the post up.',
        params: idParams,
        body: resolveBody,
        response: { 200: postSchema },
      },
    },
    async (request) => {
      const user = requireUser(request);
      await review.resolve(user.id, request.params.id, request.body);
      return postView(await posts.get(user.id, request.params.id));
    },
  );
};
