import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { purgeExpiredIdempotencyKeys } from './idempotency.repository.ts';

/** How often the purge looks for expired keys when the last round found none. */
const PURGE_IDLE_MS = 5 * 60_000;

/**
 * Worker loop that deletes Idempotency-Keys past their TTL (`XGATE_IDEMPOTENCY_TTL_HOURS`), in batches so
 * no single delete holds the database for long. Any number of workers may run it: deletes do not conflict.
 */
export const idempotencyPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'idempotency-purge',
  idleMs: PURGE_IDLE_MS,
  runOnce: () => purgeExpiredIdempotencyKeys(deps.db, deps.clock.now()),
});
