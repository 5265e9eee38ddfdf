import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { MediaType } from '../db/schema.ts';
import { MediaTooLargeError, UnsupportedMediaError } from './media.errors.ts';
import { GifFrameCounter, type MediaLimits, SNIFF_BYTES, type SniffedType, sniffMedia } from './sniff.ts';

/** An upload written to a temporary file, checked, and not yet kept. */
export interface ReceivedFile {
  tempPath: string;
  mediaType: MediaType;
  mime: string;
  size: number;
  /** sha256 of the content, hex. */
  sha256: string;
}

/**
 * The media files under `<dataDir>/media/`: an upload is streamed to a temporary file (never held in
 * memory), then renamed to `<dataDir>/media/<id>` when kept. The database stores the path relative to the
 * data dir (`media/<id>`), so the data dir can move.
 */
export class MediaStorage {
  readonly directory: string;

  constructor(
    private readonly dataDir: string,
    private readonly limits: MediaLimits,
  ) {
    this.directory = join(dataDir, 'media');
  }

  /** The largest file any type may be; an upload parser can stop reading one byte past it. */
  get largestLimit(): number {
    return Math.max(this.limits.image, this.limits.gif, this.limits.video);
  }

  /**
   * Streams `source` to a temporary file while hashing and counting it, deciding its type from the first
   * bytes. Refuses with 415 {@link UnsupportedMediaError} or 413 {@link MediaTooLargeError} as soon as it
   * can tell, deletes the temporary file, and reads the rest of `source` away so the client gets the answer.
   */
  async receive(source: AsyncIterable<Uint8Array>): Promise<ReceivedFile> {
    await mkdir(this.directory, { recursive: true });
    const tempPath = join(this.directory, `upload-${randomUUID()}.part`);
    const out = createWriteStream(tempPath, { flags: 'wx' });
    const iterator = source[Symbol.asyncIterator]();
    try {
      const check = new UploadCheck(this.limits);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const accepted = check.accept(next.value);
        if (accepted.length > 0 && !out.write(accepted)) await once(out, 'drain');
      }
      const rest = check.finish();
      if (rest.length > 0) out.write(rest);
      out.end();
      await once(out, 'finish');
      return { tempPath, ...check.result() };
    } catch (error) {
      // Wait for the stream to close: it opens its file asynchronously and could create it after the rm.
      out.destroy();
      await finished(out).catch(() => undefined);
      await rm(tempPath, { force: true });
      // Read the rest away: the answer should reach the client, not a reset connection.
      await drain(iterator).catch(() => undefined);
      throw error;
    }
  }

  /** Keeps a received file as media `id`; returns the path to store (relative to the data dir). */
  async keep(file: ReceivedFile, id: string): Promise<string> {
    await rename(file.tempPath, join(this.directory, id));
    return `media/${id}`;
  }

  /** Deletes a received file that will not be kept, or a kept one given its stored path. */
  async discard(path: string): Promise<void> {
    await rm(path.startsWith('media/') ? join(this.dataDir, path) : path, { force: true });
  }

  /** The absolute path of a stored `media/<id>` path. */
  absolutePath(storedPath: string): string {
    return join(this.dataDir, storedPath);
  }
}

async function drain(iterator: AsyncIterator<Uint8Array>): Promise<void> {
  let next = await iterator.next();
  while (!next.done) next = await iterator.next();
}

/** Type, size and hash of an upload, decided as its bytes pass through. */
class UploadCheck {
  #hash = createHash('sha256');
  #size = 0;
  #head: Buffer = Buffer.alloc(0);
  #type: SniffedType | null = null;
  #gif: GifFrameCounter | null = null;
  #limit = Number.POSITIVE_INFINITY;

  constructor(private readonly limits: MediaLimits) {}

  /** Takes the next chunk; returns the bytes to write (held back until the type is known). */
  accept(chunk: Uint8Array): Uint8Array {
    if (this.#type) return this.#count(chunk);
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length < SNIFF_BYTES) return new Uint8Array(0);
    this.#decide();
    return this.#count(this.#head);
  }

  /** At the end of the upload: the bytes still held back (a file shorter than the sniffing window). */
  finish(): Uint8Array {
    if (this.#type) return new Uint8Array(0);
    this.#decide();
    return this.#count(this.#head);
  }

  result(): Omit<ReceivedFile, 'tempPath'> {
    const type = this.#type!;
    const mediaType = this.#gif?.mediaType ?? type.mediaType;
    if (this.#size > this.limits[mediaType]) throw new MediaTooLargeError(mediaType, this.limits[mediaType]);
    return { mediaType, mime: type.mime, size: this.#size, sha256: this.#hash.digest('hex') };
  }

  #decide(): void {
    const type = sniffMedia(this.#head);
    if (!type) throw new UnsupportedMediaError(this.#head.length === 0 ? 'The file is empty.' : undefined);
    this.#type = type;
    if (type.mediaType === 'gif') {
      this.#gif = new GifFrameCounter();
      // Still or animated is known only at the end: allow the larger limit until then.
      this.#limit = Math.max(this.limits.gif, this.limits.image);
    } else {
      this.#limit = this.limits[type.mediaType];
    }
  }

  #count(chunk: Uint8Array): Uint8Array {
    this.#size += chunk.length;
    if (this.#size > this.#limit) throw new MediaTooLargeError(this.#type!.mediaType, this.#limit);
    this.#hash.update(chunk);
    this.#gif?.push(chunk);
    return chunk;
  }
}
