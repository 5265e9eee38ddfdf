import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { isUniqueViolation } from '../db/index.ts';
import type { Database } from '../db/schema.ts';
import { NotFoundError, ServiceUnavailableError } from '../errors/index.ts';
import { appendEvents, type NewEvent } from '../events/index.ts';
import { cancelScheduledPostsOfAccount } from '../posts/posts.repository.ts';
import { createUser } from '../users/users.repository.ts';
import { type XClient, XError, type XTokenSet, type XUser } from '../x/index.ts';
import { AccountRefreshFailedError, AccountUnusableError } from './accounts.errors.ts';
import {
  type Account,
  findAccountOfUser,
  findAccountRow,
  listAccountsOfUser,
  markDisconnected,
  recordAccountEvent,
  storeConnectedAccount,
  toAccount,
  updateProfile,
} from './accounts.repository.ts';
import type { AccountCaller } from './as-account.ts';
import type { TokenSealer } from './sealing.ts';

/** Scopes xgate cannot work without, and what each is for (used in `status_reason`). */
export const requiredScopes: Readonly<Record<string, string>> = {
  'tweet.read': 'read tweets',
  'tweet.write': 'publish tweets',
  'users.read': 'read the profile',
  'media.write': 'upload images and videos',
  'offline.access': 'stay connected for more than two hours',
};

/** The `status_reason` for a grant missing required scopes, or null when nothing is missing. */
export function missingScopesReason(granted: readonly string[]): string | null {
  const missing = Object.keys(requiredScopes).filter((scope) => !granted.includes(scope));
  if (missing.length === 0) return null;
  const list = missing.map((scope) => `"${scope}" (${requiredScopes[scope]})`).join(', ');
  return `X did not grant ${list}. Reconnect the account and allow every requested permission; if X does not ask for them, enable them for the app ("Read and write" access) in the X developer portal.`;
}

export interface AccountsServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  x: XClient;
  sealer: TokenSealer;
  accountCaller: AccountCaller;
}

/** What the sign-in callback hands over once X has answered. */
export interface ConnectInput {
  /** The signed-in user when adding an account (`?connect=1`); null for a plain sign-in. */
  userId: string | null;
  profile: XUser;
  tokens: XTokenSet;
}

/** Accounts: connect (sign-in), list, verify, disconnect. Tokens stay inside; answers never carry them. */
export interface AccountsService {
  /**
   * Stores the account after a successful authorization and answers which user to sign in.
   * A plain sign-in maps the X account to its user through `accounts.x_user_id` (the oldest row wins when
   * several users connected the same X account); an unknown X account creates a new user.
   * Reconnecting an account updates it in place (tokens, profile, scopes, status); a grant without a refresh
   * token never erases a stored one. A grant missing a required scope is stored as `needs_reconnect`.
   */
  connect(input: ConnectInput): Promise<{ userId: string; account: Account }>;
  listForUser(userId: string): Promise<Account[]>;
  /** "Test connection" (CONTRACT §3 verify): refresh if due, `GET /2/users/me`, store the profile. */
  verify(userId: string, accountId: string): Promise<Account>;
  /** Revokes at X, erases the tokens, marks it `disconnected`, cancels its scheduled posts. */
  disconnect(userId: string, accountId: string): Promise<void>;
}

