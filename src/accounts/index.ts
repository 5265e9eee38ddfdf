/** Accounts: sign in with X, the token vault, the refresher and the account routes. What other folders may use. */
import type { Config } from '../config/index.ts';
import type { RouteModule } from '../http/types.ts';
import type { WorkerLoopFactory } from '../worker.ts';
import { accountRoutes } from './accounts.routes.ts';
import { createRefresher } from './refresher.ts';
import { signInRoutes } from './signin.routes.ts';

export { AccountRefreshFailedError, AccountUnusableError } from './accounts.errors.ts';
export {
  type Account,
  forgetAllTokens,
  listAccountsOfUser,
  storedTokensOpen,
  toAccount,
} from './accounts.repository.ts';
export { type AccountView, accountSchema, toAccountView } from './accounts.routes.ts';
export { type AccountsService, createAccountsService, missingScopesReason } from './accounts.service.ts';
export {
  type AccessTokens,
  type AccountCaller,
  type AccountSession,
  createAccountCaller,
  REVOKED_AT_X_REASON,
} from './as-account.ts';
export { createRefresher, type RefresherOptions } from './refresher.ts';
export { createTokenSealer, type TokenSealer, TokenUnsealError } from './sealing.ts';
export { OAUTH_COOKIE } from './signin.routes.ts';
export { createTokenVault, type RefreshOutcome, type TokenVault, type VaultOptions } from './vault.ts';

/** The vault's timing derived from the config: margin, and a lease comfortably longer than one X call. */
export function vaultTiming(config: Config): { marginMs: number; leaseMs: number } {
  return { marginMs: config.refreshMarginSeconds * 1000, leaseMs: Math.max(60_000, 2 * config.xTimeoutMs) };
}

/** `/auth/x/login`, `/auth/x/callback` and `/api/v1/accounts…`. */
export const accountsRoutes: RouteModule = (app, deps) => {
  signInRoutes(app, deps, deps.accounts);
  accountRoutes(app, deps.accounts);
};

/** The refresher worker loop (see `refresher.ts`). */
export const refresherLoop: WorkerLoopFactory = (deps) =>
  createRefresher({
    db: deps.db,
    clock: deps.clock,
    log: deps.log,
    vault: deps.vault,
    marginMs: vaultTiming(deps.config).marginMs,
    concurrency: deps.config.refreshConcurrency,
  });
