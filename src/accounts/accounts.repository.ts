import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { batchedRowByKey } from '../db/batched.ts';
import type { AccountStatus, AccountsTable, Database } from '../db/schema.ts';
import { appendEvents, type NewEvent } from '../events/index.ts';

/** An X account as the rest of xgate sees it: never its tokens. */
export interface Account {
  id: string;
  userId: string;
  xUserId: string;
  username: string;
  name: string;
  profileImageUrl: string | null;
  subscriptionType: string | null;
  status: AccountStatus;
  /** Why the account is not `active`, in a sentence a person understands (what happened, how to fix it). */
  statusReason: string | null;
  scopes: string[];
  /** Epoch ms; null once disconnected. */
  tokenExpiresAt: number | null;
  lastRefreshedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type AccountRow = Selectable<AccountsTable>;

/** The one row → domain conversion. */
export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    userId: row.user_id,
    xUserId: row.x_user_id,
    username: row.username,
    name: row.name,
    profileImageUrl: row.profile_image_url,
    subscriptionType: row.subscription_type,
    status: row.status,
    statusReason: row.status_reason,
    scopes: row.scopes.split(' ').filter((scope) => scope !== ''),
    tokenExpiresAt: row.token_expires_at,
    lastRefreshedAt: row.last_refreshed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function findAccountRow(
  db: Kysely<Database>,
  accountId: string,
): Promise<AccountRow | undefined> {
  return accountRows(db, accountId);
}

/** The dispatcher reads an account for every post it sends: the reads of one moment share a statement. */
const accountRows = batchedRowByKey(
  (db, ids: readonly string[]) => db.selectFrom('accounts').selectAll().where('id', 'in', ids).execute(),
  (row) => row.id,
);

/** The account if it belongs to `userId`; undefined otherwise (another user's account is "not found"). */
export async function findAccountOfUser(
  db: Kysely<Database>,
  userId: string,
  accountId: string,
): Promise<Account | undefined> {
  const row = await db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', accountId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? toAccount(row) : undefined;
}

/** The user's accounts, oldest first. */
export async function listAccountsOfUser(db: Kysely<Database>, userId: string): Promise<Account[]> {
  const rows = await db
    .selectFrom('accounts')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toAccount);
}

/** Appends to the account's history (`connected`, `refreshed`, `refresh_failed`, `needs_reconnect`, …). */
export async function recordAccountEvent(
  db: Kysely<Database> | Transaction<Database>,
  accountId: string,
  kind: string,
  detail: string | null,
  at: number,
): Promise<void> {
  await db
    .insertInto('account_events')
    .values({ id: randomUUID(), account_id: accountId, kind, detail, at })
    .execute();
}

/**
 * Marks an `active` account `needs_reconnect` with `reason`, releases any refresh lease, and records it (history
 * and the `account.needs_reconnect` event) in the same transaction. Nothing happens to an account not active.
 */
export async function markNeedsReconnect(
  db: Kysely<Database>,
  accountId: string,
  reason: string,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('accounts')
      .set({
        status: 'needs_reconnect',
        status_reason: reason,
        refresh_lease_owner: null,
        refresh_lease_until: null,
        next_refresh_at: null,
        updated_at: now,
      })
      .where('id', '=', accountId)
      .where('status', '=', 'active')
      .returning(['user_id', 'username'])
      .executeTakeFirst();
    if (!row) return;
    await recordAccountEvent(trx, accountId, 'needs_reconnect', reason, now);
    await appendEvents(trx, [
      needsReconnectEvent({ id: accountId, userId: row.user_id, username: row.username }, reason, now),
    ]);
  });
}

function needsReconnectEvent(
  account: { id: string; userId: string; username: string },
  reason: string,
  at: number,
): NewEvent {
  return {
    type: 'account.needs_reconnect',
    userId: account.userId,
    at,
    data: { accountId: account.id, username: account.username, reason },
  };
}

/**
 * Whether the stored tokens open with `sealer` (judged by one account that has a token), or null when no
 * account has one: the start-up key check for databases from before the key canary.
 */
