import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { purgeExpiredSessions } from './sessions.repository.ts';

/** Expired sessions are deleted this often (they are already refused; this only keeps the table small). */
const PURGE_IDLE_MS = 10 * 60_000;

/** Worker loop: deletes expired browser sessions. */
export const sessionsPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'sessions-purge',
  idleMs: PURGE_IDLE_MS,
  runOnce: () => purgeExpiredSessions(deps.db, deps.clock.now()),
});
