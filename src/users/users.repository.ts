import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from '../db/schema.ts';

/** A person using xgate; created on first sign-in with X. */
export interface User {
  id: string;
  createdAt: number;
}

function toUser(row: Selectable<UsersTable>): User {
  return { id: row.id, createdAt: row.created_at };
}

/** Creates a user (a new id) at `now`. Pass a transaction to create it together with its first account. */
export async function createUser(db: Kysely<Database>, now: number): Promise<User> {
  const row = { id: randomUUID(), created_at: now };
  await db.insertInto('users').values(row).execute();
  return toUser(row);
}

export async function findUser(db: Kysely<Database>, id: string): Promise<User | null> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toUser(row) : null;
}

/** Every user's id (for app-wide events, e.g. `app.paused`). */
export async function listUserIds(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('users').select('id').orderBy('created_at').execute()).map((row) => row.id);
}
