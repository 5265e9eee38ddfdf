import {
  CompiledQuery,
  type Insertable,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  sql,
  type Transaction,
} from 'kysely';
import { batchedRowByKey } from '../db/batched.ts';
import { isPostgres } from '../db/index.ts';
import type { ListPosition } from '../db/list-cursor.ts';

import type {
  AccountStatus,
  Database,
  PostItemStatus,
  PostItemsTable,
  PostStatus,
  PostsTable,
} from '../db/schema.ts';
import { appendEvents, type NewEvent, pgEventArrays, pgEventBatch } from '../events/index.ts';
import { postEvent } from './post-events.ts';
import { DELETABLE_STATUSES } from './post-status.ts';

export type { ListPosition } from '../db/list-cursor.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** One tweet of a post. */
export interface PostItem {
  /** 0-based; item n+1 replies to item n. */
  position: number;
  text: string;
  /** xgate media ids. */
  mediaIds: string[];
  status: PostItemStatus;
  tweetId: string | null;
  errorMessage: string | null;
}

/** A post (one tweet, or a thread) with its items in order. Times are epoch ms. */
export interface Post {
  id: string;
  userId: string;
  accountId: string;
  /** The account's X username (for tweet URLs); null if the account row is gone. */
  username: string | null;
  status: PostStatus;
  scheduledAt: number;
  createdAt: number;
  updatedAt: number;
  publishedAt: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** The queue slot it took ("add to queue"), or null. */
  queueSlotAt: number | null;
  /** What X will bill for it (USD), estimated when it was scheduled or changed. */
  estimatedCostUsd: number;
  /** The first item's URLs were moved into a reply to it. */
  linkInReply: boolean;
  items: PostItem[];
}

/** What a new or edited item holds before it is sent. */
export interface DraftItem {
  text: string;
  mediaIds: string[];
}

/** The account facts posting needs. */
export interface PostingAccount {
  id: string;
  xUserId: string;
  username: string;
  status: AccountStatus;
  subscriptionType: string | null;
}

/** The one conversion of a `post_items` row. */
export function toPostItem(row: Selectable<PostItemsTable>): PostItem {
  return {
    position: Number(row.position),
    text: row.text,
    mediaIds: JSON.parse(row.media_ids) as string[],
    status: row.status,
    tweetId: row.tweet_id,
    errorMessage: row.error_message,
  };
}

