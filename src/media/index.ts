import type { AppDeps } from '../deps.ts';
import type { RouteModule } from '../http/types.ts';
import { mediaRoutes } from './media.routes.ts';
import { MediaService } from './media.service.ts';
import { MediaStorage } from './media.storage.ts';

export { getMediaByIds, type Media, toMedia } from './media.repository.ts';
export { mediaView } from './media.routes.ts';
export { type CreateOptions, MAX_ALT_TEXT_LENGTH, MediaService } from './media.service.ts';
export { MediaStorage, type ReceivedFile } from './media.storage.ts';
export { GifFrameCounter, type MediaLimits, sniffMedia } from './sniff.ts';

/** Where media files live and how big they may be, from the config. */
export function createMediaStorage(config: AppDeps['config']): MediaStorage {
  return new MediaStorage(config.dataDir, {
    image: config.maxImageBytes,
    gif: config.maxGifBytes,
    video: config.maxVideoBytes,
  });
}

/** Builds the media service from the app's dependencies. */
export function createMediaService(deps: AppDeps): MediaService {
  return new MediaService({ db: deps.db, clock: deps.clock, storage: createMediaStorage(deps.config) });
}

/** The media route module for `src/modules.ts`. */
export const mediaModule: RouteModule = (app, deps) => {
  const storage = createMediaStorage(deps.config);
  const service = new MediaService({ db: deps.db, clock: deps.clock, storage });
  return mediaRoutes(service, storage.largestLimit)(app, deps);
};
