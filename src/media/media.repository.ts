import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MediaTable, MediaType } from '../db/schema.ts';

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
