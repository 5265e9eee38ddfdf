import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/schema.ts';

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
