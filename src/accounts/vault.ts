import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { type XClient, XError } from '../x/index.ts';
import { AccountRefreshFailedError, AccountUnusableError } from './accounts.errors.ts';
import {
  type AccountRow,
  findAccountRow,
  markNeedsReconnect,
  recordAccountEvent,
} from './accounts.repository.ts';
import { type TokenSealer, TokenUnsealError } from './sealing.ts';

/** Why an account whose stored tokens do not open needs reconnecting. */
const UNREADABLE_TOKENS_REASON =
  'The stored tokens cannot be opened with the current XGATE_SECRET_KEY (was the key changed?). Reconnect the account.';

/** Dependencies and knobs of the token vault. */
export interface VaultOptions {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  x: Pick<XClient, 'refresh'>;
  sealer: TokenSealer;
  /** Refresh when the access token expires within this many ms (default 5 minutes). */
  marginMs?: number;
  /** How long a refresh lease is held before others may take it over, in ms (default 60 s; must exceed the X timeout). */
  leaseMs?: number;
  /** How often a caller waiting on another process's refresh re-reads the row, in ms (default 50). */
  pollMs?: number;
  /** Backoff after a failed refresh: `baseMs · 2^(failures−1)`, capped at `maxMs`, with ±50 % jitter. */
  backoff?: { baseMs: number; maxMs: number };
  /** Identifies this process in `refresh_lease_owner` (default host:pid:random). */
  owner?: string;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** What `refreshIfNeeded` did. */
export type RefreshOutcome = 'refreshed' | 'not_needed' | 'busy';

/** When a stored token is good enough. */
interface Need {
  /** The access token must stay valid until at least this epoch ms. */
  validUntil: number;
  /** The last refresh must be at or after this epoch ms (forced refreshes, keep-alive). */
  refreshedAfter?: number;
}

interface Result {
  outcome: RefreshOutcome;
  accessToken?: string;
}

/**
 * The token vault: the only holder of account tokens. Tokens are sealed at rest (`sealing.ts`), never logged
 * and never returned by the HTTP API.
 *
 * Refresh is single-flight across processes: a row lease (`refresh_lease_owner`, `refresh_lease_until`) is
 * taken with a compare-and-set UPDATE; the row is re-read after taking it (another process may have refreshed);
 * X is called; the new pair is persisted first, in the one UPDATE that also releases the lease. Within one
 * process, concurrent callers for one account share one in-flight promise. A lease left behind (the process
 * died, or X's answer was lost) keeps its owner after expiry; the next refresh uses the stored refresh token
 * and, if X rejects it, the account becomes `needs_reconnect` with a reason that says a refresh was interrupted.
 */
export interface TokenVault {
  /**
   * A valid access token for the account, refreshed just in time when it expires within the margin.
   * Throws `AccountUnusableError` (409 `account_needs_reconnect` / `account_disconnected`) or
   * `AccountRefreshFailedError` (503 `account_refresh_failed`, retry later).
   */
  getAccessToken(accountId: string): Promise<string>;
  /** Refreshes now, whatever the expiry (joins a refresh already in flight), and returns the new access token. */
  forceRefresh(accountId: string): Promise<string>;
  /**
   * For the refresher: refreshes when the token is not valid until `validUntil` or was last refreshed before
   * `refreshedAfter`; answers `busy` without waiting when another process holds the lease.
   */
  refreshIfNeeded(accountId: string, need: Need): Promise<RefreshOutcome>;
  /** Marks the account `needs_reconnect` (e.g. X still answers 401 after a refresh), with an event and a log line. */
  markNeedsReconnect(accountId: string, reason: string): Promise<void>;
}

/** Builds the vault. One per process; `owner` tells its leases apart from other processes'. */
export function createTokenVault(options: VaultOptions): TokenVault {
  const { db, clock, log, x, sealer } = options;
  const marginMs = options.marginMs ?? 5 * 60_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 50;
  const backoff = options.backoff ?? { baseMs: 30_000, maxMs: 60 * 60_000 };
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const inflight = new Map<string, Promise<Result>>();

  const satisfied = (row: AccountRow, need: Need) =>
    row.access_token_sealed !== null &&
    (row.token_expires_at ?? 0) >= need.validUntil &&
    (need.refreshedAfter === undefined || (row.last_refreshed_at ?? row.created_at) >= need.refreshedAfter);

  async function readUsable(accountId: string): Promise<AccountRow> {
    const row = await findAccountRow(db, accountId);
    if (!row) throw new AccountUnusableError(accountId, 'disconnected', null);
    if (row.status !== 'active') throw new AccountUnusableError(accountId, row.status, row.status_reason);
    return row;
  }

  function open(row: AccountRow, kind: 'access' | 'refresh'): string {
    const sealed = kind === 'access' ? row.access_token_sealed : row.refresh_token_sealed;
    if (sealed === null) throw new TokenUnsealError(row.id);
    return sealer.unseal(row.id, kind, sealed);
  }

  async function giveUp(row: AccountRow, reason: string, detail: Record<string, unknown>): Promise<never> {
    await markNeedsReconnect(db, row.id, reason, clock.now());
    log.warn({ accountId: row.id, xUserId: row.x_user_id, ...detail }, 'account needs reconnecting');
    throw new AccountUnusableError(row.id, 'needs_reconnect', reason);
  }

  /** Compare-and-set on the lease columns: succeeds only if nobody changed them since `row` was read. */
  async function takeLease(row: AccountRow, now: number): Promise<boolean> {
    const result = await db
      .updateTable('accounts')
      .set({ refresh_lease_owner: owner, refresh_lease_until: now + leaseMs })
      .where('id', '=', row.id)
      .where('status', '=', 'active')
      .where((eb) =>
        row.refresh_lease_owner === null
          ? eb('refresh_lease_owner', 'is', null)
          : eb('refresh_lease_owner', '=', row.refresh_lease_owner),
      )
      .where((eb) =>
        row.refresh_lease_until === null
          ? eb('refresh_lease_until', 'is', null)
          : eb('refresh_lease_until', '=', row.refresh_lease_until),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async function releaseLease(accountId: string): Promise<void> {
    await db
      .updateTable('accounts')
      .set({ refresh_lease_owner: null, refresh_lease_until: null })
      .where('id', '=', accountId)
      .where('refresh_lease_owner', '=', owner)
      .execute();
  }

  /** Holding the lease on `row` (re-read after taking it): calls X and persists the outcome. */
  async function refreshHoldingLease(row: AccountRow, interrupted: boolean): Promise<Result> {
    let refreshToken: string;
    try {
      refreshToken = open(row, 'refresh');
    } catch (error) {
      if (!(error instanceof TokenUnsealError)) throw error;
      return giveUp(row, UNREADABLE_TOKENS_REASON, { code: error.code });
    }
    let tokens: Awaited<ReturnType<XClient['refresh']>>;
    try {
      tokens = await x.refresh(refreshToken, { xUserId: row.x_user_id });
    } catch (error) {
      if (!(error instanceof XError)) {
        await releaseLease(row.id);
        throw error;
      }
      return handleRefreshFailure(row, error, interrupted);
    }
    const now = clock.now();
    // Persist first: between X's answer and this UPDATE is the one window in which a rotated token can be lost.
    const saved = await db
      .updateTable('accounts')
      .set({
        access_token_sealed: sealer.seal(row.id, 'access', tokens.accessToken),
        // X always rotates; should it ever omit the refresh token, the stored one is kept rather than erased.
        ...(tokens.refreshToken !== null && {
          refresh_token_sealed: sealer.seal(row.id, 'refresh', tokens.refreshToken),
        }),
        token_expires_at: tokens.expiresAt,
        scopes: tokens.scopes.join(' '),
        last_refreshed_at: now,
        refresh_failures: 0,
        next_refresh_at: null,
        refresh_lease_owner: null,
        refresh_lease_until: null,
        status: 'active',
        status_reason: null,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .where('status', '<>', 'disconnected')
      .executeTakeFirst();
    if (Number(saved.numUpdatedRows) === 0) {
      log.info(
        { accountId: row.id },
        'account was disconnected during a refresh; the new tokens were not stored',
      );
      throw new AccountUnusableError(row.id, 'disconnected', null);
    }
    await recordAccountEvent(db, row.id, 'refreshed', null, now);
    return { outcome: 'refreshed', accessToken: tokens.accessToken };
  }

  async function handleRefreshFailure(row: AccountRow, error: XError, interrupted: boolean): Promise<Result> {
    const now = clock.now();
    if (error.failureClass === 'terminal') {
      // A newer pair saved meanwhile (our lease had run out and another process refreshed) is not a failure.
      const current = await findAccountRow(db, row.id);
      if (current?.status === 'active' && current.refresh_token_sealed !== row.refresh_token_sealed) {
        await releaseLease(row.id);
        return { outcome: 'refreshed', accessToken: open(current, 'access') };
      }
      const said = error.errorDescription ?? error.detail ?? error.error ?? error.code;
      const reason = interrupted
        ? `A token refresh was interrupted before its result could be saved, and X no longer accepts the stored refresh token (X said: "${said}"). Reconnect the account to continue.`
        : `X refused to refresh the access (X said: "${said}"): it was revoked at X or has expired. Reconnect the account to continue.`;
      return giveUp(row, reason, { code: error.code, status: error.status, interrupted });
    }
    const failures = row.refresh_failures + 1;
    const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (failures - 1)) * (0.5 + random());
    const nextAt = now + Math.round(Math.max(delay, error.retryAfterMs ?? 0));
    // After an ambiguous failure X may have rotated the token: the lease keeps an owner (but expires now) so the
    // next attempt knows a refresh was interrupted if the stored refresh token turns out to be spent.
    const ambiguous = error.failureClass === 'ambiguous';
    await db
      .updateTable('accounts')
      .set({
        refresh_failures: failures,
        next_refresh_at: nextAt,
        refresh_lease_owner: ambiguous ? `interrupted:${owner}` : null,
        refresh_lease_until: ambiguous ? now : null,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .where('refresh_lease_owner', '=', owner)
      .execute();
    await recordAccountEvent(db, row.id, 'refresh_failed', `${error.code}: ${error.message}`, now);
    const level = error.failureClass === 'auth' ? 'error' : 'warn';
    log[level](
      { accountId: row.id, code: error.code, status: error.status, failures },
      'token refresh failed',
    );
    throw new AccountRefreshFailedError(
      row.id,
      `The X token could not be refreshed for now (${error.code}).`,
      error,
    );
  }

  /** The cross-process protocol. `wait`: poll while another process holds the lease (else answer `busy`). */
  async function refresh(accountId: string, need: Need, wait: boolean): Promise<Result> {
    const deadline = clock.now() + 2 * leaseMs;
    for (;;) {
      const row = await readUsable(accountId);
      if (satisfied(row, need)) return { outcome: 'not_needed', accessToken: open(row, 'access') };
      if (row.refresh_token_sealed === null) {
        return giveUp(
          row,
          'X gave no refresh token (the "offline.access" permission is missing), so the access ended when the token expired. Reconnect the account and allow all requested permissions.',
          { code: 'no_refresh_token' },
        );
      }
      const now = clock.now();
      const leaseFree = row.refresh_lease_until === null || row.refresh_lease_until <= now;
      if (leaseFree && (await takeLease(row, now))) {
        const interrupted = row.refresh_lease_owner !== null;
        // Re-read: between our read and the lease another process may have refreshed and released.
        const fresh = await findAccountRow(db, accountId);
        if (fresh?.status !== 'active') {
          await releaseLease(accountId);
          return refresh(accountId, need, wait);
        }
        if (satisfied(fresh, need)) {
          await releaseLease(accountId);
          return { outcome: 'not_needed', accessToken: open(fresh, 'access') };
        }
        return refreshHoldingLease(fresh, interrupted);
      }
      if (leaseFree) continue;
      if (!wait) return { outcome: 'busy' };
      if (clock.now() > deadline) {
        throw new AccountRefreshFailedError(
          accountId,
          'Another refresh of this account did not finish in time.',
        );
      }
      await sleep(pollMs);
    }
  }

  /** In-process single flight: concurrent callers for one account share one attempt. */
  function shared(accountId: string, run: () => Promise<Result>): Promise<Result> {
    const existing = inflight.get(accountId);
    if (existing) return existing;
    const attempt = run().finally(() => inflight.delete(accountId));
    inflight.set(accountId, attempt);
    return attempt;
  }

  async function tokenFrom(result: Result, accountId: string, need: Need): Promise<string> {
    if (result.accessToken !== undefined) return result.accessToken;
    // The shared attempt was the refresher's and another process held the lease: wait for it ourselves.
    const own = await refresh(accountId, need, true);
    if (own.accessToken === undefined)
      throw new AccountRefreshFailedError(accountId, 'The token is not available.');
    return own.accessToken;
  }

  /** getAccessToken without the unreadable-token handling. */
  async function accessToken(accountId: string): Promise<string> {
    const row = await readUsable(accountId);
    const now = clock.now();
    const need = { validUntil: now + marginMs };
    if (satisfied(row, need)) return open(row, 'access');
    const stillValid = row.access_token_sealed !== null && (row.token_expires_at ?? 0) > now + 10_000;
    // Backing off after a failure: keep using the current token while it lasts.
    if (stillValid && row.next_refresh_at !== null && row.next_refresh_at > now) return open(row, 'access');
    try {
      return await tokenFrom(await shared(accountId, () => refresh(accountId, need, true)), accountId, need);
    } catch (error) {
      if (error instanceof AccountRefreshFailedError && stillValid) return open(row, 'access');
      throw error;
    }
  }

  /** A token that does not open (another key, tampering) makes the account `needs_reconnect`, never a 500. */
  async function unsealing(accountId: string, run: () => Promise<string>): Promise<string> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof TokenUnsealError)) throw error;
      const row = await findAccountRow(db, accountId);
      if (row?.status !== 'active') throw error;
      return giveUp(row, UNREADABLE_TOKENS_REASON, { code: error.code });
    }
  }

  return {
    getAccessToken: (accountId) => unsealing(accountId, () => accessToken(accountId)),
    forceRefresh: (accountId) =>
      unsealing(accountId, async () => {
        const need = { validUntil: 0, refreshedAfter: clock.now() };
        return tokenFrom(await shared(accountId, () => refresh(accountId, need, true)), accountId, need);
      }),

    async refreshIfNeeded(accountId, need) {
      if (inflight.has(accountId)) return 'busy';
      return (await shared(accountId, () => refresh(accountId, need, false))).outcome;
    },

    async markNeedsReconnect(accountId, reason) {
      const row = await findAccountRow(db, accountId);
      if (row?.status !== 'active') return;
      await markNeedsReconnect(db, accountId, reason, clock.now());
      log.warn({ accountId, xUserId: row.x_user_id }, 'account needs reconnecting');
    },
  };
}
