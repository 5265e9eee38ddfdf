import type { RouteModule } from '../http/types.ts';
import { installIdempotency } from './idempotency.hooks.ts';

export {
  IdempotencyKeyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyResourceGoneError,
  InvalidIdempotencyKeyError,
} from './idempotency.errors.ts';
export type { IdempotencyContext, IdempotencyRouteOptions } from './idempotency.hooks.ts';
export { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './idempotency.key.ts';
export { idempotencyPurgeLoop } from './idempotency.purge.ts';
export { forgetAllIdempotencyKeys } from './idempotency.repository.ts';

/**
 * Idempotency-Key handling for every `POST /api/v1/…` route registered after this module (list it first
 * in `src/modules.ts`). A route that creates a resource opts into in-transaction recording with
 * `config: { idempotency: { answerFor } }` and calls `request.idempotency?.record(trx, id)` in its create
 * transaction; see `idempotency.hooks.ts` for the design.
 */
export const idempotencyModule: RouteModule = (app, deps) =>
  installIdempotency(app, {
    db: deps.db,
    clock: deps.clock,
    log: deps.log,
    ttlMs: deps.config.idempotencyTtlHours * 3600_000,
    secretKey: deps.config.secretKey,
  });
