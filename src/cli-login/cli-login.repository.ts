import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { CliLoginsTable, Database } from '../db/schema.ts';

/** The one owner of the `cli_logins` table: `xgate login`'s device-code sign-ins. */

export type CliLoginRow = Selectable<CliLoginsTable>;

/** Letters people read and type without mistakes (no vowels, so no words; RFC 8628 §6.1). */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export function hashDeviceCode(deviceCode: string): string {
  return createHash('sha256').update(deviceCode).digest('hex');
}

/** `BCDF-GHJK`: 8 letters, about 34 bits. */
function newUserCode(): string {
  const letters = Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]);
  return `${letters.slice(0, 4).join('')}-${letters.slice(4).join('')}`;
}

/** Normalises what a person typed (`bcdfghjk`, `BCDF GHJK`) to the stored form. */
export function normaliseUserCode(text: string): string {
  const letters = text.toUpperCase().replace(/[^A-Z]/g, '');
  return letters.length === 8 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : text;
}

/** Starts a login; the device code is returned once and only its hash kept. */
export async function startCliLogin(
  db: Kysely<Database>,
  input: { name: string; now: number; ttlMs: number },
): Promise<{ login: CliLoginRow; deviceCode: string }> {
  const deviceCode = randomBytes(32).toString('base64url');
  const login: CliLoginRow = {
    id: randomUUID(),
    device_code_hash: hashDeviceCode(deviceCode),
    user_code: newUserCode(),
    name: input.name,
    status: 'pending',
    user_id: null,
    created_at: input.now,
    expires_at: input.now + input.ttlMs,
  };
  await db.insertInto('cli_logins').values(login).execute();
  return { login, deviceCode };
}

export function findByUserCode(db: Kysely<Database>, userCode: string): Promise<CliLoginRow | undefined> {
  return db.selectFrom('cli_logins').selectAll().where('user_code', '=', userCode).executeTakeFirst();
}

export function findByDeviceCode(db: Kysely<Database>, deviceCode: string): Promise<CliLoginRow | undefined> {
  return db
    .selectFrom('cli_logins')
    .selectAll()
    .where('device_code_hash', '=', hashDeviceCode(deviceCode))
    .executeTakeFirst();
}

/** Approves or denies a pending, unexpired login; false when it is not pending any more. */
export async function decideCliLogin(
  db: Kysely<Database>,
  id: string,
  decision: { approvedBy: string } | 'deny',
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('cli_logins')
    .set(decision === 'deny' ? { status: 'denied' } : { status: 'approved', user_id: decision.approvedBy })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Marks an approved login as handed over (its key is given once); false when another poll took it first. */
export async function completeCliLogin(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db
    .updateTable('cli_logins')
    .set({ status: 'done' })
    .where('id', '=', id)
    .where('status', '=', 'approved')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes logins that expired before `before`. */
export async function purgeCliLogins(db: Kysely<Database>, before: number): Promise<number> {
  const result = await db.deleteFrom('cli_logins').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
