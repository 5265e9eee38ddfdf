import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // One row per published tweet whose metrics are collected (see src/metrics/schedule.ts for when).
  await db.schema
    .createTable('metric_targets')
    .addColumn('tweet_id', 'text', (c) => c.primaryKey())
    /** Null for a tweet of the account's timeline that xgate did not publish. */
    .addColumn('post_id', 'text')
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('published_at', 'bigint', (c) => c.notNull())
    /** When to read next; null once collection ended (`stopped_reason`). */
    .addColumn('next_read_at', 'bigint')
    /** `deleted` (at X or through xgate), `aged_out`. */
    .addColumn('stopped_reason', 'text')
    .addColumn('last_read_at', 'bigint')
    /** The UTC day (days since the epoch) of the last read: a second read that day is not billed again. */
    .addColumn('last_read_day', 'integer')
    .addColumn('reads', 'integer', (c) => c.notNull().defaultTo(0))
    /** JSON of the last counts read: the next snapshot adds only the growth to the account's daily totals. */
    .addColumn('last_counts', 'text')
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('metric_targets_due_idx')
    .on('metric_targets')
    .columns(['next_read_at'])
    .execute();
  await db.schema
    .createIndex('metric_targets_account_due_idx')
    .on('metric_targets')
    .columns(['account_id', 'next_read_at'])
    .execute();
  await db.schema.createIndex('metric_targets_post_idx').on('metric_targets').column('post_id').execute();

  // The time series of each tweet. Thinned to the last snapshot of each UTC day after 30 days.
  await db.schema
    .createTable('metric_snapshots')
    .addColumn('tweet_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('post_id', 'text')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('impressions', 'bigint', (c) => c.notNull())
    .addColumn('likes', 'bigint', (c) => c.notNull())
    .addColumn('replies', 'bigint', (c) => c.notNull())
    .addColumn('reposts', 'bigint', (c) => c.notNull())
    .addColumn('quotes', 'bigint', (c) => c.notNull())
    .addColumn('bookmarks', 'bigint', (c) => c.notNull())
    .addColumn('url_clicks', 'bigint')
    .addColumn('profile_clicks', 'bigint')
    .addColumn('engagements', 'bigint')
    .addPrimaryKeyConstraint('metric_snapshots_pk', ['tweet_id', 'at'])
    .execute();
  await db.schema
    .createIndex('metric_snapshots_post_idx')
    .on('metric_snapshots')
    .columns(['post_id', 'at'])
    .execute();
  await db.schema.createIndex('metric_snapshots_at_idx').on('metric_snapshots').columns(['at']).execute();

  // Per account and UTC day: what its tweets gained that day (the growth between snapshots, by the later one's day).
  await db.schema
    .createTable('account_metrics_daily')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('impressions', 'bigint', (c) => c.notNull())
    .addColumn('engagements', 'bigint', (c) => c.notNull())
    .addColumn('likes', 'bigint', (c) => c.notNull())
    .addColumn('replies', 'bigint', (c) => c.notNull())
    .addColumn('reposts', 'bigint', (c) => c.notNull())
    .addColumn('quotes', 'bigint', (c) => c.notNull())
    .addColumn('bookmarks', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('account_metrics_daily_pk', ['account_id', 'day'])
    .execute();

  // Reads made, per account and UTC day: the caps, and what X bills (`billed`: first read of a tweet that day).
  await db.schema
    .createTable('metric_reads')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull())
    .addColumn('reads', 'integer', (c) => c.notNull())
    .addColumn('billed', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_reads_pk', ['account_id', 'day'])
    .execute();
  await db.schema.createIndex('metric_reads_day_idx').on('metric_reads').column('day').execute();

  // Accounts whose own timeline is collected too (tweets not posted through xgate): off unless asked for.
  await db.schema
    .createTable('metric_timelines')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('enabled_at', 'bigint', (c) => c.notNull())
    /** The newest tweet id seen on the timeline (`since_id` of the next look). */
    .addColumn('since_id', 'text')
    .addColumn('next_poll_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // Where the collector stands in the event log (one row): published tweets come in, deleted ones stop.
  await db.schema
    .createTable('metric_intake')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('cursor_tx', 'bigint', (c) => c.notNull())
    .addColumn('cursor_seq', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('metric_intake').values({ id: 1, cursor_tx: 0, cursor_seq: 0 }).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'metric_intake',
    'metric_reads',
    'account_metrics_daily',
    'metric_snapshots',
    'metric_targets',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