/** The one conversion of a `posts` row (with its account's username) and its item rows. */
export function toPost(row: Selectable<PostsTable> & { username: string | null }, items: PostItem[]): Post {
  return {
    id: row.id,
    userId: row.user_id,
    accountId: row.account_id,
    username: row.username,
    status: row.status,
    scheduledAt: Number(row.scheduled_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    publishedAt: row.published_at === null ? null : Number(row.published_at),
    queueSlotAt: row.queue_slot_at === null ? null : Number(row.queue_slot_at),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    estimatedCostUsd: Number(row.estimated_cost_usd ?? 0),
    linkInReply: Number(row.link_in_reply ?? 0) === 1,
    items: [...items].sort((a, b) => a.position - b.position),
  };
}

/** The `pending` item rows of a post (also used by bulk loaders such as the dispatch benchmark). */
export function draftRows(postId: string, items: readonly DraftItem[]) {
  return items.map((item, position) => ({
    post_id: postId,
    position,
    text: item.text,
    media_ids: JSON.stringify(item.mediaIds),
    status: 'pending' as const,
    tweet_id: null,
    attempt_started_at: null,
    error_message: null,
  }));
}

/** The user's account, or undefined (also when it is someone else's). */
export async function findPostingAccount(
  db: Executor,
  userId: string,
  accountId: string,
): Promise<PostingAccount | undefined> {
  const row = await accountsById(db, accountId);
  return row && row.user_id === userId
    ? {
        id: row.id,
        xUserId: row.x_user_id,
        username: row.username,
        status: row.status,
        subscriptionType: row.subscription_type,
      }
    : undefined;
}

/** Every create reads its account: the reads of one moment share a statement. */
const accountsById = batchedRowByKey(
  (db, ids: readonly string[]) =>
    db
      .selectFrom('accounts')
      .select(['id', 'user_id', 'x_user_id', 'username', 'status', 'subscription_type'])
      .where('id', 'in', ids)
      .execute(),
  (row) => row.id,
);

/** The id of the user's account with this X username (any case), if there is one: to help who passed a name. */
export async function findAccountIdByUsername(
  db: Executor,
  userId: string,
  username: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .where('user_id', '=', userId)
    .where(sql<string>`lower(username)`, '=', username.toLowerCase())
    .orderBy('created_at')
    .executeTakeFirst();
  return row?.id;
}

/** What a new post is made of; `now` is its creation time. */
export interface NewPost {
  id: string;
  userId: string;
  accountId: string;
  scheduledAt: number;
  now: number;
  /** Set when the post took a slot of the account's queue ("add to queue"): the same as `scheduledAt`. */
  queueSlotAt?: number;
  /** What X will bill for it (USD). */
  estimatedCostUsd?: number;
  linkInReply?: boolean;
}

/** The row of a new `scheduled` post (also used by bulk loaders such as the dispatch benchmark). */
export function scheduledPostRow(post: NewPost): Insertable<PostsTable> {
  return {
    id: post.id,
    user_id: post.userId,
    account_id: post.accountId,
    status: 'scheduled',
    scheduled_at: post.scheduledAt,
    created_at: post.now,
    updated_at: post.now,
    published_at: null,
    error_code: null,
    error_message: null,
    lease_owner: null,
    lease_until: null,
    attempts: 0,
    next_attempt_at: post.scheduledAt,
    queue_slot_at: post.queueSlotAt ?? null,
    estimated_cost_usd: post.estimatedCostUsd ?? 0,
    link_in_reply: post.linkInReply ? 1 : 0,
  };
}

/**
 * Inserts a new `scheduled` post and its `pending` items; returns the post as a read would (from the rows written,
 * so a create needs no second round trip), with its account's `username`.
 */
export async function insertPost(
  trx: Executor,
  post: NewPost & { items: readonly DraftItem[] },
  username: string | null = null,
): Promise<Post> {
  const [created] = await insertPosts(trx, [{ post, username }]);
  return created!;
}

type NewScheduledPost = { post: NewPost & { items: readonly DraftItem[] }; username: string | null };

/** Inserts new `scheduled` posts with their items: two statements however many posts. */
export async function insertPosts(trx: Executor, posts: readonly NewScheduledPost[]): Promise<Post[]> {
  const { rows, items, created } = newPostRows(posts);
  await trx.insertInto('posts').values(rows).execute();
  await trx.insertInto('post_items').values(items).execute();
  return created;
}

/**
 * Creates: takes the budget locks of `lock` ({@link lockBudget}), then inserts the posts with their items and
 * `events`. On PostgreSQL that is one statement, so a create's writes cost one round trip before its count. The
 * locks come before any row lock of the transaction either way: the posts' triggers, which lock the budget's hourly
 * rows, run at the end of the statement, and edits lock before they write too.
 */
export async function insertPostsLocked(
  trx: Transaction<Database>,
  posts: readonly NewScheduledPost[],
  events: readonly NewEvent[],
  lock: readonly BudgetRange[],
): Promise<Post[]> {
  if (!isPostgres(trx)) {
    const created = await insertPosts(trx, posts);
    await appendEvents(trx, events);
    return created;
  }
  const { rows, items, created } = newPostRows(posts);
  const text = `with "locks" as (${BUDGET_LOCKS}), ${pgInsertPosts(rows[0]!, items[0]!, 2, 'true')}
  select count(*) from "locks"`;
  await trx.executeQuery(
    CompiledQuery.raw(text, [budgetLockKeys(lock), ...pgInsertPostsArguments(rows, items, events)]),
  );
  return created;
}

/**
 * PostgreSQL: data-modifying CTEs that insert posts, their items and their events when `when` holds: the rows as
 * JSON in `$first` and `$first + 1`, the events' columns from `$first + 2` ({@link pgInsertPostsArguments}).
 */
function pgInsertPosts(row: object, item: object, first: number, when: string): string {
  const columns = (sample: object) =>
    Object.keys(sample)
      .map((column) => `"${column}"`)
      .join(', ');
  return `"new_posts" as (
    insert into "posts" (${columns(row)})
    select ${columns(row)} from json_populate_recordset(null::"posts", $${first}::json) where ${when}
  ), "new_items" as (
    insert into "post_items" (${columns(item)})
    select ${columns(item)} from json_populate_recordset(null::"post_items", $${first + 1}::json) where ${when}
  ), "event_input" as (
    select * from unnest(${pgEventBatch.unnestArguments(first + 2)}) as "event_input"(${pgEventBatch.columns})
  ), ${pgEventBatch.cte('new_events', '"event_input"', when)}`;
}

/** The parameters of {@link pgInsertPosts}. */
function pgInsertPostsArguments(
  rows: readonly object[],
  items: readonly object[],
  events: readonly NewEvent[],
): unknown[] {
  return [JSON.stringify(rows), JSON.stringify(items), ...pgEventArrays(events)];
}

/** The rows of new posts and of their items, and the posts as a read would return them. */
function newPostRows(posts: readonly NewScheduledPost[]) {
  const rows = posts.map(({ post }) => ({ ...scheduledPostRow(post), tweet_count: post.items.length }));
  const items = posts.map(({ post }) => draftRows(post.id, post.items));
  const created = rows.map((row, i) =>
    toPost(
      { ...row, username: posts[i]!.username } as Selectable<PostsTable> & { username: string | null },
      items[i]!.map(toPostItem),
    ),
  );
  return { rows, items: items.flat(), created };
}

function postsWithUsername(db: Executor) {
  return db
    .selectFrom('posts')
    .leftJoin('accounts', 'accounts.id', 'posts.account_id')
    .selectAll('posts')
    .select('accounts.username as username');
}

async function withItems(
  db: Executor,
  rows: Array<Selectable<PostsTable> & { username: string | null }>,
): Promise<Post[]> {
  if (rows.length === 0) return [];
  const itemRows = await db
    .selectFrom('post_items')
    .selectAll()
    .where(
      'post_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const byPost = new Map<string, PostItem[]>();
  for (const row of itemRows) {
    const list = byPost.get(row.post_id) ?? [];
    list.push(toPostItem(row));
    byPost.set(row.post_id, list);
  }
  return rows.map((row) => toPost(row, byPost.get(row.id) ?? []));
}

/** The user's post with its items, or undefined (also when it is someone else's). */
export async function findPost(db: Executor, userId: string, id: string): Promise<Post | undefined> {
  const row = await postsWithUsername(db)
    .where('posts.id', '=', id)
    .where('posts.user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const [post] = await withItems(db, [row]);
  return post;
}

/** The user's posts, newest first (created_at desc, then id desc: a stable order for paging). */
export async function listPosts(
  db: Executor,
  userId: string,
  query: { status?: PostStatus; accountId?: string; after?: ListPosition; limit: number },
): Promise<Post[]> {
  let select = postsWithUsername(db).where('posts.user_id', '=', userId);
  if (query.status) select = select.where('posts.status', '=', query.status);
  if (query.accountId) select = select.where('posts.account_id', '=', query.accountId);
  const after = query.after;
  if (after) {
    select = select.where((eb) =>
      eb.or([
        eb('posts.created_at', '<', after.createdAt),
        eb.and([eb('posts.created_at', '=', after.createdAt), eb('posts.id', '<', after.id)]),
      ]),
    );
  }
  const rows = await select
    .orderBy('posts.created_at', 'desc')
    .orderBy('posts.id', 'desc')
    .limit(query.limit)
    .execute();
  return withItems(db, rows);
}

/**
 * Edits a post only while it is `scheduled`: the status check and the update are one statement, so a post
 * the dispatcher claimed in the meantime is never edited (on PostgreSQL the row lock then also holds the
 * claim off until the items are replaced). Returns false when the post is not (or no longer) scheduled.
 */
export async function updateScheduledPost(
  trx: Transaction<Database>,
  userId: string,
  id: string,
  changes: { scheduledAt?: number; items?: readonly DraftItem[]; now: number; estimatedCostUsd?: number },
): Promise<boolean> {
  const updated = await trx
    .updateTable('posts')
    .set({
      updated_at: changes.now,
      ...(changes.scheduledAt !== undefined && {
        scheduled_at: changes.scheduledAt,
        next_attempt_at: changes.scheduledAt,
      }),
      ...(changes.items && { tweet_count: changes.items.length }),
      ...(changes.estimatedCostUsd !== undefined && { estimated_cost_usd: changes.estimatedCostUsd }),
    })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('status', '=', 'scheduled')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  if (changes.items) {
    await trx.deleteFrom('post_items').where('post_id', '=', id).execute();
    await trx.insertInto('post_items').values(draftRows(id, changes.items)).execute();
  }
  return true;
}

/**
 * `scheduled` → `canceled` (its unsent items too, so its history reads true item by item) in one transaction;
 * false if the post was not scheduled.
 */
export async function cancelScheduledPost(
  db: Kysely<Database>,
  userId: string,
  id: string,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const canceled = await cancelPostIn(trx, userId, id, now, ['scheduled']);
    if (!canceled) return false;
    await cancelPendingItems(trx, trx.selectFrom('posts').select('id').where('id', '=', id));
    await appendEvents(trx, [
      postEvent('post.canceled', { id, userId, accountId: canceled.accountId }, now, { status: 'canceled' }),
    ]);
    return true;
  });
}

/** Cancels every scheduled post of an account, and their unsent items (the account was disconnected). */
export async function cancelScheduledPostsOfAccount(
  trx: Transaction<Database>,
  accountId: string,
  now: number,
): Promise<void> {
  const scheduled = trx
    .selectFrom('posts')
    .select('id')
    .where('account_id', '=', accountId)
    .where('status', '=', 'scheduled');
  await cancelPendingItems(trx, scheduled);
  const canceled = await trx
    .updateTable('posts')
    .set({ status: 'canceled', updated_at: now })
    .where('account_id', '=', accountId)
    .where('status', '=', 'scheduled')
    .returning(['id', 'user_id'])
    .execute();
  await appendEvents(
    trx,
    canceled.map((post) =>
      postEvent('post.canceled', { id: post.id, userId: post.user_id, accountId }, now, {
        status: 'canceled',
      }),
    ),
  );
}

/** `pending` items of the posts `postIds` selects → `canceled` (sent ones keep their status). */
async function cancelPendingItems(
  trx: Transaction<Database>,
  postIds: SelectQueryBuilder<Database, 'posts', { id: string }>,
): Promise<void> {
  await trx
    .updateTable('post_items')
    .set({ status: 'canceled' })
    .where('post_id', 'in', postIds)
    .where('status', '=', 'pending')
    .execute();
}

/** Records that an item's tweet was deleted from X. */
export async function markItemDeleted(db: Executor, postId: string, position: number): Promise<void> {
  await db
    .updateTable('post_items')
    .set({ status: 'deleted' })
    .where('post_id', '=', postId)
    .where('position', '=', position)
    .where('status', '=', 'published')
    .execute();
}

/** A post whose tweets are all deleted → `canceled` (only from a status nobody else writes), with `post.deleted`. */
export async function markPostDeleted(
  db: Kysely<Database>,
  userId: string,
  id: string,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const canceled = await cancelPostIn(trx, userId, id, now, DELETABLE_STATUSES);
    if (!canceled) return false;
    await appendEvents(trx, [
      postEvent('post.deleted', { id, userId, accountId: canceled.accountId }, now, { status: 'canceled' }),
    ]);
    return true;
  });
}

