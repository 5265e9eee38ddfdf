import type { AppDeps } from '../deps.ts';
import type { RouteModule } from '../http/types.ts';
import { postsRoutes } from './posts.routes.ts';
import { PostsService, type TweetDeleter } from './posts.service.ts';
import { createTweetDeleter } from './tweet-deleter.ts';

export { CREATE_TWEET_ENDPOINT, tierWindows } from './budget.ts';
export type { Post, PostItem } from './posts.repository.ts';
export { postView } from './posts.routes.ts';
export { FINAL_STATUSES, type PostInput, PostsService, type TweetDeleter } from './posts.service.ts';
export { splitThread } from './split.ts';
export { checkText, maxWeightedLengthFor, weightedLength } from './text.ts';
export { createTextWorkers, TextTooComplexError, type TextWorkers } from './text-workers.ts';
export { createTweetDeleter } from './tweet-deleter.ts';

/** Builds the posts service from the app's dependencies. */
export function createPostsService(
  deps: AppDeps,
  deleteTweet: TweetDeleter = createTweetDeleter(deps),
): PostsService {
  return new PostsService({
    db: deps.db,
    clock: deps.clock,
    config: deps.config,
    text: deps.text,
    deleteTweet,
  });
}

/** The posts route module for `src/modules.ts`. */
export const postsModule: RouteModule = (app, deps) => postsRoutes(deps.posts)(app, deps);
