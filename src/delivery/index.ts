import type { AppDeps } from '../deps.ts';
import { createMediaUploader } from '../media/x-upload.ts';
import type { WorkerLoop } from '../worker.ts';
import { createDeliveryMetrics } from './delivery.metrics.ts';
import { createDispatcher } from './dispatcher.ts';
import { RateLimitBook } from './rate-limit-book.ts';

export { deliveryRoutes } from './delivery.routes.ts';
export {
  createDispatcher,
  type Dispatcher,
  type DispatcherSettings,
  defaultDispatcherSettings,
} from './dispatcher.ts';
export { RateLimitBook, userScope } from './rate-limit-book.ts';
export { comparableText } from './reconcile.ts';

/**
 * The dispatcher loop for `src/modules.ts`: publishes due posts through the app's X client and token vault,
 * and keeps the budgets X reports (every X response of this process) in `rate_limits`.
 */
export function dispatcherLoop(deps: AppDeps): WorkerLoop {
  const rateLimits = new RateLimitBook(deps.db, deps.clock, deps.log);
  deps.xRateLimitListeners.add((info, context) => rateLimits.record(info, context));
  return createDispatcher({
    db: deps.db,
    dialect: deps.dialect,
    clock: deps.clock,
    log: deps.log.child({ loop: 'dispatcher' }),
    metrics: createDeliveryMetrics(deps.metrics),
    forToken: (token, context) => deps.x.forToken(token, context),
    tokens: deps.vault,
    uploadMedia: createMediaUploader({ db: deps.db, dataDir: deps.config.dataDir }),
    rateLimits,
    settings: {
      concurrency: deps.config.dispatchConcurrency,
      batchSize: Math.max(10, deps.config.dispatchConcurrency * 2),
      leaseMs: deps.config.dispatchLeaseMs,
      pollMs: deps.config.dispatchPollMs,
      settleMs: deps.config.publishSettleMs,
    },
  });
}