/** The user's post → `canceled` in one statement, only while its status is one of `from`; null otherwise. */
async function cancelPostIn(
  db: Executor,
  userId: string,
  id: string,
  now: number,
  from: readonly PostStatus[],
): Promise<{ accountId: string } | null> {
  const row = await db
    .updateTable('posts')
    .set({ status: 'canceled', updated_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('status', 'in', [...from])
    .returning('account_id')
    .executeTakeFirst();
  return row ? { accountId: row.account_id } : null;
}

/** The post's status alone (for `?wait` polling), or undefined. */
export async function findPostStatus(
  db: Executor,
  userId: string,
  id: string,
): Promise<PostStatus | undefined> {
  const row = await db
    .selectFrom('posts')
    .select('status')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.status;
}

/** How many posts wait to be published (the queue depth). */
export async function countScheduledPosts(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('posts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('status', '=', 'scheduled')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * When each tweet counted against X's `POST /2/tweets` budget happens, sorted, in [from, to): an item sent
 * (or attempted) counts at its `attempt_started_at`; an item not sent yet of a `scheduled`/`publishing` post
 * at the post's `next_attempt_at`. `xUserId` limits it to one X user (over all xgate users who connected it);
 * `excludePostId` leaves out a post being edited.
 */
export async function tweetTimes(
  db: Executor,
  query: { xUserId?: string; from: number; to: number; excludePostId?: string },
): Promise<number[]> {
  let select = db
    .selectFrom('post_items')
    .innerJoin('posts', 'posts.id', 'post_items.post_id')
    .select(sql<number>`coalesce(post_items.attempt_started_at, posts.next_attempt_at)`.as('at'))
    .where((eb) =>
      eb.or([
        eb.and([
          eb('post_items.attempt_started_at', 'is not', null),
          eb('post_items.attempt_started_at', '>=', query.from),
          eb('post_items.attempt_started_at', '<', query.to),
        ]),
        eb.and([
          eb('post_items.attempt_started_at', 'is', null),
          eb('posts.status', 'in', ['scheduled', 'publishing']),
          eb('posts.next_attempt_at', '>=', query.from),
          eb('posts.next_attempt_at', '<', query.to),
        ]),
      ]),
    );
  if (query.xUserId !== undefined) {
    const xUserId = query.xUserId;
    select = select.where('posts.account_id', 'in', (eb) =>
      eb.selectFrom('accounts').select('accounts.id').where('accounts.x_user_id', '=', xUserId),
    );
  }
  if (query.excludePostId !== undefined) select = select.where('posts.id', '!=', query.excludePostId);
  const rows = await select.execute();
  return rows.map((r) => Number(r.at)).sort((a, b) => a - b);
}

/** Times (sorted) of the account's posts that are scheduled or being published in [from, to]: taken slots. */
export async function scheduledTimesOfAccount(
  db: Executor,
  accountId: string,
  from: number,
  to: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('posts')
    .select('scheduled_at')
    .where('account_id', '=', accountId)
    .where('status', 'in', ['scheduled', 'publishing'])
    .where('scheduled_at', '>=', from)
    .where('scheduled_at', '<=', to)
    .orderBy('scheduled_at')
    .execute();
  return rows.map((r) => Number(r.scheduled_at));
}

/** The account's queued posts (scheduled in a queue slot after `now`), in slot order. */
async function queuedPosts(
  db: Executor,
  accountId: string,
  now: number,
): Promise<Array<{ id: string; slot: number }>> {
  let query = db
    .selectFrom('posts')
    .select(['id', 'queue_slot_at'])
    .where('account_id', '=', accountId)
    .where('status', '=', 'scheduled')
    .where('queue_slot_at', '>', now)
    .orderBy('queue_slot_at');
  // PostgreSQL: the rows stay ours until the transaction ends (the dispatcher's claim skips locked rows).
  if (isPostgres(db)) query = query.forUpdate();
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, slot: Number(r.queue_slot_at) }));
}

/**
 * Puts queued posts into slots: `assignment[i]` goes to `slots[i]`. The slots are freed first so that swapping
 * them never meets the one-post-per-slot index halfway.
 */
async function assignSlots(
  trx: Transaction<Database>,
  assignment: ReadonlyArray<{ id: string; slot: number }>,
  now: number,
): Promise<void> {
  if (assignment.length === 0) return;
  await trx
    .updateTable('posts')
    .set({ queue_slot_at: null })
    .where(
      'id',
      'in',
      assignment.map((a) => a.id),
    )
    .execute();
  for (const { id, slot } of assignment) {
    await trx
      .updateTable('posts')
      .set({ queue_slot_at: slot, scheduled_at: slot, next_attempt_at: slot, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'scheduled')
      .execute();
  }
}

/** Reorders the account's queued posts over the same slots, in the order `order` gives (a permutation). */
export async function reorderQueue(
  db: Kysely<Database>,
  accountId: string,
  now: number,
  order: (posts: Array<{ id: string; slot: number }>) => Array<{ id: string; slot: number }>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const posts = await queuedPosts(trx, accountId, now);
    const slots = posts.map((p) => p.slot);
    const ordered = order(posts);
    await assignSlots(
      trx,
      ordered.map((post, i) => ({ id: post.id, slot: slots[i]! })),
      now,
    );
  });
}

