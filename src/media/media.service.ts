import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/index.ts';
import { MediaQuotaExceededError } from './media.errors.ts';
import {
  deleteUnneededMedia,
  findMedia,
  findPurgeableMedia,
  insertMedia,
  isMediaNeeded,
  type Media,
  mediaBytesOfUser,
} from './media.repository.ts';
import type { MediaStorage, ReceivedFile } from './media.storage.ts';

/** X's limit for a media item's alternative text. */
export const MAX_ALT_TEXT_LENGTH = 1_000;

/** Options of a create operation; `inTransaction` runs inside the creating transaction (Idempotency-Key). */
export interface CreateOptions<T> {
  inTransaction?: (trx: Transaction<Database>, created: T) => Promise<void>;
}

/** How much media a user may keep, and how long media no post needs is kept. */
export interface MediaRetention {
  quotaBytes: number;
  /** An upload no post lists is deleted after this many ms. */
  unusedTtlMs: number;
  /** Media listed only by published or canceled posts is deleted this many ms after upload. */
  finishedTtlMs: number;
}

/** Media purged per round of the purge loop. */
const PURGE_BATCH = 100;

/** Media intake: keeps checked uploads and answers who owns what. */
export class MediaService {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      clock: Clock;
      storage: MediaStorage;
      retention: MediaRetention;
    },
  ) {}

  /** 413 `media_quota_exceeded` before an upload is even read, when the user's quota is already used up. */
  async checkQuota(userId: string): Promise<void> {
    const used = await mediaBytesOfUser(this.deps.db, userId);
    if (used >= this.deps.retention.quotaBytes)
      throw new MediaQuotaExceededError(used, this.deps.retention.quotaBytes);
  }

  /**
   * Deletes the user's media and its file; 404 `media_not_found` (also another user's), 409 `media_in_use`
   * while a post that may still publish it (scheduled, publishing, failed, needs review) lists it.
   */
  async delete(userId: string, id: string): Promise<void> {
    const media = await this.get(userId, id);
    if (!(await deleteUnneededMedia(this.deps.db, userId, id))) {
      if (await isMediaNeeded(this.deps.db, userId, id)) {
        throw new ConflictError(
          'A scheduled (or failed, or needs-review) post still uses this media. Delete or edit that post first.',
          'media_in_use',
        );
      }
      return;
    }
    await this.deps.storage.discard(media.path);
  }

  /** Deletes up to a batch of media no post needs any more (see MediaRetention); returns how many. */
  async purge(): Promise<number> {
    const { db, clock, storage, retention } = this.deps;
    const now = clock.now();
    const candidates = await findPurgeableMedia(db, {
      unattachedBefore: now - retention.unusedTtlMs,
      finishedBefore: now - retention.finishedTtlMs,
      limit: PURGE_BATCH,
    });
    let purged = 0;
    for (const media of candidates) {
      // Re-checked in the DELETE itself: a post may have listed it since the candidates were read.
      if (!(await deleteUnneededMedia(db, null, media.id))) continue;
      await storage.discard(media.path);
      purged++;
    }
    return purged;
  }

  /** Streams an upload to a temporary file, checking type and size (see `MediaStorage.receive`). */
  receive(source: AsyncIterable<Uint8Array>): Promise<ReceivedFile> {
    return this.deps.storage.receive(source);
  }

  /**
   * Keeps a received file as the user's media: validates `altText` (≤ 1,000 characters; blank → none),
   * moves the file into place and inserts the row in one transaction with `options.inTransaction`.
   * On any failure the file is deleted and nothing is stored.
   */
  async create(
    userId: string,
    input: { file: ReceivedFile; altText?: string | null },
    options: CreateOptions<Media> = {},
  ): Promise<Media> {
    const { storage, db, clock } = this.deps;
    const altText = input.altText?.trim() ? input.altText.trim() : null;
    if (altText !== null && [...altText].length > MAX_ALT_TEXT_LENGTH) {
      await storage.discard(input.file.tempPath);
      throw new ValidationError(
        `The alternative text is ${[...altText].length} characters long; X accepts at most ${MAX_ALT_TEXT_LENGTH}.`,
        { field: 'altText', length: [...altText].length, limit: MAX_ALT_TEXT_LENGTH },
        'alt_text_too_long',
      );
    }
    const { quotaBytes } = this.deps.retention;
    const used = await mediaBytesOfUser(db, userId);
    if (used + input.file.size > quotaBytes) {
      await storage.discard(input.file.tempPath);
      throw new MediaQuotaExceededError(used, quotaBytes, input.file.size);
    }
    const id = randomUUID();
    let path: string | null = null;
    try {
      path = await storage.keep(input.file, id);
      const media: Media = {
        id,
        userId,
        mediaType: input.file.mediaType,
        mime: input.file.mime,
        size: input.file.size,
        sha256: input.file.sha256,
        altText,
        path,
        createdAt: clock.now(),
      };
      await db.transaction().execute(async (trx) => {
        await insertMedia(trx, media);
        await options.inTransaction?.(trx, media);
      });
      return media;
    } catch (error) {
      await storage.discard(path ?? input.file.tempPath);
      throw error;
    }
  }

  /** Deletes a received file that will not be kept. */
  discard(file: ReceivedFile): Promise<void> {
    return this.deps.storage.discard(file.tempPath);
  }

  /** The user's media, or undefined (also when it is someone else's). */
  find(userId: string, id: string): Promise<Media | undefined> {
    return findMedia(this.deps.db, userId, id);
  }

  /** The user's media, or 404 `media_not_found` (also for another user's media). */
  async get(userId: string, id: string): Promise<Media> {
    const media = await findMedia(this.deps.db, userId, id);
    if (!media) throw new NotFoundError('media', 'media_not_found');
    return media;
  }

  /** The absolute path of a media file, to read it (e.g. to upload it to X). */
  filePath(media: Media): string {
    return this.deps.storage.absolutePath(media.path);
  }
}
