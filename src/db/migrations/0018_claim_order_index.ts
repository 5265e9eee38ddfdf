import type { Kysely } from 'kysely';

/**
 * The dispatcher claims due posts in `(next_attempt_at, created_at)` order: with `created_at` in the index after
 * `next_attempt_at`, a claim walks the index and stops after the posts it takes, instead of reading and sorting every
 * due post (10 ms per claim with 20,000 due on PostgreSQL, growing with the backlog). `tweet_count` stays last, so the
 * budget check's sums remain index-only. `posts_account_id_idx` goes: `posts_account_status_next_attempt_at_idx`
 * starts with `account_id` and serves the same lookups, and every index is one more write per changed post.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('posts_status_next_attempt_at_idx').execute();
  await db.schema
    .createIndex('posts_status_next_attempt_at_idx')
    .on('posts')
    .columns(['status', 'next_attempt_at', 'created_at', 'tweet_count'])
    .execute();
  await db.schema.dropIndex('posts_account_id_idx').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('posts_account_id_idx').on('posts').column('account_id').execute();
  await db.schema.dropIndex('posts_status_next_attempt_at_idx').execute();
  await db.schema
    .createIndex('posts_status_next_attempt_at_idx')
    .on('posts')
    .columns(['status', 'next_attempt_at', 'tweet_count'])
    .execute();
}
