/** The event log (outbox): what happened, written in the same transaction as each change. */
import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { purgeEvents } from './events.repository.ts';

export {
  appendEvents,
  type LogPosition,
  listEvents,
  listLogEvents,
  pgEventArrays,
  pgEventBatch,
} from './events.repository.ts';
export { eventsRoutes } from './events.routes.ts';
export {
  type AccountEventData,
  EVENT_TYPES,
  type EventType,
  type NewEvent,
  type PostEventData,
  type StoredEvent,
  type WebhookEventData,
} from './events.types.ts';

/** Events deleted per round of the purge. */
const PURGE_BATCH = 1000;

/** Worker loop: deletes events older than XGATE_EVENTS_RETENTION_DAYS. */
export const eventsPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'events-purge',
  idleMs: 10 * 60_000,
  runOnce: () =>
    purgeEvents(deps.db, deps.clock.now() - deps.config.eventsRetentionDays * 86_400_000, PURGE_BATCH),
});
