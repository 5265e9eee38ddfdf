import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { createGroupCommit } from '../../src/db/group-commit.ts';
import { createDatabase, type Database, type DatabaseHandle, migrateToLatest } from '../../src/db/index.ts';
import { type DraftItem, insertPost } from '../../src/posts/posts.repository.ts';
import { DeliveryRepository } from '../../src/posts/publishing.repository.ts';
import { makeAccount } from '../fixtures/accounts.ts';
import type { DialectContext } from './dialects.ts';
import { makeUser } from './factories.ts';

/**
 * The suite's migrated database (opened before its tests, closed after), the dispatcher's repository on it as a
 * worker named `owner` would hold it (60 s leases), and due posts of new users' accounts.
 */
export function deliveryDatabase(
  ctx: DialectContext,
  clock: Clock,
): {
  readonly db: Kysely<Database>;
  repoOf(owner: string): DeliveryRepository;
  /** A post of a new user's account (named `username` when given) with these items, due now. */
  duePost(
    items: readonly DraftItem[],
    username?: string,
  ): Promise<{ id: string; user: { id: string }; account: { id: string; xUserId: string } }>;
} {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await createDatabase(ctx.databaseUrl);
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle?.destroy();
  });
  return {
    get db() {
      return handle.db;
    },
    repoOf: (owner) =>
      new DeliveryRepository(
        handle.db,
        handle.dialect,
        owner,
        60_000,
        createGroupCommit(handle.db, handle.dialect),
      ),
    async duePost(items, username) {
      const deps = { db: handle.db, clock };
      const user = await makeUser(deps);
      const account = await makeAccount(deps, user.id, username === undefined ? {} : { username });
      const id = randomUUID();
      await insertPost(handle.db, {
        id,
        userId: user.id,
        accountId: account.id,
        scheduledAt: clock.now(),
        now: clock.now(),
        items,
      });
      return { id, user, account };
    },
  };
}
