import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cli_logins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** sha256 of the device code the CLI polls with (the code itself is never stored). */
    .addColumn('device_code_hash', 'text', (c) => c.notNull().unique())
    /** What the person types or checks in the browser, e.g. `BCDF-GHJK`. */
    .addColumn('user_code', 'text', (c) => c.notNull().unique())
    /** The machine's name, shown on the approval page and given to the API key. */
    .addColumn('name', 'text', (c) => c.notNull())
    /** pending, approved, denied, done. */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cli_logins_expires_idx').on('cli_logins').column('expires_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('cli_logins').execute();
}
