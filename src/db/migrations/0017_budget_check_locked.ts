import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL: `budget_check_locked(keys, query, ranges)` takes the budget's advisory locks on `keys` (in one order,
 * so two callers never wait on each other in a circle), then runs `query` — a boolean, given `ranges` as `$1` — and
 * answers it. A volatile function's statements each take a new snapshot, so the query sees everything committed
 * before the locks were granted: a create can lock, count and insert in one statement, without a transaction of
 * round trips held open around its count (src/posts/posts.repository.ts, `insertPostsWithinBudget`).
 *
 * The query is planned with JIT and parallel workers off (for the rest of the transaction): the planner cannot see
 * how few ranges its JSON holds, and compiled the count (630 ms) and started workers (80 ms) for reads of 3 ms.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql
    .raw(`create function budget_check_locked(keys text[], query text, ranges jsonb) returns boolean
      language plpgsql volatile as $$
      declare
        answer boolean;
        prepared text := 'budget_check_' || md5(query);
      begin
        perform pg_advisory_xact_lock(hashtextextended(k, 0)) from (select unnest(keys) as k order by k) as sorted;
        perform set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true);
        if not exists (select from pg_prepared_statements where name = prepared) then
          execute format('prepare %I(jsonb) as %s', prepared, query);
        end if;
        execute format('execute %I(%L)', prepared, ranges) into answer;
        return answer;
      end $$`)
    .execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql.raw('drop function budget_check_locked(text[], text, jsonb)').execute(db);
}
