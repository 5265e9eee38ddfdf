import type { AppDeps } from '../deps.ts';
import type { WorkerLoop } from '../worker.ts';

export { deliveryRoutes } from './delivery.routes.ts';
export {
  createDispatcher,
  type Dispatcher,
  type DispatcherSettings,
  defaultDispatcherSettings,
} from './dispatcher.ts';
export { RateLimitBook, userScope } from './rate-limit-book.ts';
export { comparableText } from './reconcile.ts';

/** The dispatcher loop for `src/modules.ts`, with the config's settings. */
export function dispatcherLoop(deps: AppDeps): WorkerLoop {
  return deps.dispatcher();
}
