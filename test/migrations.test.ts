import SQLite from 'better-sqlite3';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle, migrateToLatest, pendingMigrations } from '../src/db/index.ts';
import { migrations } from '../src/db/migrations/index.ts';
import {
  createHttpClient,
  describeEachDialect,
  makeTempDir,
  startTestService,
  TEST_PG_ADMIN_URL,
  type TestService,
} from './helpers/index.ts';

describeEachDialect('migrations', (ctx) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await createDatabase(ctx.databaseUrl);
  });
  afterAll(() => handle?.destroy());

  it('apply every migration on an empty database, concurrently from two connections', async () => {
    expect(await pendingMigrations(handle.db)).toEqual(Object.keys(migrations));
    const other = await createDatabase(ctx.databaseUrl);
    try {
      await Promise.all([migrateToLatest(handle.db), migrateToLatest(other.db)]);
    } finally {
      await other.destroy();
    }
    expect(await pendingMigrations(handle.db)).toEqual([]);
    expect(await migrateToLatest(handle.db)).toEqual([]);
    const tables = (await handle.db.introspection.getTables()).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'users',
        'api_keys',
        'accounts',
        'account_events',
        'media',
        'posts',
        'post_items',
        'rate_limits',
        'idempotency_keys',
      ]),
    );
  });

  it('store epoch milliseconds and read them back as numbers', async () => {
    const at = 1_795_000_000_123;
    await handle.db
      .insertInto('users')
      .values({ id: `u-${ctx.dialect}`, created_at: at })
      .execute();
    const row = await handle.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', `u-${ctx.dialect}`)
      .executeTakeFirstOrThrow();
    expect(row.created_at).toBe(at);
    const { count } = await handle.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(count).toBe(1);
  });

  it.skipIf(ctx.dialect !== 'postgres')(
    'survive idle connections being terminated by the server',
    async () => {
      const name = new URL(ctx.databaseUrl).pathname.slice(1);
      await sql`select 1`.execute(handle.db);
      const admin = await createDatabase(TEST_PG_ADMIN_URL);
      try {
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`.execute(
          admin.db,
        );
      } finally {
        await admin.destroy();
      }
      await new Promise((r) => setTimeout(r, 100));
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
      expect(rows).toEqual([{ one: 1 }]);
    },
  );

  it('enforce foreign keys', async () => {
    await expect(
      handle.db
        .insertInto('api_keys')
        .values({
          id: 'k',
          user_id: 'nobody',
          name: 'n',
          prefix: 'p',
          hash: 'h',
          created_at: 1,
          last_used_at: null,
          revoked_at: null,
        })
        .execute(),
    ).rejects.toThrow();
  });
});

describeEachDialect('/readyz', (ctx) => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir });
  });
  afterAll(() => service?.stop());

  it('is ready once migrated, and not while a migration is pending', async () => {
    const client = createHttpClient(service.url);
    expect(await client.get('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });

    const migrator = new Migrator({
      // biome-ignore lint/suspicious/noExplicitAny: migrations are untyped
      db: service.app.deps.db as any,
      provider: { getMigrations: async () => migrations },
    });
    const down = await migrator.migrateDown();
    expect(down.error).toBeUndefined();
    const notReady = await client.get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.json).toEqual({
      status: 'not_ready',
      reason: 'migrations_pending',
      pendingMigrations: [Object.keys(migrations).at(-1)],
    });

    await migrateToLatest(service.app.deps.db);
    expect((await client.get('/readyz')).status).toBe(200);
    expect((await client.get('/healthz')).status).toBe(200);
  });
});

describe('opening a SQLite file', () => {
  it('waits for another connection that holds a write lock instead of failing with "database is locked"', async () => {
    const dir = makeTempDir();
    const path = `${dir.path}/locked.db`;
    // Another process migrating a new file holds its write lock; switching to WAL upgrades a read lock, which
    // SQLite refuses at once, without the busy timeout.
    const other = new SQLite(path);
    try {
      other.exec('create table started (at integer)');
      other.exec('begin immediate');
      other.exec('insert into started values (1)');
      const released = new Promise<void>((resolve) =>
        setTimeout(() => {
          other.exec('commit');
          resolve();
        }, 200),
      );
      const handle = await createDatabase(`sqlite:${path}`);
      await released;
      try {
        const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(handle.db);
        expect(rows).toEqual([{ journal_mode: 'wal' }]);
        expect(await migrateToLatest(handle.db)).toHaveLength(Object.keys(migrations).length);
      } finally {
        await handle.destroy();
      }
    } finally {
      other.close();
      dir.remove();
    }
  });
});
