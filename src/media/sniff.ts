import type { MediaType } from '../db/schema.ts';

/** How many leading bytes {@link sniffMedia} needs to decide. */
export const SNIFF_BYTES = 32;

/** What the first bytes say a file is. GIFs are `gif` here until {@link GifFrameCounter} has seen the whole file. */
export interface SniffedType {
  mediaType: MediaType;
  mime: string;
}

/**
 * Major brands of the ISO `ftyp` box that are MP4 or QuickTime video, the containers X takes. Others share the
 * box but are not video X accepts: HEIC/HEIF and AVIF images (`heic`, `mif1`, `avif`), M4A/M4B audio, 3GP, CR3…
 */
const VIDEO_BRANDS = new Set([
  'isom',
  'iso2',
  'iso3',
  'iso4',
  'iso5',
  'iso6',
  'mp41',
  'mp42',
  'avc1',
  'M4V ',
  'M4VH',
  'M4VP',
  'MSNV',
  'dash',
  'qt  ',
]);

const ascii = (bytes: Uint8Array, from: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(from, from + length));

/**
 * Decides the type of a file by its content (magic bytes), never by its name. Returns null for anything
 * X does not take as tweet media: JPEG, PNG, WEBP and GIF images; MP4/MOV (ISO `ftyp` with a video brand) and
 * WebM videos.
 * `head` is the file's first {@link SNIFF_BYTES} bytes (fewer if the file is shorter).
 */
export function sniffMedia(head: Uint8Array): SniffedType | null {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)
    return { mediaType: 'image', mime: 'image/jpeg' };
  if (ascii(head, 0, 8) === '\x89PNG\r\n\x1a\n') return { mediaType: 'image', mime: 'image/png' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WEBP')
    return { mediaType: 'image', mime: 'image/webp' };
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')
    return { mediaType: 'gif', mime: 'image/gif' };
  if (ascii(head, 4, 4) === 'ftyp') {
    const brand = ascii(head, 8, 4);
    if (!VIDEO_BRANDS.has(brand)) return null;
    return { mediaType: 'video', mime: brand === 'qt  ' ? 'video/quicktime' : 'video/mp4' };
  }
  // EBML header; WebM says so in its DocType near the start (plain Matroska is not accepted by X).
  if (
    head[0] === 0x1a &&
    head[1] === 0x45 &&
    head[2] === 0xdf &&
    head[3] === 0xa3 &&
    ascii(head, 0, head.length).includes('webm')
  ) {
    return { mediaType: 'video', mime: 'video/webm' };
  }
  return null;
}

/**
 * Counts the frames (image descriptors) of a GIF fed to it chunk by chunk, following the GIF89a block
 * structure, so an upload can be classified without holding it in memory.
 *
 * Decision: a GIF with more than one frame is `gif` (X's `tweet_gif`, 15 MB, alone in its tweet); a
 * single-frame GIF is a still `image` (X's `tweet_image`, 5 MB, up to four per tweet), as X shows it.
 */
export class GifFrameCounter {
  frames = 0;
  #state: 'header' | 'block' | 'extension' | 'descriptor' | 'lzw' | 'subblocks' | 'done' = 'header';
  #collected: number[] = [];
  #skip = 0;

  /** Feeds the next chunk of the file. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.#state !== 'done') {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      switch (this.#state) {
        case 'header':
          // 6 bytes signature + 7 bytes logical screen descriptor, then the global color table.
          this.#collected.push(byte);
          if (this.#collected.length === 13) {
            this.#skip = colorTableSize(this.#collected[10]!);
            this.#collected = [];
            this.#state = 'block';
          }
          break;
        case 'block':
          if (byte === 0x21) this.#state = 'extension';
          else if (byte === 0x2c) this.#state = 'descriptor';
          else this.#state = 'done'; // 0x3b trailer, or bytes that are not a GIF block
          break;
        case 'extension':
          this.#state = 'subblocks'; // the label byte; its data follows as sub-blocks
          break;
        case 'descriptor':
          // 9 bytes: position, size, packed field; then the local color table.
          this.#collected.push(byte);
          if (this.#collected.length === 9) {
            this.frames++;
            this.#skip = colorTableSize(this.#collected[8]!);
            this.#collected = [];
            this.#state = 'lzw';
          }
          break;
        case 'lzw':
          this.#state = 'subblocks'; // LZW minimum code size; the image data follows as sub-blocks
          break;
        case 'subblocks':
          if (byte === 0) this.#state = 'block';
          else this.#skip = byte;
          break;
      }
    }
  }

  /** The type the GIF finally is: `gif` when animated, `image` when it has one frame. */
  get mediaType(): MediaType {
    return this.frames > 1 ? 'gif' : 'image';
  }
}

function colorTableSize(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** Upload limits in bytes by type (X's: 5 MB images, 15 MB GIFs, 512 MB videos; lower via config). */
export interface MediaLimits {
  image: number;
  gif: number;
  video: number;
}
