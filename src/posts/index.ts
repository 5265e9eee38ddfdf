import type { RouteModule } from '../http/types.ts';
import { postsRoutes } from './posts.routes.ts';

export { CREATE_TWEET_ENDPOINT, tierWindows } from './budget.ts';
export { DELETABLE_STATUSES, FINAL_STATUSES, POST_STATUSES, STATUSES_NEEDING_MEDIA } from './post-status.ts';
export type { Post, PostItem } from './posts.repository.ts';
export { postSchema, postView } from './posts.routes.ts';
export { type PostInput, PostsService, type TweetDeleter } from './posts.service.ts';
export { splitThread } from './split.ts';
export { checkText, maxWeightedLengthFor, weightedLength } from './text.ts';
export { createTextWorkers, TextTooComplexError, type TextWorkers } from './text-workers.ts';
export { createTweetDeleter } from './tweet-deleter.ts';

/** The posts route module for `src/modules.ts`. */
export const postsModule: RouteModule = (app, deps) => postsRoutes(deps.posts)(app, deps);