/** After a queued post left `freedSlot`: every later queued post moves up one slot, into the one before it. */
export async function pullQueueForward(
  db: Kysely<Database>,
  accountId: string,
  freedSlot: number,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const later = (await queuedPosts(trx, accountId, now)).filter((p) => p.slot > freedSlot);
    const slots = [freedSlot, ...later.map((p) => p.slot)];
    await assignSlots(
      trx,
      later.map((post, i) => ({ id: post.id, slot: slots[i]! })),
      now,
    );
  });
}

/** The account's queued posts (scheduled in a queue slot after `now`) of this user, in slot order. */
export async function listQueue(
  db: Executor,
  userId: string,
  accountId: string,
  now: number,
): Promise<Post[]> {
  const rows = await postsWithUsername(db)
    .where('posts.user_id', '=', userId)
    .where('posts.account_id', '=', accountId)
    .where('posts.status', '=', 'scheduled')
    .where('posts.queue_slot_at', '>', now)
    .orderBy('posts.queue_slot_at')
    .execute();
  return withItems(db, rows);
}

/** The hours the app-wide counts of planned tweets are kept in (`budget_hours`, see migration 0016). */
export const BUDGET_HOUR_MS = 3_600_000;

/**
 * A stretch of time in one budget scope (the whole app, or one X user's accounts), cut into equal pieces. The app's
 * ranges are read from its hourly counts, so their `from`, `to` and `pieceMs` are whole hours.
 */
