import { describe, expect, it } from 'vitest';
import { contentMatches, sniffMediaType } from './sniff.ts';

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : p)));

describe('sniffMediaType', () => {
  it('recognises the signatures of every accepted type', () => {
    expect(sniffMediaType(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffMediaType(bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('image/png');
    expect(sniffMediaType(bytes('GIF87a'))).toBe('image/gif');
    expect(sniffMediaType(bytes('GIF89a'))).toBe('image/gif');
    expect(sniffMediaType(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '))).toBe('image/webp');
    expect(sniffMediaType(bytes('BM', new Array(20).fill(0)))).toBe('image/bmp');
    expect(sniffMediaType(bytes([0x49, 0x49, 0x2a, 0x00]))).toBe('image/tiff');
    expect(sniffMediaType(bytes([0, 0, 0, 0x18], 'ftypisom'))).toBe('video/mp4');
    expect(sniffMediaType(bytes([0, 0, 0, 0x14], 'ftypqt  '))).toBe('video/quicktime');
    expect(sniffMediaType(bytes([0x1a, 0x45, 0xdf, 0xa3]))).toBe('video/webm');
    expect(sniffMediaType(bytes('WEBVTT\n\n'))).toBe('text/vtt');
    expect(sniffMediaType(bytes('1\n00:00:01,000 --> 00:00:02,000\nhi'))).toBe('text/srt');
  });

  it('knows nothing of other content', () => {
    expect(sniffMediaType(bytes('just some words'))).toBeNull();
    expect(sniffMediaType(new Uint8Array())).toBeNull();
  });
});

describe('contentMatches', () => {
  it('accepts the declared type, pjpeg for JPEG, and MP4/QuickTime for each other', () => {
    expect(contentMatches('image/png', 'image/png')).toBe(true);
    expect(contentMatches('image/pjpeg', 'image/jpeg')).toBe(true);
    expect(contentMatches('video/quicktime', 'video/mp4')).toBe(true);
    expect(contentMatches('image/png', 'image/jpeg')).toBe(false);
    expect(contentMatches('video/mp4', null)).toBe(false);
  });
});