export async function storedTokensOpen(
  db: Kysely<Database>,
  sealer: { unseal(accountId: string, kind: 'access', sealed: string): string },
): Promise<boolean | null> {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'access_token_sealed'])
    .where('access_token_sealed', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  if (!row?.access_token_sealed) return null;
  try {
    sealer.unseal(row.id, 'access', row.access_token_sealed);
    return true;
  } catch {
    return false;
  }
}

/** The token columns of an account whose tokens are gone (revoked, or sealed with a lost key). */
function erasedTokens(now: number) {
  return {
    access_token_sealed: null,
    refresh_token_sealed: null,
    token_expires_at: null,
    refresh_lease_owner: null,
    refresh_lease_until: null,
    next_refresh_at: null,
    updated_at: now,
  };
}

/**
 * Erases every stored token (they were sealed with a key that is lost) and marks each connected account
 * `needs_reconnect` with `reason`. Returns how many accounts had tokens.
 */
export async function forgetAllTokens(db: Kysely<Database>, reason: string, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('accounts')
      .select(['id', 'user_id', 'username', 'status'])
      .where('status', '<>', 'disconnected')
      .execute();
    await trx.updateTable('accounts').set(erasedTokens(now)).execute();
    await trx
      .updateTable('accounts')
      .set({ status: 'needs_reconnect', status_reason: reason })
      .where('status', '=', 'active')
      .execute();
    for (const row of rows) await recordAccountEvent(trx, row.id, 'needs_reconnect', reason, now);
    await appendEvents(
      trx,
      rows
        .filter((row) => row.status === 'active')
        .map((row) =>
          needsReconnectEvent({ id: row.id, userId: row.user_id, username: row.username }, reason, now),
        ),
    );
    return rows.length;
  });
}

/**
 * Writes an account connected (or reconnected) through OAuth: its profile and freshly sealed tokens. `isNew`
 * inserts (a concurrent insert of the same account fails with a unique violation); otherwise updates in place.
 */
export async function storeConnectedAccount(
  trx: Transaction<Database>,
  account: {
    id: string;
    isNew: boolean;
    userId: string;
    xUserId: string;
    now: number;
    fields: Omit<Updateable<AccountsTable>, 'id' | 'user_id' | 'x_user_id' | 'created_at'>;
  },
): Promise<void> {
  if (!account.isNew) {
    await trx.updateTable('accounts').set(account.fields).where('id', '=', account.id).execute();
    return;
  }
  await trx
    .insertInto('accounts')
    .values({
      id: account.id,
      user_id: account.userId,
      x_user_id: account.xUserId,
      refresh_token_sealed: null,
      created_at: account.now,
      ...(account.fields as Omit<Insertable<AccountsTable>, 'id' | 'user_id' | 'x_user_id' | 'created_at'>),
    })
    .execute();
}

/** Keeps the profile X answered for the account (test connection). */
export async function updateProfile(
  db: Kysely<Database>,
  accountId: string,
  profile: {
    username: string;
    name: string;
    profileImageUrl: string | null;
    subscriptionType: string | null;
  },
  now: number,
): Promise<void> {
  await db
    .updateTable('accounts')
    .set({
      username: profile.username,
      name: profile.name,
      profile_image_url: profile.profileImageUrl,
      subscription_type: profile.subscriptionType,
      updated_at: now,
    })
    .where('id', '=', accountId)
    .execute();
}

/** The account is disconnected: its tokens (revoked at X already) are erased. */
export async function markDisconnected(
  trx: Transaction<Database>,
  accountId: string,
  now: number,
): Promise<void> {
  await trx
    .updateTable('accounts')
    .set({
      status: 'disconnected',
      status_reason: 'Disconnected by its owner; the tokens were revoked at X and erased.',
      ...erasedTokens(now),
    })
    .where('id', '=', accountId)
    .execute();
}

/** Some active account (the app-wide probe asks X with any account's token). */
export async function findAnyActiveAccount(
  db: Kysely<Database>,
): Promise<{ id: string; xUserId: string } | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'x_user_id'])
    .where('status', '=', 'active')
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: row.id, xUserId: row.x_user_id } : undefined;
}