export interface BudgetRange {
  /** Undefined: the whole app. */
  xUserId?: string;
  from: number;
  to: number;
  /** Length of each piece; the last one may be cut short by `to`. */
  pieceMs: number;
}

/**
 * For each range, piece by piece, an upper bound of what {@link tweetTimes} would count: every tweet of the
 * scheduled or publishing posts due in the piece, plus the items attempted in it. An X user's posts are summed
 * (`tweet_count`) from the posts due in the range — at most what the user's own budget lets into it; the whole
 * app's come from its hourly counts (`budget_hours`, ~49 rows for a day's window however long the queue). The items
 * attempted are read from their index: past sends only, at most what X accepted. One statement of fixed text for
 * any number of ranges (they travel as one JSON value), grouped by piece, so no row travels to the application and
 * the database plans the same short statement for one post as for a batch of them.
 */
export async function tweetCountsByPiece(
  db: Executor,
  ranges: readonly BudgetRange[],
  excludePostId?: string,
): Promise<number[][]> {
  if (ranges.length === 0) return [];
  const postgres = isPostgres(db);
  const { rows } = await db.executeQuery<{ r: number; k: number; n: number }>(
    CompiledQuery.raw(postgres ? PG_COUNTS : SQLITE_COUNTS, [
      rangesJson(ranges.map((range) => ({ range, excludePostId }))),
    ]),
  );
  const counts = ranges.map((range) =>
    new Array<number>(Math.ceil((range.to - range.from) / range.pieceMs)).fill(0),
  );
  for (const row of rows) {
    const pieces = counts[Number(row.r)];
    if (pieces) pieces[Number(row.k)] = (pieces[Number(row.k)] ?? 0) + Number(row.n);
  }
  return counts;
}

