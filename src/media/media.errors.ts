import type { MediaType } from '../db/schema.ts';
import { AppError } from '../errors/index.ts';

const MB = 1024 * 1024;

/** Sizes read as people write them: "5 MB", "512 MB", "1.5 KB". */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${Number((bytes / MB).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

const NOUNS: Record<MediaType, string> = { image: 'images', gif: 'animated GIFs', video: 'videos' };

/** 413 `media_too_large`: the upload is bigger than the limit for its type; `details` names the limit. */
export class MediaTooLargeError extends AppError {
  constructor(mediaType: MediaType, limit: number) {
    super(
      413,
      'media_too_large',
      `The file is larger than the ${formatBytes(limit)} limit for ${NOUNS[mediaType]}.`,
      {
        details: { mediaType, limitBytes: limit },
      },
    );
  }
}

/** 413 `media_quota_exceeded`: keeping the upload would take the user past their storage quota. */
export class MediaQuotaExceededError extends AppError {
  constructor(usedBytes: number, quotaBytes: number, uploadBytes?: number) {
    super(
      413,
      'media_quota_exceeded',
      `Your uploads already take ${formatBytes(usedBytes)} of your ${formatBytes(quotaBytes)} quota${uploadBytes === undefined ? '' : `, and this file is ${formatBytes(uploadBytes)}`}. Delete media you no longer need (DELETE /api/v1/media/:id); unused uploads are also deleted after a day.`,
      { details: { usedBytes, quotaBytes, ...(uploadBytes !== undefined && { uploadBytes }) } },
    );
  }
}

/** 415 `unsupported_media_type`: the content is none of the formats X accepts. */
export class UnsupportedMediaError extends AppError {
  constructor(message = 'The file is not a JPEG, PNG, WEBP or GIF image, nor an MP4, MOV or WebM video.') {
    super(415, 'unsupported_media_type', message);
  }
}
