import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('posting_schedules')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('timezone', 'text', (c) => c.notNull())
    /** JSON: [{days: ["mon", …], time: "HH:MM"}]. */
    .addColumn('slots', 'text', (c) => c.notNull())
    /** JSON: [{from: "YYYY-MM-DD", to: "YYYY-MM-DD"}]. */
    .addColumn('blackout', 'text', (c) => c.notNull())
    .addColumn('spacing_minutes', 'integer', (c) => c.notNull())
    .addColumn('pull_forward', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The queue slot a post took with "add to queue". Two posts of one account never hold the same slot while
  // scheduled: concurrent "add to queue" requests (any number of processes) collide here and the loser retries.
  await db.schema.alterTable('posts').addColumn('queue_slot_at', 'bigint').execute();
  await sql`create unique index posts_queue_slot_idx on posts (account_id, queue_slot_at)
    where status = 'scheduled' and queue_slot_at is not null`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index posts_queue_slot_idx`.execute(db);
  await db.schema.alterTable('posts').dropColumn('queue_slot_at').execute();
  await db.schema.dropTable('posting_schedules').execute();
}