/** A limit over a budget range: every `run` consecutive pieces of it may hold at most `allowed` tweets. */
export interface BudgetLimit {
  range: BudgetRange;
  run: number;
  allowed: number;
}

/**
 * PostgreSQL: stores new `scheduled` posts with their items and `events` in one statement (its own transaction) if,
 * counted under the budget locks of their ranges, every limit holds ({@link tweetCountsByPiece}'s counts, which do
 * not see these posts: `allowed` leaves room for them). The posts as stored; null when a limit does not hold, and
 * nothing was stored. The locks are held only while the statement runs, not across round trips.
 */
export async function insertPostsWithinBudget(
  db: Kysely<Database>,
  posts: readonly NewScheduledPost[],
  events: readonly NewEvent[],
  limits: readonly BudgetLimit[],
): Promise<Post[] | null> {
  const { rows, items, created } = newPostRows(posts);
  const text = `with "fits" as (select budget_check_locked($1::text[], $2::text, $3::jsonb) as "ok"),
  ${pgInsertPosts(rows[0]!, items[0]!, 4, '(select "ok" from "fits")')}
  select "ok" from "fits"`;
  const { rows: answer } = await db.executeQuery<{ ok: boolean }>(
    CompiledQuery.raw(text, [
      budgetLockKeys(limits.map((limit) => limit.range)),
      LIMITS_HOLD,
      rangesJson(limits),
      ...pgInsertPostsArguments(rows, items, events),
    ]),
  );
  return answer[0]?.ok === true ? created : null;
}

