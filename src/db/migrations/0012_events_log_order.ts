import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Readers of the whole log (the metrics collector) walk it in (tx, seq) order across users.
  await db.schema.createIndex('events_log_order_idx').on('events').columns(['tx', 'seq']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_log_order_idx').execute();
}
