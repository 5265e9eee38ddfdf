/** `xgate login`: device-code sign-in of the command line, which ends with an API key of its own. */
import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { purgeCliLogins } from './cli-login.repository.ts';

export { cliLoginRoutes } from './cli-login.routes.ts';

/** Worker loop: forgets command-line logins a day after they expired. */
export const cliLoginPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'cli-logins-purge',
  idleMs: 10 * 60_000,
  runOnce: () => purgeCliLogins(deps.db, deps.clock.now() - 86_400_000),
});
