import type { AppDeps } from '../deps.ts';
import { AppError } from '../errors/index.ts';
import { XError } from '../x/index.ts';
import type { TweetDeleter } from './posts.service.ts';

/**
 * Deletes tweets with the account's token from the vault. A tweet X no longer has counts as deleted;
 * a 401 refreshes the token once and tries again; any other X failure answers 502 `x_delete_failed`
 * (or 429 `x_rate_limited`) so the user can retry — the items already deleted stay recorded.
 */
export function createTweetDeleter(deps: Pick<AppDeps, 'accountCaller'>): TweetDeleter {
  return async (account, tweetId) => {
    try {
      await deps.accountCaller.call(account, (api) => api.deleteTweet(tweetId));
    } catch (error) {
      if (!(error instanceof XError)) throw error;
      if (error.code === 'x_not_found') return;
      if (error.code === 'x_rate_limited') {
        throw new AppError(
          429,
          'x_rate_limited',
          'X is rate limiting deletes for this account; try again later.',
          {
            details: { retryAfterMs: error.retryAfterMs ?? null },
            cause: error,
          },
        );
      }
      throw new AppError(
        502,
        'x_delete_failed',
        `X did not delete tweet ${tweetId} (${error.code}); try again.`,
        {
          details: { tweetId, xCode: error.code },
          cause: error,
        },
      );
    }
  };
}
