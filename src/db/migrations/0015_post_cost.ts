import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // What X will bill for the post (estimated from the price table when it was scheduled or changed).
  await db.schema
    .alterTable('posts')
    .addColumn('estimated_cost_usd', 'double precision', (c) => c.notNull().defaultTo(0))
    .execute();
  // The URLs of the first item were moved into a reply to it (cheaper at X).
  await db.schema
    .alterTable('posts')
    .addColumn('link_in_reply', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('posts').dropColumn('link_in_reply').execute();
  await db.schema.alterTable('posts').dropColumn('estimated_cost_usd').execute();
}
