import type { Kysely, Transaction } from 'kysely';
import type { Database, PostStatus } from '../db/schema.ts';
import type { NewEvent, PostEventData } from '../events/index.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** A tweet's address on X. */
export function tweetUrl(username: string, tweetId: string): string {
  return `https://x.com/${username}/status/${tweetId}`;
}

/** The `items` of a `post.published` event: every item's tweet id and url. */
export function publishedItems(
  username: string | null,
  items: ReadonlyArray<{ position: number; tweetId: string | null }>,
): NonNullable<PostEventData['items']> {
  return items
    .filter((item): item is { position: number; tweetId: string } => item.tweetId !== null)
    .map((item) => ({
      position: item.position,
      tweetId: item.tweetId,
      url: username === null ? '' : tweetUrl(username, item.tweetId),
    }));
}

/** A post event, for posts in the state the change leaves them in. */
export function postEvent(
  type: Extract<NewEvent['type'], `post.${string}`>,
  post: { id: string; userId: string; accountId: string },
  at: number,
  extra: Omit<PostEventData, 'postId' | 'accountId' | 'status'> & { status: PostStatus },
): NewEvent {
  return {
    type,
    userId: post.userId,
    at,
    data: { postId: post.id, accountId: post.accountId, ...extra },
  } as NewEvent;
}

/** The `post.published` event of a post whose items are all on X, read in the transaction that publishes it. */
export async function publishedEventOf(db: Executor, postId: string, at: number): Promise<NewEvent> {
  const post = await db
    .selectFrom('posts')
    .leftJoin('accounts', 'accounts.id', 'posts.account_id')
    .select(['posts.id', 'posts.user_id', 'posts.account_id', 'accounts.username'])
    .where('posts.id', '=', postId)
    .executeTakeFirstOrThrow();
  const items = await db
    .selectFrom('post_items')
    .select(['position', 'tweet_id'])
    .where('post_id', '=', postId)
    .orderBy('position')
    .execute();
  return postEvent('post.published', { id: post.id, userId: post.user_id, accountId: post.account_id }, at, {
    status: 'published',
    items: publishedItems(
      post.username,
      items.map((i) => ({ position: i.position, tweetId: i.tweet_id })),
    ),
  });
}
