/** What X does with an upload: images and subtitles are ready at once, GIFs and videos are processed. */
export type MediaKind = 'image' | 'gif' | 'video' | 'subtitles';

/** `media_type` values X accepts (`MediaUploadConfigRequest.media_type` of the OpenAPI spec). */
export const MEDIA_TYPES = [
  'video/mp4',
  'video/webm',
  'video/mp2t',
  'video/quicktime',
  'text/srt',
  'text/vtt',
  'image/jpeg',
  'image/gif',
  'image/bmp',
  'image/png',
  'image/webp',
  'image/pjpeg',
  'image/tiff',
  'model/gltf-binary',
  'model/vnd.usdz+zip',
] as const;

/** `media_category` values of chunked uploads (`MediaCategory`). */
export const MEDIA_CATEGORIES = [
  'amplify_video',
  'tweet_gif',
  'tweet_image',
  'tweet_video',
  'dm_gif',
  'dm_image',
  'dm_video',
  'subtitles',
] as const;

/** Categories a one-shot upload accepts (`MediaCategoryOneShot` of spec v2.167; v2.166 had the first three). */
export const ONE_SHOT_CATEGORIES = [
  'tweet_image',
  'dm_image',
  'subtitles',
  'tweet_gif',
  'tweet_video',
  'dm_gif',
  'dm_video',
] as const;

const MB = 1024 * 1024;

/** X's size limits (docs.x.com media best practices): image 5 MB, animated GIF 15 MB, video 512 MB. */
export const MAX_BYTES: Record<MediaKind, number> = {
  image: 5 * MB,
  gif: 15 * MB,
  video: 512 * MB,
  // Not documented by X; subtitle files are small text.
  subtitles: 1 * MB,
};

/** Largest chunk one append may carry (X's documented chunk maximum is 5 MB; the slack covers multipart overhead). */
export const MAX_SEGMENT_BYTES = 5 * MB;

/** How long an id stays usable after upload or finalize (X answers `expires_after_secs: 86400`). */
export const MEDIA_TTL_MS = 24 * 60 * 60 * 1000;

/** The category X assumes when none is sent: by media type, images as `tweet_image`. */
export function defaultCategory(mediaType: string): string {
  if (mediaType === 'image/gif') return 'tweet_gif';
  if (mediaType.startsWith('video/')) return 'tweet_video';
  if (mediaType.startsWith('text/')) return 'subtitles';
  return 'tweet_image';
}

/**
 * What an upload of this type in this category is, or null when the two do not fit together (a
 * video in `tweet_image`, a PNG in `tweet_gif`, a 3D model anywhere a post can use). A GIF sent as
 * `tweet_image` is a still image, as on X.
 */
export function mediaKind(mediaType: string, category: string): MediaKind | null {
  const image = mediaType.startsWith('image/');
  switch (category) {
    case 'tweet_image':
    case 'dm_image':
      return image ? 'image' : null;
    case 'tweet_gif':
    case 'dm_gif':
      return mediaType === 'image/gif' ? 'gif' : null;
    case 'tweet_video':
    case 'dm_video':
    case 'amplify_video':
      return mediaType.startsWith('video/') ? 'video' : null;
    case 'subtitles':
      return mediaType === 'text/srt' || mediaType === 'text/vtt' ? 'subtitles' : null;
    default:
      return null;
  }
}

/** The numeric prefix of a media key (`3_…` photo, `16_…` animated GIF, `7_…` video, `13_…` amplify video). */
export function mediaKeyPrefix(kind: MediaKind, category: string): string {
  if (kind === 'gif') return '16';
  if (kind === 'video') return category === 'amplify_video' ? '13' : '7';
  return '3';
}

/** The state of an upload's processing at some emulator time, as `processing_info` shows it. */
export interface ProcessingStatus {
  state: 'pending' | 'in_progress' | 'succeeded' | 'failed';
  progressPercent: number;
  /** Present while processing is not finished. */
  checkAfterSecs?: number;
}

/** GIFs and videos wait this long in `pending` after finalize. */
const PENDING_MS = 1000;

/**
 * How long processing takes after the pending second: a fixed part plus a part per size, capped, so a
 * test can step through every state by moving the emulator clock.
 */
export function processingDurationMs(kind: MediaKind, size: number): number {
  if (kind === 'gif') return Math.min(2000 + Math.ceil(size / MB) * 500, 20_000);
  if (kind === 'video') return Math.min(4000 + Math.ceil(size / (8 * MB)) * 1000, 60_000);
  return 0;
}

/**
 * Processing of a finalized GIF or video `elapsedMs` after finalize: pending for a second, then
 * in_progress for `durationMs`, then succeeded, or failed when the content was not what its type said.
 */
export function processingAt(elapsedMs: number, durationMs: number, contentOk: boolean): ProcessingStatus {
  if (elapsedMs < PENDING_MS) {
    return { state: 'pending', progressPercent: 0, checkAfterSecs: 1 };
  }
  const running = elapsedMs - PENDING_MS;
  if (running < durationMs) {
    const remainingSecs = Math.ceil((durationMs - running) / 1000);
    return {
      state: 'in_progress',
      progressPercent: Math.min(99, Math.floor((running / durationMs) * 100)),
      checkAfterSecs: Math.max(1, Math.min(5, remainingSecs)),
    };
  }
  return { state: contentOk ? 'succeeded' : 'failed', progressPercent: 100 };
}
