import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // How many tweets the post makes (its items): the budget check sums it over an index instead of reading items.
  await db.schema
    .alterTable('posts')
    .addColumn('tweet_count', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await sql`update posts set tweet_count = (select count(*) from post_items where post_items.post_id = posts.id)
    where exists (select 1 from post_items where post_items.post_id = posts.id)`.execute(db);
  // Covering indexes for the budget check's sums (app-wide, and per account), in time order.
  await db.schema.dropIndex('posts_status_next_attempt_at_idx').execute();
  await db.schema
    .createIndex('posts_status_next_attempt_at_idx')
    .on('posts')
    .columns(['status', 'next_attempt_at', 'tweet_count'])
    .execute();
  await db.schema
    .createIndex('posts_account_status_next_attempt_at_idx')
    .on('posts')
    .columns(['account_id', 'status', 'next_attempt_at', 'tweet_count'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('posts_account_status_next_attempt_at_idx').execute();
  await db.schema.dropIndex('posts_status_next_attempt_at_idx').execute();
  await db.schema
    .createIndex('posts_status_next_attempt_at_idx')
    .on('posts')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema.alterTable('posts').dropColumn('tweet_count').execute();
}
