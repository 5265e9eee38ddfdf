import { type ExpressionBuilder, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database, MediaTable, MediaType } from '../db/schema.ts';
import { STATUSES_NEEDING_MEDIA } from '../posts/post-status.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** A stored media file. `path` is relative to the data dir (`media/<id>`); see `MediaStorage.absolutePath`. */
export interface Media {
  id: string;
  userId: string;
  mediaType: MediaType;
  mime: string;
  /** Bytes. */
  size: number;
  /** sha256 of the content, hex. */
  sha256: string;
  /** Alternative text sent to X with the media (≤ 1,000 characters), or null. */
  altText: string | null;
  path: string;
  /** Epoch ms. */
  createdAt: number;
}

/** The one conversion of a `media` row. */
export function toMedia(row: Selectable<MediaTable>): Media {
  return {
    id: row.id,
    userId: row.user_id,
    mediaType: row.media_type,
    mime: row.mime,
    size: Number(row.size),
    sha256: row.sha256,
    altText: row.alt_text,
    path: row.path,
    createdAt: Number(row.created_at),
  };
}

export async function insertMedia(db: Executor, media: Media): Promise<void> {
  await db
    .insertInto('media')
    .values({
      id: media.id,
      user_id: media.userId,
      media_type: media.mediaType,
      mime: media.mime,
      size: media.size,
      sha256: media.sha256,
      alt_text: media.altText,
      path: media.path,
      created_at: media.createdAt,
    })
    .execute();
}

/** The user's media with this id, or undefined (also when it belongs to someone else). */
export async function findMedia(db: Executor, userId: string, id: string): Promise<Media | undefined> {
  const row = await db
    .selectFrom('media')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? toMedia(row) : undefined;
}

/** The user's media among `ids` (others' and unknown ids are simply absent). */
export async function findMediaByIds(db: Executor, userId: string, ids: readonly string[]): Promise<Media[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('media')
    .selectAll()
    .where('user_id', '=', userId)
    .where('id', 'in', [...ids])
    .execute();
  return rows.map(toMedia);
}

/** Media by id whatever its owner: for the publisher, which already holds the post (and so the owner). */
export async function getMediaByIds(db: Executor, ids: readonly string[]): Promise<Media[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('media')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  return rows.map(toMedia);
}

/** Items (of the media owner's posts) that list the media: `media_ids` is a JSON array of ids. */
function itemsListing(eb: ExpressionBuilder<Database, 'media'>) {
  return eb
    .selectFrom('post_items')
    .innerJoin('posts', 'posts.id', 'post_items.post_id')
    .whereRef('posts.user_id', '=', 'media.user_id')
    .where(sql<boolean>`post_items.media_ids like '%"' || media.id || '"%'`);
}

/** A post that may still publish the media lists it. */
function neededByAPost(eb: ExpressionBuilder<Database, 'media'>) {
  return eb.exists(
    itemsListing(eb)
      .select('post_items.post_id')
      .where('posts.status', 'in', [...STATUSES_NEEDING_MEDIA]),
  );
}

/** Whether a post that may still publish the media (scheduled, publishing, failed, needs review) lists it. */
export async function isMediaNeeded(db: Executor, userId: string, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('media')
    .select('media.id')
    .where('media.id', '=', id)
    .where('media.user_id', '=', userId)
    .where((eb) => neededByAPost(eb))
    .executeTakeFirst();
  return row !== undefined;
}

/** Bytes of media the user keeps. */
export async function mediaBytesOfUser(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('media')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), sql<number>`0`).as('bytes'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.bytes);
}

/**
 * Media no post needs any more, oldest first, at most `limit`: never listed by a post and uploaded before
 * `unattachedBefore`, or listed only by posts that are published or canceled and uploaded before
 * `finishedBefore`.
 */
export async function findPurgeableMedia(
  db: Executor,
  options: { unattachedBefore: number; finishedBefore: number; limit: number },
): Promise<Media[]> {
  const rows = await db
    .selectFrom('media')
    .selectAll('media')
    .where('media.created_at', '<', Math.max(options.unattachedBefore, options.finishedBefore))
    .where((eb) => eb.not(neededByAPost(eb)))
    .where((eb) =>
      eb.or([
        eb.and([
          eb('media.created_at', '<', options.unattachedBefore),
          eb.not(eb.exists(itemsListing(eb).select('post_items.post_id'))),
        ]),
        eb('media.created_at', '<', options.finishedBefore),
      ]),
    )
    .orderBy('media.created_at')
    .limit(options.limit)
    .execute();
  return rows.map(toMedia);
}

/** Deletes the user's media row unless a post that may still publish it lists it; true when deleted. */
export async function deleteUnneededMedia(db: Executor, userId: string | null, id: string): Promise<boolean> {
  let query = db
    .deleteFrom('media')
    .where('media.id', '=', id)
    .where((eb) => eb.not(neededByAPost(eb)));
  if (userId !== null) query = query.where('media.user_id', '=', userId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
