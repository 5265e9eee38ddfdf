import { describe, expect, it } from 'vitest';
import { gif, jpeg, mp4, png, webm, webp } from '../../test/fixtures/media.ts';
import { GifFrameCounter, SNIFF_BYTES, sniffMedia } from './sniff.ts';

const head = (file: Buffer) => file.subarray(0, SNIFF_BYTES);

describe('sniffMedia', () => {
  it('recognizes each accepted format by its bytes', () => {
    expect(sniffMedia(head(jpeg()))).toEqual({ mediaType: 'image', mime: 'image/jpeg' });
    expect(sniffMedia(head(png()))).toEqual({ mediaType: 'image', mime: 'image/png' });
    expect(sniffMedia(head(webp()))).toEqual({ mediaType: 'image', mime: 'image/webp' });
    expect(sniffMedia(head(gif(2)))).toEqual({ mediaType: 'gif', mime: 'image/gif' });
    expect(sniffMedia(head(mp4()))).toEqual({ mediaType: 'video', mime: 'video/mp4' });
    expect(sniffMedia(head(mp4('qt  ')))).toEqual({ mediaType: 'video', mime: 'video/quicktime' });
    expect(sniffMedia(head(webm()))).toEqual({ mediaType: 'video', mime: 'video/webm' });
  });

  it('refuses everything else', () => {
    expect(sniffMedia(Buffer.from('%PDF-1.7\n'))).toBeNull();
    expect(sniffMedia(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffMedia(Buffer.from('BM6\0\0\0'))).toBeNull();
    expect(sniffMedia(Buffer.alloc(0))).toBeNull();
  });

  it('takes only the ISO ftyp brands of MP4 and QuickTime video', () => {
    for (const brand of ['mp42', 'mp41', 'avc1', 'M4V ', 'iso5', 'dash']) {
      expect(sniffMedia(head(mp4(brand)))).toEqual({ mediaType: 'video', mime: 'video/mp4' });
    }
    // HEIC/HEIF and AVIF images, M4A/M4B audio, 3GP video and Canon raw share the box but are not X video.
    for (const brand of ['heic', 'heix', 'mif1', 'msf1', 'avif', 'avis', 'M4A ', 'M4B ', '3gp4', 'crx ']) {
      expect([brand, sniffMedia(head(mp4(brand)))]).toEqual([brand, null]);
    }
  });
});

describe('GifFrameCounter', () => {
  it('tells a still GIF from an animated one, fed in tiny chunks', () => {
    for (const [frames, type] of [
      [1, 'image'],
      [2, 'gif'],
      [5, 'gif'],
    ] as const) {
      const counter = new GifFrameCounter();
      const file = gif(frames);
      for (let i = 0; i < file.length; i += 3) counter.push(file.subarray(i, i + 3));
      expect(counter.frames).toBe(frames);
      expect(counter.mediaType).toBe(type);
    }
  });
});
