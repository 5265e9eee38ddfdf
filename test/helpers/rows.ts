import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { BUDGET_HOUR_MS } from '../../src/posts/posts.repository.ts';

/** How many rows of `table` have these column values: what a test checks was stored, or was not. */
export async function countRows(
  db: Kysely<Database>,
  table: keyof Database,
  where: Record<string, string | number> = {},
): Promise<number> {
  let query = db.selectFrom(table).select((eb) => eb.fn.countAll().as('n'));
  for (const [column, value] of Object.entries(where)) query = query.where(sql.ref(column), '=', value);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/**
 * Where the hourly counts the budget check reads (`budget_hours`, kept by triggers) differ from a recount of the
 * scheduled and publishing posts: empty when they agree.
 */
export async function budgetHoursDrift(
  db: Kysely<Database>,
): Promise<{ hour: number; kept: number; recounted: number }[]> {
  const kept = new Map<number, number>();
  const rows = await db
    .selectFrom('budget_hours')
    .select(['hour', (eb) => eb.fn.sum<number>('tweets').as('tweets')])
    .groupBy('hour')
    .execute();
  for (const row of rows) kept.set(Number(row.hour), Number(row.tweets));
  const recounted = new Map<number, number>();
  const posts = await db
    .selectFrom('posts')
    .select(['next_attempt_at', 'tweet_count'])
    .where('status', 'in', ['scheduled', 'publishing'])
    .execute();
  for (const post of posts) {
    const hour = Math.floor(Number(post.next_attempt_at) / BUDGET_HOUR_MS);
    recounted.set(hour, (recounted.get(hour) ?? 0) + Number(post.tweet_count));
  }
  return [...new Set([...kept.keys(), ...recounted.keys()])]
    .map((hour) => ({ hour, kept: kept.get(hour) ?? 0, recounted: recounted.get(hour) ?? 0 }))
    .filter((d) => d.kept !== d.recounted);
}
