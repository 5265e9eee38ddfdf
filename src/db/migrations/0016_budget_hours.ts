import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Tweets of the posts still to be published (`scheduled` or `publishing`), per hour of `next_attempt_at`, for the
 * app-wide budget check: a create sums ~49 rows instead of counting every post in the 48 hours around it (up to the
 * app's daily limit twice over). Kept by triggers on `posts`, so every write to a post — the dispatcher's fenced
 * statements and cascades included — keeps it exact in the same transaction. On PostgreSQL each change goes to one of
 * PG_STRIPES rows of its hour at random, so concurrent transactions (every publish of the hour) rarely wait on the
 * same row lock; readers sum them. SQLite has one writer at a time: one row per hour, clustered on it.
 */
const PG_STRIPES = 8;
const HOUR_MS = 3_600_000;

const counted = (row: 'old' | 'new') => `${row}.status in ('scheduled', 'publishing')`;

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('budget_hours')
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('stripe', 'integer', (c) => c.notNull())
    .addColumn('tweets', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('budget_hours_pk', ['hour', 'stripe'])
    .$call((table) => (postgres ? table : table.modifyEnd(sql`without rowid`)))
    .execute();
  const changed = `(${counted('old')}) <> (${counted('new')}) or (${counted('new')} and
    (old.next_attempt_at / ${HOUR_MS} <> new.next_attempt_at / ${HOUR_MS} or old.tweet_count <> new.tweet_count))`;
  if (postgres) {
    await sql
      .raw(`create function budget_hours_add(at bigint, tweets integer) returns void language sql as $$
        insert into budget_hours (hour, stripe, tweets) values (at / ${HOUR_MS}, floor(random() * ${PG_STRIPES}), tweets)
        on conflict (hour, stripe) do update set tweets = budget_hours.tweets + excluded.tweets $$`)
      .execute(db);
    await sql
      .raw(`create function posts_budget_hours() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' and ${counted('old')} then
          perform budget_hours_add(old.next_attempt_at, -old.tweet_count);
        end if;
        if tg_op <> 'DELETE' and ${counted('new')} then
          perform budget_hours_add(new.next_attempt_at, new.tweet_count);
        end if;
        return null;
      end $$`)
      .execute(db);
    await sql
      .raw(`create trigger posts_budget_hours_insert after insert on posts for each row
        when (${counted('new')}) execute function posts_budget_hours()`)
      .execute(db);
    await sql
      .raw(`create trigger posts_budget_hours_update after update on posts for each row
        when (${changed}) execute function posts_budget_hours()`)
      .execute(db);
    await sql
      .raw(`create trigger posts_budget_hours_delete after delete on posts for each row
        when (${counted('old')}) execute function posts_budget_hours()`)
      .execute(db);
  } else {
    const add = (row: 'old' | 'new', sign: '' | '-') =>
      `insert into budget_hours (hour, stripe, tweets)
        select ${row}.next_attempt_at / ${HOUR_MS}, 0, ${sign}${row}.tweet_count
        where ${counted(row)}
        on conflict (hour, stripe) do update set tweets = tweets + excluded.tweets;`;
    await sql
      .raw(`create trigger posts_budget_hours_insert after insert on posts when ${counted('new')}
        begin ${add('new', '')} end`)
      .execute(db);
    await sql
      .raw(`create trigger posts_budget_hours_update after update on posts when ${changed}
        begin ${add('old', '-')} ${add('new', '')} end`)
      .execute(db);
    await sql
      .raw(`create trigger posts_budget_hours_delete after delete on posts when ${counted('old')}
        begin ${add('old', '-')} end`)
      .execute(db);
  }
  await sql
    .raw(`insert into budget_hours (hour, stripe, tweets)
      select next_attempt_at / ${HOUR_MS}, 0, sum(tweet_count) from posts
      where status in ('scheduled', 'publishing') group by next_attempt_at / ${HOUR_MS}`)
    .execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const op of ['insert', 'update', 'delete']) {
    await sql.raw(`drop trigger posts_budget_hours_${op}${postgres ? ' on posts' : ''}`).execute(db);
  }
  if (postgres) {
    await sql.raw('drop function posts_budget_hours()').execute(db);
    await sql.raw('drop function budget_hours_add(bigint, integer)').execute(db);
  }
  await db.schema.dropTable('budget_hours').execute();
}
