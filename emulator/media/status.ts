import type { EmuMedia } from '../state.ts';
import { type ProcessingStatus, processingAt } from './rules.ts';

/** X's `processing_info.error` for a file that is not what its type says (v1.1 shape, kept by v2). */
const INVALID_MEDIA_ERROR = {
  code: 1,
  name: 'InvalidMedia',
  message: 'Invalid or Unsupported media, Reason: UnsupportedMedia.',
};

/**
 * Where an upload stands at emulator time `now`, and `media.state` brought up to date. Not finalized:
 * `initialized`. Images and subtitles: done at finalize. GIFs and videos: pending, then in progress,
 * then succeeded (or failed when the content did not match the declared type).
 */
export function mediaStatus(
  media: EmuMedia,
  now: number,
): ProcessingStatus | { state: 'initialized'; progressPercent: 0 } {
  if (media.finalizedAt === null) return { state: 'initialized', progressPercent: 0 };
  const status: ProcessingStatus =
    media.kind === 'gif' || media.kind === 'video'
      ? processingAt(now - media.finalizedAt, media.processingMs, media.contentOk === true)
      : { state: media.contentOk === true ? 'succeeded' : 'failed', progressPercent: 100 };
  media.state = status.state;
  if (status.state === 'failed') media.error = INVALID_MEDIA_ERROR.message;
  return status;
}

/**
 * `data` of X's upload answers (finalize, STATUS, one-shot, initialize): id, media_key, size once
 * known, seconds until the id expires, and `processing_info` for GIFs and videos (and for a failed
 * upload of any kind). Images that are ready carry none: "no processing_info means ready".
 */
export function uploadData(media: EmuMedia, now: number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: media.id,
    media_key: media.mediaKey,
  };
  if (media.finalizedAt !== null) data.size = media.size;
  data.expires_after_secs = Math.max(0, Math.floor((media.expiresAt - now) / 1000));
  const status = mediaStatus(media, now);
  if (status.state === 'initialized') return data;
  const processed = media.kind === 'gif' || media.kind === 'video';
  if (processed || status.state === 'failed') {
    const info: Record<string, unknown> = { state: status.state, progress_percent: status.progressPercent };
    if (status.checkAfterSecs !== undefined) info.check_after_secs = status.checkAfterSecs;
    if (status.state === 'failed') info.error = INVALID_MEDIA_ERROR;
    data.processing_info = info;
  }
  return data;
}