/** Builds the accounts service. */
export function createAccountsService(deps: AccountsServiceDeps): AccountsService {
  const { db, clock, log, x, sealer, accountCaller } = deps;

  async function userFor(xUserId: string): Promise<string | null> {
    const row = await db
      .selectFrom('accounts')
      .select('user_id')
      .where('x_user_id', '=', xUserId)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
    return row?.user_id ?? null;
  }

  async function upsert(userId: string, profile: XUser, tokens: XTokenSet): Promise<Account> {
    const now = clock.now();
    const reason = missingScopesReason(tokens.scopes);
    const existing = await db
      .selectFrom('accounts')
      .select('id')
      .where('user_id', '=', userId)
      .where('x_user_id', '=', profile.id)
      .executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    const values = {
      username: profile.username,
      name: profile.name,
      profile_image_url: profile.profileImageUrl,
      subscription_type: profile.subscriptionType,
      status: reason === null ? ('active' as const) : ('needs_reconnect' as const),
      status_reason: reason,
      scopes: tokens.scopes.join(' '),
      access_token_sealed: sealer.seal(id, 'access', tokens.accessToken),
      token_expires_at: tokens.expiresAt,
      last_refreshed_at: now,
      refresh_lease_owner: null,
      refresh_lease_until: null,
      refresh_failures: 0,
      next_refresh_at: null,
      updated_at: now,
    };
    const refresh =
      tokens.refreshToken === null
        ? {}
        : { refresh_token_sealed: sealer.seal(id, 'refresh', tokens.refreshToken) };
    const events: NewEvent[] = [
      { type: 'account.connected', userId, at: now, data: { accountId: id, username: profile.username } },
    ];
    if (reason !== null) {
      events.push({
        type: 'account.needs_reconnect',
        userId,
        at: now,
        data: { accountId: id, username: profile.username, reason },
      });
    }
    try {
      await db.transaction().execute(async (trx) => {
        await storeConnectedAccount(trx, {
          id,
          isNew: !existing,
          userId,
          xUserId: profile.id,
          now,
          fields: { ...values, ...refresh },
        });
        await recordAccountEvent(trx, id, existing ? 'reconnected' : 'connected', reason, now);
        if (reason !== null) await recordAccountEvent(trx, id, 'needs_reconnect', reason, now);
        await appendEvents(trx, events);
      });
    } catch (error) {
      // The same authorization completed twice at once: the other one inserted; update it instead.
      if (!existing && isUniqueViolation(error)) return upsert(userId, profile, tokens);
      throw error;
    }
    const row = await findAccountRow(db, id);
    if (!row) throw new Error(`account ${id} vanished right after it was stored`);
    return toAccount(row);
  }

  async function requireAccount(userId: string, accountId: string): Promise<Account> {
    const account = await findAccountOfUser(db, userId, accountId);
    if (!account) throw new NotFoundError('account', 'account_not_found');
    return account;
  }

  async function revokeAtX(accountId: string): Promise<void> {
    const row = await findAccountRow(db, accountId);
    if (!row) return;
    const tokens: ['refresh_token' | 'access_token', string | null][] = [
      ['refresh_token', row.refresh_token_sealed],
      ['access_token', row.access_token_sealed],
    ];
    for (const [hint, sealed] of tokens) {
      if (sealed === null) continue;
      let token: string;
      try {
        token = sealer.unseal(row.id, hint === 'refresh_token' ? 'refresh' : 'access', sealed);
      } catch {
        continue;
      }
      try {
        await x.revoke(token, hint, { xUserId: row.x_user_id });
      } catch (error) {
        // A token X no longer knows is as good as revoked; anything else means X could not be told.
        if (error instanceof XError && error.failureClass === 'terminal') continue;
        log.warn({ accountId, code: (error as { code?: string }).code }, 'could not revoke a token at X');
        throw new ServiceUnavailableError(
          'X could not be reached to revoke the account’s access; nothing was changed. Try again in a moment.',
          'x_unavailable',
        );
      }
    }
  }

  return {
    async connect({ userId, profile, tokens }) {
      let owner = userId ?? (await userFor(profile.id));
      if (owner === null) owner = (await createUser(db, clock.now())).id;
      const account = await upsert(owner, profile, tokens);
      log.info({ accountId: account.id, xUserId: profile.id, status: account.status }, 'X account connected');
      return { userId: owner, account };
    },

    listForUser: (userId) => listAccountsOfUser(db, userId),

    async verify(userId, accountId) {
      const account = await requireAccount(userId, accountId);
      if (account.status === 'disconnected') throw new AccountUnusableError(accountId, 'disconnected', null);
      if (account.status === 'needs_reconnect') return account;
      let profile: XUser;
      try {
        profile = await accountCaller.call({ id: accountId, xUserId: account.xUserId }, (api) => api.getMe());
      } catch (error) {
        if (error instanceof AccountUnusableError) return requireAccount(userId, accountId);
        if (error instanceof AccountRefreshFailedError) throw error;
        if (error instanceof XError) {
          throw new ServiceUnavailableError(
            `X could not be asked about the account for now (${error.code}).`,
            'x_unavailable',
          );
        }
        throw error;
      }
      const now = clock.now();
      await updateProfile(db, accountId, profile, now);
      await recordAccountEvent(db, accountId, 'verified', null, now);
      return requireAccount(userId, accountId);
    },

    async disconnect(userId, accountId) {
      const account = await requireAccount(userId, accountId);
      if (account.status === 'disconnected') return;
      await revokeAtX(accountId);
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        await markDisconnected(trx, accountId, now);
        await cancelScheduledPostsOfAccount(trx, accountId, now);
        await recordAccountEvent(trx, accountId, 'disconnected', null, now);
        await appendEvents(trx, [
          {
            type: 'account.disconnected',
            userId: account.userId,
            at: now,
            data: { accountId, username: account.username },
          },
        ]);
      });
      log.info({ accountId }, 'X account disconnected');
    },
  };
}
