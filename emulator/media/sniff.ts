/** How many leading bytes of an upload the emulator keeps: enough for every signature below. */
export const HEAD_BYTES = 4096;

/**
 * The media type a file's first bytes say it is (`image/png`, `video/mp4`, …), or null when no known
 * signature matches. The emulator never keeps more than `HEAD_BYTES` of an upload.
 */
export function sniffMediaType(head: Uint8Array): string | null {
  const starts = (bytes: readonly number[], at = 0) => bytes.every((b, i) => head[at + i] === b);
  const ascii = (text: string, at = 0) =>
    starts(
      [...text].map((c) => c.charCodeAt(0)),
      at,
    );
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii('GIF87a') || ascii('GIF89a')) return 'image/gif';
  if (ascii('RIFF') && ascii('WEBP', 8)) return 'image/webp';
  if (ascii('BM') && head.length >= 14) return 'image/bmp';
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  if (ascii('ftyp', 4)) return ascii('qt  ', 8) ? 'video/quicktime' : 'video/mp4';
  if (starts([0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (head[0] === 0x47 && (head.length < 189 || head[188] === 0x47)) return 'video/mp2t';
  if (ascii('glTF')) return 'model/gltf-binary';
  const text = new TextDecoder().decode(head.subarray(0, 64)).replace(/^\uFEFF/, '');
  if (text.startsWith('WEBVTT')) return 'text/vtt';
  if (/^\d+\r?\n\d\d:\d\d:\d\d,\d\d\d --> /.test(text)) return 'text/srt';
  return null;
}

/** Whether a file sniffed as `actual` is acceptable as the declared `declared` type. */
export function contentMatches(declared: string, actual: string | null): boolean {
  if (actual === null) return false;
  if (declared === actual) return true;
  if (declared === 'image/pjpeg') return actual === 'image/jpeg';
  // QuickTime and MP4 share the ISO container; X accepts either under both names.
  return (
    (declared === 'video/mp4' || declared === 'video/quicktime') &&
    (actual === 'video/mp4' || actual === 'video/quicktime')
  );
}
