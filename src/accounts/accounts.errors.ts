import { AppError } from '../errors/index.ts';
import type { XError } from '../x/index.ts';

/** 409: the account cannot be used until its owner acts: `account_needs_reconnect` or `account_disconnected`. */
export class AccountUnusableError extends AppError {
  constructor(
    readonly accountId: string,
    readonly accountStatus: 'needs_reconnect' | 'disconnected',
    reason: string | null,
  ) {
    super(
      409,
      accountStatus === 'needs_reconnect' ? 'account_needs_reconnect' : 'account_disconnected',
      accountStatus === 'needs_reconnect'
        ? `The X account needs to be reconnected: ${reason ?? 'X no longer accepts its tokens.'}`
        : 'The X account was disconnected; connect it again to use it.',
      { details: { accountId } },
    );
  }
}

/**
 * 503: the token could not be refreshed for now (X unreachable, 5xx, 429, or another process's refresh did not
 * finish in time). The account stays `active`; try again after `retryAfterMs` when set. `cause` is the `XError`.
 */
export class AccountRefreshFailedError extends AppError {
  readonly retryAfterMs?: number;
  constructor(accountId: string, message: string, cause?: XError) {
    super(503, 'account_refresh_failed', message, { details: { accountId }, cause });
    this.retryAfterMs = cause?.retryAfterMs;
  }
}