/** The ranges as the count's JSON parameter (`r`, see {@link rangeRows}); an app-wide range must be whole hours. */
function rangesJson(
  ranges: ReadonlyArray<{
    range: BudgetRange;
    excludePostId?: string | undefined;
    run?: number;
    allowed?: number;
  }>,
): string {
  const hours = (ms: number) => ms % BUDGET_HOUR_MS === 0;
  return JSON.stringify(
    ranges.map(({ range, excludePostId, run, allowed }, i) => {
      if (range.xUserId === undefined && ![range.from, range.to, range.pieceMs].every(hours)) {
        throw new Error('an app-wide budget range must be cut in whole hours');
      }
      // No post has the empty id: without a post to leave out, every condition on it holds (or, for one, none).
      return {
        i,
        u: range.xUserId ?? null,
        f: range.from,
        t: range.to,
        piece: range.pieceMs,
        x: excludePostId ?? '',
        run: run ?? 0,
        allowed: allowed ?? 0,
      };
    }),
  );
}

/** The ranges (`i` index, `u` X user or null for the app, `f`–`t`, `piece`, `x` post left out, `run`, `allowed`). */
function rangeRows(postgres: boolean): string {
  return postgres
    ? 'select * from jsonb_to_recordset($1::jsonb) as r(i integer, u text, f bigint, t bigint, piece bigint, x text, run integer, allowed integer)'
    : `select ${['i', 'u', 'f', 't', 'piece', 'x', 'run', 'allowed'].map((k) => `json_extract(value, '$.${k}') as ${k}`).join(', ')}
      from json_each(?)`;
}

/**
 * The count of {@link tweetCountsByPiece} over the ranges `r`: rows (r, k, n), n tweets in piece k of range r (a
 * piece may have several rows). `cross join` keeps the ranges the outer loop (SQLite takes the join order as
 * written), so each range is an index range scan: the user's posts by account and time, the app's hours, the
 * attempts by time.
 */
function countsByPiece(postgres: boolean): string {
  const piece = (at: string) => `cast((${at} - r.f) / r.piece as integer)`;
  const userPosts = `a.x_user_id = r.u and p.account_id = a.id and p.status in ('scheduled', 'publishing')
    and p.next_attempt_at >= r.f and p.next_attempt_at < r.t and p.id <> r.x`;
  // PostgreSQL assumes the JSON holds 100 ranges and would rather hash every scheduled post than look each range
  // up; a lateral subquery behind `offset 0` (a planner fence) is looked up range by range.
  const byRange = postgres
    ? `r cross join lateral (select p.next_attempt_at, p.tweet_count from accounts a cross join posts p
        where ${userPosts} offset 0) as p`
    : `r cross join accounts a cross join posts p where ${userPosts}`;
  return `select r.i as r, ${piece('p.next_attempt_at')} as k, sum(p.tweet_count) as n
      from ${byRange}
      group by 1, 2
    union all
    select r.i, ${piece(`h.hour * ${BUDGET_HOUR_MS}`)}, sum(h.tweets)
      from r cross join budget_hours h
      where r.u is null and h.hour >= r.f / ${BUDGET_HOUR_MS} and h.hour < r.t / ${BUDGET_HOUR_MS}
      group by 1, 2
    union all
    select r.i, ${piece('p.next_attempt_at')}, -p.tweet_count
      from r cross join posts p
      where r.u is null and p.id = r.x and p.status in ('scheduled', 'publishing')
      and p.next_attempt_at >= r.f and p.next_attempt_at < r.t
    union all
    select r.i, ${piece('pi.attempt_started_at')}, count(*)
      from r cross join post_items pi
      where pi.attempt_started_at >= r.f and pi.attempt_started_at < r.t and pi.post_id <> r.x
      and (r.u is null or (select a.x_user_id from posts p join accounts a on a.id = p.account_id
        where p.id = pi.post_id) = r.u)
      group by 1, 2`;
}

