import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database, MediaType } from '../db/schema.ts';
import { AppError } from '../errors/index.ts';
import type { XMediaCategory, XMediaSource, XUserApi } from '../x/index.ts';

/** Files up to this size are read into memory for upload; bigger ones (videos) are streamed from disk. */
const STREAM_ABOVE_BYTES = 8 * 1024 * 1024;

const categories: Record<MediaType, XMediaCategory> = {
  image: 'tweet_image',
  gif: 'tweet_gif',
  video: 'tweet_video',
};

/** A stored media file is gone (deleted, or the data dir lost it): the item cannot be published as written. */
export class MediaMissingError extends AppError {
  constructor(mediaId: string) {
    super(
      409,
      'media_missing',
      `The media ${mediaId} attached to this post no longer exists in xgate's storage. Upload the file again and edit the post to use it.`,
      { details: { mediaId } },
    );
  }
}

/**
 * Uploads stored media to X for one publish attempt, in order, and returns X's media ids. Images go one-shot;
 * GIFs and videos go chunked with STATUS polling (the X client does both). Alt text is set when stored.
 * X media ids expire (typically after 24 h), so they are not kept: each attempt uploads again.
 */
export function createMediaUploader(deps: { db: Kysely<Database>; dataDir: string }) {
  return async (api: XUserApi, mediaIds: readonly string[]): Promise<string[]> => {
    if (mediaIds.length === 0) return [];
    const rows = await deps.db
      .selectFrom('media')
      .select(['id', 'media_type', 'mime', 'size', 'alt_text', 'path'])
      .where('id', 'in', [...mediaIds])
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    const uploaded: string[] = [];
    for (const id of mediaIds) {
      const row = byId.get(id);
      if (!row) throw new MediaMissingError(id);
      const path = isAbsolute(row.path) ? row.path : join(deps.dataDir, row.path);
      let source: XMediaSource;
      try {
        const { size } = await stat(path);
        source = size > STREAM_ABOVE_BYTES ? { size, stream: createReadStream(path) } : await readFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MediaMissingError(id);
        throw error;
      }
      const media = await api.uploadMedia(source, { mime: row.mime, category: categories[row.media_type] });
      if (row.alt_text) await api.setAltText(media.mediaId, row.alt_text);
      uploaded.push(media.mediaId);
    }
    return uploaded;
  };
}
