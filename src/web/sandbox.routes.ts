import { z } from 'zod';
import { findAccountOfUser } from '../accounts/accounts.repository.ts';
import { AppError, NotFoundError, ServiceUnavailableError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import { errorResponseSchema } from '../http/openapi-truth.ts';
import type { RouteModule } from '../http/types.ts';

const tweetSchema = z.object({
  id: z.string(),
  text: z.string(),
  inReplyToTweetId: z.string().nullable(),
  mediaIds: z.array(z.string()),
  createdAt: z.number().describe('Epoch milliseconds (the emulator’s clock).'),
  deletedAt: z.number().nullable(),
});

type SandboxTweet = z.infer<typeof tweetSchema>;

/**
 * `GET /api/v1/sandbox/timeline?accountId=`: in sandbox mode, the tweets the built-in X emulator holds for one of
 * the user's accounts, deleted ones included — what "X" shows, for the web app's Sandbox view (tweet links point
 * there instead of x.com). Outside sandbox mode it is a 404 `sandbox_only`: the real X has its own pages.
 */
export const sandboxRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/sandbox/timeline',
    {
      schema: {
        tags: ['sandbox'],
        summary:
          'Sandbox mode: the emulator’s tweets of one of your accounts, newest first (deleted ones marked).',
        querystring: z.strictObject({ accountId: z.string().min(1).max(100) }),
        response: {
          200: z.object({ accountId: z.string(), username: z.string(), tweets: z.array(tweetSchema) }),
          404: errorResponseSchema.describe(
            'Not in sandbox mode (`sandbox_only`), or no such account of yours (`account_not_found`).',
          ),
        },
      },
    },
    async (request) => {
      const user = requireUser(request);
      if (!deps.config.sandbox) {
        throw new AppError(
          404,
          'sandbox_only',
          'The sandbox timeline exists in sandbox mode only; xgate is connected to the real X, so see the tweets on x.com.',
        );
      }
      const account = await findAccountOfUser(deps.db, user.id, request.query.accountId);
      if (!account) throw new NotFoundError('account', 'account_not_found');
      let tweets: SandboxTweet[];
      try {
        const answer = await fetch(new URL('/__admin/tweets', deps.config.xApiUrl), {
          signal: AbortSignal.timeout(5000),
        });
        if (!answer.ok) throw new Error(`status ${answer.status}`);
        const all = (await answer.json()) as (SandboxTweet & { authorId: string })[];
        tweets = all
          .filter((tweet) => tweet.authorId === account.xUserId)
          .map(({ id, text, inReplyToTweetId, mediaIds, createdAt, deletedAt }) => ({
            id,
            text,
            inReplyToTweetId,
            mediaIds,
            createdAt,
            deletedAt,
          }))
          .sort((a, b) => b.createdAt - a.createdAt || (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
      } catch (error) {
        throw new ServiceUnavailableError(
          `The sandbox's X emulator did not answer (${(error as Error).message}); restart xgate if it persists.`,
          'x_unavailable',
        );
      }
      return { accountId: account.id, username: account.username, tweets };
    },
  );
};
