import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database, PostItemStatus } from '../db/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/index.ts';
import { appendEvents } from '../events/index.ts';
import { postEvent, publishedEventOf } from './post-events.ts';

/** What a person decided about a post xgate could not finish on its own. */
export interface Resolution {
  /** Tweets the person found on X for items, by position: those items count as published. */
  itemTweetIds?: Record<string, string>;
  /** `published`: every remaining item is on X; `failed`: give the post up. Absent: continue publishing. */
  status?: 'published' | 'failed';
}

const TWEET_ID = /^[0-9]{1,19}$/;

/**
 * `needs_review` and `failed` posts are the user's to decide (CONTRACT §3 "can be retried or resolved"):
 * - retry: publishing resumes; items whose outcome is unknown are reconciled with X first, never resent blindly,
 *   and items X refused are sent again;
 * - resolve: the person says what X has (tweet ids per item) or ends the post as published or failed.
 */
export class ReviewService {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  /** Puts a `needs_review` or `failed` post back in the queue, due now. 409 `post_not_retryable` otherwise. */
  async retry(userId: string, postId: string): Promise<void> {
    const { db, clock } = this.deps;
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      const post = await this.load(trx, userId, postId);
      if (post.status !== 'needs_review' && post.status !== 'failed') {
        throw new ConflictError(
          `Only a post that failed or needs review can be retried; this one is ${post.status}.`,
          'post_not_retryable',
        );
      }
      await trx
        .updateTable('post_items')
        .set({ status: 'pending', error_message: null })
        .where('post_id', '=', postId)
        .where('status', '=', 'failed')
        .execute();
      await this.requeue(trx, postId, post.status, now);
    });
  }

  /** Applies a person's decision to a `needs_review` post. 409 `post_not_in_review` otherwise. */
  async resolve(userId: string, postId: string, resolution: Resolution): Promise<void> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const given = Object.entries(resolution.itemTweetIds ?? {});
    if (given.length === 0 && resolution.status === undefined) {
      throw new ValidationError('Give itemTweetIds, status, or both.', {
        fields: ['itemTweetIds', 'status'],
      });
    }
    for (const [position, tweetId] of given) {
      if (!/^[0-9]+$/.test(position) || !TWEET_ID.test(tweetId)) {
        throw new ValidationError('itemTweetIds maps item positions to tweet ids (digits only).', {
          field: `itemTweetIds.${position}`,
        });
      }
    }
    await db.transaction().execute(async (trx) => {
      const post = await this.load(trx, userId, postId);
      if (post.status !== 'needs_review') {
        throw new ConflictError(
          `Only a post that needs review can be resolved; this one is ${post.status}.`,
          'post_not_in_review',
        );
      }
      const items = await trx
        .selectFrom('post_items')
        .select(['position', 'status'])
        .where('post_id', '=', postId)
        .execute();
      const byPosition = new Map(items.map((item) => [item.position, item.status]));
      for (const [position, tweetId] of given) {
        const status = byPosition.get(Number(position));
        if (status === undefined) {
          throw new ValidationError(`The post has no item at position ${position}.`, {
            field: `itemTweetIds.${position}`,
          });
        }
        if (status === 'published') {
          throw new ConflictError(
            `The item at position ${position} is already published.`,
            'item_already_published',
          );
        }
        await trx
          .updateTable('post_items')
          .set({ status: 'published', tweet_id: tweetId, error_message: null })
          .where('post_id', '=', postId)
          .where('position', '=', Number(position))
          .execute();
        byPosition.set(Number(position), 'published');
      }
      const open = [...byPosition]
        .filter(([, status]) => status !== 'published')
        .map(([position]) => position);
      if (resolution.status === 'failed') {
        await this.setOpenItems(trx, postId, open, 'failed', 'Given up by the user.');
        await trx
          .updateTable('posts')
          .set({
            status: 'failed',
            error_code: 'resolved_as_failed',
            error_message: 'The user resolved this post as failed.',
            updated_at: now,
          })
          .where('id', '=', postId)
          .execute();
        await appendEvents(trx, [
          postEvent('post.failed', { id: postId, userId, accountId: post.account_id }, now, {
            status: 'failed',
            error: { code: 'resolved_as_failed', message: 'The user resolved this post as failed.' },
          }),
        ]);
      } else if (resolution.status === 'published' || open.length === 0) {
        await this.setOpenItems(trx, postId, open, 'published', null);
        await trx
          .updateTable('posts')
          .set({
            status: 'published',
            published_at: now,
            error_code: null,
            error_message: null,
            updated_at: now,
          })
          .where('id', '=', postId)
          .execute();
        await appendEvents(trx, [await publishedEventOf(trx, postId, now)]);
      } else {
        await this.requeue(trx, postId, 'needs_review', now);
      }
    });
  }

  private async load(db: Kysely<Database>, userId: string, postId: string) {
    const post = await db
      .selectFrom('posts')
      .select(['id', 'status', 'account_id'])
      .where('id', '=', postId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!post) throw new NotFoundError('post', 'post_not_found');
    return post;
  }

  private async setOpenItems(
    db: Kysely<Database>,
    postId: string,
    positions: number[],
    status: PostItemStatus,
    errorMessage: string | null,
  ): Promise<void> {
    if (positions.length === 0) return;
    await db
      .updateTable('post_items')
      .set({ status, error_message: errorMessage })
      .where('post_id', '=', postId)
      .where('position', 'in', positions)
      .execute();
  }

  /**
   * Due now for the dispatcher: `scheduled` when nothing of it may be on X, else `publishing` with no owner and an
   * expired lease (the dispatcher's resume state), so it cannot be edited as if nothing had been sent.
   */
  private async requeue(db: Kysely<Database>, postId: string, from: string, now: number): Promise<void> {
    const started = await db
      .selectFrom('post_items')
      .select('position')
      .where('post_id', '=', postId)
      .where('status', 'in', ['published', 'sending', 'unknown'])
      .executeTakeFirst();
    const result = await db
      .updateTable('posts')
      .set({
        status: started ? 'publishing' : 'scheduled',
        lease_owner: null,
        lease_until: started ? now - 1 : null,
        next_attempt_at: now,
        attempts: 0,
        error_code: null,
        error_message: null,
        updated_at: now,
      })
      .where('id', '=', postId)
      .where('status', '=', from as 'failed' | 'needs_review')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0)
      throw new ConflictError('The post changed meanwhile; try again.', 'post_changed');
  }
}
