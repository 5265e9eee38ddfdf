import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/** A browser session as stored: its owner and its two expiries (idle, sliding; absolute). */
export interface SessionRecord {
  id: string;
  userId: string;
  lastSeenAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
}

export async function insertSession(db: Kysely<Database>, session: SessionRecord & { createdAt: number }) {
  await db
    .insertInto('sessions')
    .values({
      id: session.id,
      user_id: session.userId,
      created_at: session.createdAt,
      last_seen_at: session.lastSeenAt,
      expires_at: session.expiresAt,
      absolute_expires_at: session.absoluteExpiresAt,
    })
    .execute();
}

/** The session with this id if it has not expired at `now` (its user still exists: sessions cascade). */
export async function findLiveSession(
  db: Kysely<Database>,
  id: string,
  now: number,
): Promise<SessionRecord | null> {
  const row = await db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'last_seen_at', 'expires_at', 'absolute_expires_at'])
    .where('id', '=', id)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row
    ? {
        id: row.id,
        userId: row.user_id,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
        absoluteExpiresAt: row.absolute_expires_at,
      }
    : null;
}

/** Records a use: the idle expiry moves to `expiresAt`. */
export async function touchSession(db: Kysely<Database>, id: string, now: number, expiresAt: number) {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now, expires_at: expiresAt })
    .where('id', '=', id)
    .execute();
}

export async function deleteSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Ends every session of the user; returns how many there were. */
export async function deleteUserSessions(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes sessions expired at `now`; returns how many. */
export async function purgeExpiredSessions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ends every session of every user (`xgate forget-tokens`: their cookies were sealed with the lost key). */
export async function deleteAllSessions(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('sessions').executeTakeFirst();
  return Number(result.numDeletedRows);
}
