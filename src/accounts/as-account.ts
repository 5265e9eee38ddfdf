import { XError, type XUserApi } from '../x/index.ts';
import { AccountUnusableError } from './accounts.errors.ts';

/** Where an account's access tokens come from (the token vault, or a short-lived cache in front of it). */
export interface AccessTokens {
  /**
   * A usable access token, refreshed first when it is about to expire. Throws `AccountUnusableError` when the
   * account cannot be used until its owner acts; any other error is taken as temporary.
   */
  getAccessToken(accountId: string): Promise<string>;
  /** After X answered 401 to a token that looked valid: refresh now and return the new token (same errors). */
  forceRefresh(accountId: string): Promise<string>;
  /** X refused the account's fresh token too: mark it `needs_reconnect` with a reason a person understands. */
  markNeedsReconnect(accountId: string, reason: string): Promise<void>;
}

/** Why an account needs reconnecting after X refused even a freshly refreshed token. */
export const REVOKED_AT_X_REASON =
  'X refused the account’s access token even right after a refresh (401 Unauthorized): the access was revoked at X. Reconnect the account to continue.';

/**
 * One account's side of calls to X, for a caller that handles X's answers itself (the publisher): `api()` gives
 * the user-context API with a valid token; after a 401, `unauthorized()` decides what it means.
 */
export interface AccountSession {
  api(): Promise<XUserApi>;
  /**
   * After X answered 401: the first time, the token is refreshed and the call may be made again (`again`);
   * the second time the access was revoked at X, the account is now `needs_reconnect` (`reconnect`). A refresh
   * that fails throws like `getAccessToken`.
   */
  unauthorized(error: XError): Promise<'again' | 'reconnect'>;
}

/**
 * The one policy for calling X as a user's account: a token from the vault (refreshed just in time); after a
 * 401 refresh once and try again; a second 401 means the access was revoked at X, so the account becomes
 * `needs_reconnect` with the reason. The publisher, "test connection" and deleting tweets all go through it.
 */
export interface AccountCaller {
  session(account: { id: string; xUserId: string }): AccountSession;
  /** Runs `work` with the account's API under the policy; throws `AccountUnusableError` when it must be reconnected. */
  call<T>(account: { id: string; xUserId: string }, work: (api: XUserApi) => Promise<T>): Promise<T>;
}

export function createAccountCaller(deps: {
  tokens: AccessTokens;
  forToken: (accessToken: string, context: { xUserId: string }) => XUserApi;
}): AccountCaller {
  const { tokens, forToken } = deps;
  const session = (account: { id: string; xUserId: string }): AccountSession => {
    let api: XUserApi | null = null;
    let refreshed = false;
    return {
      async api() {
        api ??= forToken(await tokens.getAccessToken(account.id), { xUserId: account.xUserId });
        return api;
      },
      async unauthorized() {
        if (!refreshed) {
          refreshed = true;
          api = forToken(await tokens.forceRefresh(account.id), { xUserId: account.xUserId });
          return 'again';
        }
        await tokens.markNeedsReconnect(account.id, REVOKED_AT_X_REASON);
        return 'reconnect';
      },
    };
  };
  return {
    session,
    async call(account, work) {
      const current = session(account);
      for (;;) {
        try {
          return await work(await current.api());
        } catch (error) {
          if (!isUnauthorized(error)) throw error;
          if ((await current.unauthorized(error)) === 'reconnect') {
            throw new AccountUnusableError(account.id, 'needs_reconnect', REVOKED_AT_X_REASON);
          }
        }
      }
    },
  };
}

function isUnauthorized(error: unknown): error is XError {
  return error instanceof XError && error.failureClass === 'auth';
}
