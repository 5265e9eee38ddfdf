import type { PostStatus } from '../db/schema.ts';

export { POST_ITEM_STATUSES, POST_STATUSES, type PostItemStatus, type PostStatus } from '../db/schema.ts';

/** Statuses after which a post changes only by the user's hand. */
export const FINAL_STATUSES: readonly PostStatus[] = ['published', 'failed', 'needs_review', 'canceled'];

/** Statuses whose tweets (if any) a DELETE removes from X before the post becomes `canceled`. */
export const DELETABLE_STATUSES: readonly PostStatus[] = ['published', 'failed', 'needs_review'];

/** Statuses of posts that may still upload their media to X (a retry of a failed or needs-review post included). */
export const STATUSES_NEEDING_MEDIA: readonly PostStatus[] = [
  'scheduled',
  'publishing',
  'needs_review',
  'failed',
];
