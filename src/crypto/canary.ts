import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { createSealer } from './sealing.ts';

const CANARY_ID = 'secret-key';
const CANARY_TEXT = 'xgate secret key canary';

/** `serve`/`worker` refuse to start: the key cannot open what the database holds. */
export class SecretKeyMismatchError extends Error {
  readonly code = 'secret_key_mismatch';
  constructor(keySource: string) {
    super(
      `The secret key from ${keySource} is not the key this database was sealed with, so no stored X token could be opened. ` +
        'Start xgate with the original key. If it is lost for good, run `xgate forget-tokens` (every X account must then be reconnected) and start again with the new key.',
    );
    this.name = 'SecretKeyMismatchError';
  }
}

/**
 * Checks at start-up that `secretKey` is the key the stored data was sealed with, by a known value sealed
 * under it (written on the first start). A database from before the canary existed is judged by
 * `storedTokensOpen` (true/false, or null when it holds no token) before the canary is written.
 * Throws {@link SecretKeyMismatchError}.
 */
export async function verifySecretKey(
  db: Kysely<Database>,
  secretKey: Buffer,
  options: { now: number; keySource: string; storedTokensOpen: () => Promise<boolean | null> },
): Promise<void> {
  const sealer = createSealer(secretKey, { label: 'xgate/canary/v1' });
  const read = () =>
    db.selectFrom('secret_canary').select('sealed').where('id', '=', CANARY_ID).executeTakeFirst();
  let row = await read();
  if (!row) {
    if ((await options.storedTokensOpen()) === false) throw new SecretKeyMismatchError(options.keySource);
    await db
      .insertInto('secret_canary')
      .values({ id: CANARY_ID, sealed: sealer.seal(CANARY_TEXT, CANARY_ID), created_at: options.now })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    // Another process may have written it first, with its own key: read what is there.
    row = await read();
  }
  if (row === undefined || sealer.open(row.sealed, CANARY_ID) !== CANARY_TEXT) {
    throw new SecretKeyMismatchError(options.keySource);
  }
}

/** Forgets the canary, so the next start writes one under its own key (`xgate forget-tokens`). */
export async function forgetSecretCanary(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom('secret_canary').execute();
}
