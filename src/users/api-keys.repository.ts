import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { batchedRowByKey } from '../db/batched.ts';
import type { ApiKeysTable, Database } from '../db/schema.ts';

/** An API key as listed to its owner: never the key itself. */
export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  /** The key's first characters, so a person can tell keys apart. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Keys start with this, so they are recognisable (and findable by secret scanners). */
export const API_KEY_PREFIX = 'xg_';
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;
/** `last_used_at` is written at most this often per key, so authenticated reads do not all become writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

function toApiKey(row: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/** sha256 hex of the whole key: what is stored and looked up. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key for `userId`; the returned `key` is the only time the secret exists outside its hash. */
export async function createApiKey(
  db: Kysely<Database>,
  input: { userId: string; name: string; now: number },
): Promise<{ apiKey: ApiKey; key: string }> {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row: Selectable<ApiKeysTable> = {
    id: randomUUID(),
    user_id: input.userId,
    name: input.name,
    prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
    hash: hashApiKey(key),
    created_at: input.now,
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto('api_keys').values(row).execute();
  return { apiKey: toApiKey(row), key };
}

/** The user's active (not revoked) keys, oldest first. */
export async function listApiKeys(db: Kysely<Database>, userId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toApiKey);
}

/** How many active keys the user has. */
export async function countApiKeys(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Revokes the user's key; false when there is no such active key of this user. */
export async function revokeApiKey(
  db: Kysely<Database>,
  input: { userId: string; id: string; now: number },
): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: input.now })
    .where('id', '=', input.id)
    .where('user_id', '=', input.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The active (not revoked) key with this hash; every request reads one, so they share statements. */
const activeKeyByHash = batchedRowByKey(
  (db, hashes: readonly string[]) =>
    db
      .selectFrom('api_keys')
      .select(['id', 'user_id', 'last_used_at', 'hash'])
      .where('hash', 'in', hashes)
      .where('revoked_at', 'is', null)
      .execute(),
  (row) => row.hash,
);

/** The owner and id of an active key, or null; records the use (coarsely, see LAST_USED_RESOLUTION_MS). */
export async function authenticateApiKey(
  db: Kysely<Database>,
  key: string,
  now: number,
): Promise<{ userId: string; keyId: string } | null> {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const row = await activeKeyByHash(db, hashApiKey(key));
  if (!row) return null;
  if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { userId: row.user_id, keyId: row.id };
}
