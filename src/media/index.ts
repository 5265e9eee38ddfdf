import type { AppDeps } from '../deps.ts';
import type { RouteModule } from '../http/types.ts';
import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { mediaRoutes } from './media.routes.ts';
import { MediaService } from './media.service.ts';
import { MediaStorage } from './media.storage.ts';

export { getMediaByIds, type Media, toMedia } from './media.repository.ts';
export { mediaView } from './media.routes.ts';
export { type CreateOptions, MAX_ALT_TEXT_LENGTH, MediaService } from './media.service.ts';
export { MediaStorage, type ReceivedFile } from './media.storage.ts';
export { GifFrameCounter, type MediaLimits, sniffMedia } from './sniff.ts';
export { createMediaUploader, MediaMissingError } from './x-upload.ts';

/** Where media files live and how big they may be, from the config. */
export function createMediaStorage(config: AppDeps['config']): MediaStorage {
  return new MediaStorage(config.dataDir, {
    image: config.maxImageBytes,
    gif: config.maxGifBytes,
    video: config.maxVideoBytes,
  });
}

/** Builds the media service from the app's dependencies. */
export function createMediaService(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config'>,
  storage = createMediaStorage(deps.config),
): MediaService {
  const { config } = deps;
  return new MediaService({
    db: deps.db,
    clock: deps.clock,
    storage,
    retention: {
      quotaBytes: config.mediaQuotaBytes,
      unusedTtlMs: config.mediaUnusedTtlHours * 3_600_000,
      finishedTtlMs: config.mediaRetentionDays * 86_400_000,
    },
  });
}

/** The media route module for `src/modules.ts`. */
export const mediaModule: RouteModule = (app, deps) =>
  mediaRoutes(deps.media, deps.mediaStorage.largestLimit)(app, deps);

/** Media purged in a round; when a round finds fewer, the loop rests. */
const PURGE_IDLE_MS = 10 * 60_000;

/** Worker loop: deletes media no post needs any more (XGATE_MEDIA_UNUSED_TTL_HOURS, XGATE_MEDIA_RETENTION_DAYS). */
export const mediaPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'media-purge',
  idleMs: PURGE_IDLE_MS,
  runOnce: () => deps.media.purge(),
});
