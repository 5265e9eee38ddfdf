import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('x_user_id', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('profile_image_url', 'text')
    .addColumn('subscription_type', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('access_token_sealed', 'text')
    .addColumn('refresh_token_sealed', 'text')
    .addColumn('token_expires_at', 'bigint')
    .addColumn('last_refreshed_at', 'bigint')
    .addColumn('refresh_lease_owner', 'text')
    .addColumn('refresh_lease_until', 'bigint')
    .addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_refresh_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('accounts_user_id_x_user_id_key', ['user_id', 'x_user_id'])
    .execute();
  // The refresher looks for active accounts by token expiry and by last refresh (keep-alive).
  await db.schema
    .createIndex('accounts_status_token_expires_at_idx')
    .on('accounts')
    .columns(['status', 'token_expires_at'])
    .execute();
  await db.schema
    .createIndex('accounts_status_last_refreshed_at_idx')
    .on('accounts')
    .columns(['status', 'last_refreshed_at'])
    .execute();
  // Sign-in finds the user of an X account.
  await db.schema.createIndex('accounts_x_user_id_idx').on('accounts').column('x_user_id').execute();

  await db.schema
    .createTable('account_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('account_events_account_id_at_idx')
    .on('account_events')
    .columns(['account_id', 'at'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('account_events').execute();
  await db.schema.dropTable('accounts').execute();
}
