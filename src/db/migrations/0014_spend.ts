import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // What X bills, estimated per X account, UTC day and operation (the spend ledger).
  await db.schema
    .createTable('spend_daily')
    .addColumn('x_user_id', 'text', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('calls', 'integer', (c) => c.notNull())
    .addColumn('usd', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('spend_daily_pk', ['x_user_id', 'day', 'operation'])
    .execute();
  await db.schema.createIndex('spend_daily_day_idx').on('spend_daily').column('day').execute();

  // Resources already billed a read on a UTC day: X bills each at most once per day, app-wide.
  await db.schema
    .createTable('spend_read_days')
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('spend_read_days_pk', ['day', 'resource_id'])
    .execute();

  // Per account: spending caps and whether links go into a reply by default.
  await db.schema
    .createTable('spend_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('monthly_cap_usd', 'double precision')
    .addColumn('daily_cap_usd', 'double precision')
    .addColumn('link_in_reply', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  // The app-wide pause after X refused the app itself (402 credits depleted, 403 client-not-enrolled): one row.
  await db.schema
    .createTable('app_pause')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addColumn('next_probe_at', 'bigint', (c) => c.notNull())
    .addColumn('probe_interval_ms', 'bigint', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['app_pause', 'spend_settings', 'spend_read_days', 'spend_daily']) {
    await db.schema.dropTable(table).execute();
  }
}
