import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AccountCaller } from './accounts/as-account.ts';
import type { TokenVault } from './accounts/vault.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config/index.ts';
import type { Database, DialectName } from './db/index.ts';
import type { TextWorkers } from './posts/text-workers.ts';
import type { Sessions } from './users/sessions.ts';
import type { OnRateLimit, XClient } from './x/index.ts';

/**
 * Everything a route module or worker loop may use, built once in `src/server.ts` (`buildDeps`).
 * To add a shared service (the X client, the token vault, media storage…): add a field here and build it
 * in `buildDeps`. Services used by one module only can be built inside that module from these.
 */
export interface AppDeps {
  /** The effective config: sandbox mode and tests have already pointed `xApiUrl`/`xAuthorizeUrl` at an emulator. */
  config: Config;
  db: Kysely<Database>;
  dialect: DialectName;
  clock: Clock;
  /** pino; redacts authorization headers, cookies, tokens, secrets and codes. */
  log: Logger;
  /** The app's own prom-client registry (no global default registry): register counters/histograms here. */
  metrics: Registry;
  /** Session cookie and short-lived sealed cookies (OAuth state). */
  sessions: Sessions;
  /** The X API client (OAuth with the app's credentials; `x.forToken(token)` for user-context calls). */
  x: XClient;
  /** Budget headers of every X response are passed to each listener here (e.g. the rate-limit book). */
  xRateLimitListeners: Set<OnRateLimit>;
  /** Measures and splits text in worker threads with a time limit (never on the event loop). */
  text: TextWorkers;
  /** Calls X as a user's account under the one 401 policy (refresh once, then needs_reconnect). */
  accountCaller: AccountCaller;
  /** The token vault: `getAccessToken(accountId)`, `forceRefresh`, `markNeedsReconnect` (src/accounts/vault.ts). */
  vault: TokenVault;
}