const PG_COUNTS = `with r as (${rangeRows(true)}) ${countsByPiece(true)}`;
const SQLITE_COUNTS = `with r as (${rangeRows(false)}) ${countsByPiece(false)}`;

/**
 * PostgreSQL, run by `budget_check_locked` over the ranges `$1` (with `run` and `allowed`): whether every limit holds,
 * i.e. no `run` consecutive pieces of a range count more than its `allowed`. Each range's pieces are made dense
 * (at most ~50), summed cumulatively, and the run starting at piece k is the cumulative sum `run - 1` pieces later
 * (or the range's total, past its end) less the one before k.
 */
const LIMITS_HOLD = `with r as (${rangeRows(true)}), c as (${countsByPiece(true)}),
  counted as (select c.r, c.k, sum(c.n) as n from c group by 1, 2),
  pieces as (
    select r.i, g.k, r.run, coalesce(counted.n, 0) as n
    from r cross join generate_series(0, (r.t - r.f + r.piece - 1) / r.piece - 1) as g(k)
    left join counted on counted.r = r.i and counted.k = g.k
  ),
  running as (select i, k, run, n, sum(n) over (partition by i order by k) as total from pieces),
  runs as (
    select i, coalesce(lead(total, run - 1) over (partition by i order by k),
      max(total) over (partition by i)) - total + n as n
    from running
  )
  select coalesce(bool_and(runs.n <= r.allowed), true) from runs join r on r.i = runs.i`;

/** Budget locks are taken per scope and UTC day: two checks whose windows can overlap share a day. */
const BUDGET_LOCK_DAY_MS = 86_400_000;

/**
 * PostgreSQL: takes the transaction's advisory locks on every (scope, day) the ranges touch, in one order, so two
 * creates that could push one window over its limit check one after the other (any number of processes), while
 * creates on other days or accounts go on in parallel. SQLite has one writer: its transactions are already
 * one after the other.
 */
export async function lockBudget(trx: Executor, ranges: readonly BudgetRange[]): Promise<void> {
  if (!isPostgres(trx) || ranges.length === 0) return;
  await trx.executeQuery(CompiledQuery.raw(BUDGET_LOCKS, [budgetLockKeys(ranges)]));
}

/** The advisory lock keys of the (scope, day)s the ranges touch. */
function budgetLockKeys(ranges: readonly BudgetRange[]): string[] {
  const keys = new Set<string>();
  for (const range of ranges) {
    const scope = range.xUserId === undefined ? 'app' : `user:${range.xUserId}`;
    for (let day = Math.floor(range.from / BUDGET_LOCK_DAY_MS); day * BUDGET_LOCK_DAY_MS < range.to; day++) {
      keys.add(`xgate budget ${scope} ${day}`);
    }
  }
  return [...keys];
}

/**
 * A select taking the advisory locks of the keys in `$1` (text[], {@link budgetLockKeys}) in one order, so two
 * transactions never wait on each other's in a circle.
 *
 * The count that follows ({@link tweetCountsByPiece}) is a few indexed reads per range, but the planner cannot see
 * how few ranges its JSON holds: left to itself it compiled the statement (JIT, 630 ms) and started parallel workers
 * (80 ms) for reads that take 3 ms. Turned off here, for the rest of the transaction, to spare a round trip.
 */
const BUDGET_LOCKS = `select pg_advisory_xact_lock(hashtextextended(k, 0)),
    set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)
  from (select unnest($1::text[]) as k order by k) as "keys"`;

/**
 * The estimated cost (USD) of posts still to be published (scheduled or publishing) due in [from, to): of one
 * account, or of the whole app when `accountId` is null; `excludePostId` leaves out a post being edited.
 */
export async function scheduledCost(
  db: Executor,
  options: { accountId: string | null; from: number; to: number; excludePostId?: string },
): Promise<number> {
  let query = db
    .selectFrom('posts')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('estimated_cost_usd'), eb.val(0)).as('usd'))
    .where('status', 'in', ['scheduled', 'publishing'])
    .where('next_attempt_at', '>=', options.from)
    .where('next_attempt_at', '<', options.to);
  if (options.accountId !== null) query = query.where('account_id', '=', options.accountId);
  if (options.excludePostId !== undefined) query = query.where('id', '!=', options.excludePostId);
  const row = await query.executeTakeFirst();
  return Number(row?.usd ?? 0);
}
