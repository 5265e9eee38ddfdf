import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  type Migration,
  type MigrationResult,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { migrations } from './migrations/index.ts';
import { PreparingClient } from './prepared.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

/** An open database: the Kysely instance, which dialect it speaks, and how to close it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  destroy(): Promise<void>;
}

/** PostgreSQL type OID of `int8`/`bigint`: epoch-ms columns and `count(*)` come back as numbers, not strings. */
const PG_INT8_OID = 20;

/**
 * Opens `sqlite:PATH` (creating the directory; WAL, foreign keys on, busy timeout) or `postgres://…`
 * (a pg Pool of `maxConnections`, default 10 — the service passes `XGATE_DB_POOL_SIZE`; `log` hears about idle connections that fail;
 * statements run again are prepared, see {@link PreparingClient}). Does not migrate:
 * call {@link migrateToLatest}.
 */
export async function createDatabase(
  url: string,
  options: { log?: Logger; maxConnections?: number } = {},
): Promise<DatabaseHandle> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    try {
      await switchToWriteAheadLog(sqlite);
    } catch (error) {
      sqlite.close();
      throw error;
    }
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return { db, dialect: 'sqlite', destroy: () => db.destroy() };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      Client: PreparingClient,
      connectionString: url,
      max: options.maxConnections ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === PG_INT8_OID && format !== 'binary'
            ? (value: string) => Number(value)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle pooled connection can die (server restart, admin termination). The pool drops it and connects
    // again on demand; without this listener the 'error' event would crash the process.
    pool.on('error', (error) => options.log?.warn({ err: error }, 'an idle PostgreSQL connection failed'));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    // Fail fast on a wrong URL rather than on the first request.
    await sql`select 1`.execute(db);
    return { db, dialect: 'postgres', destroy: () => db.destroy() };
  }
  throw new Error(`Unsupported DATABASE_URL ${JSON.stringify(url)}: use sqlite:PATH or postgres://…`);
}

/** How long a SQLite statement waits for another connection's lock before "database is locked". */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * `journal_mode = WAL`, waiting for other processes like every other statement does. The switch upgrades its own
 * read lock to a write lock, and SQLite answers that at once with "database is locked" rather than call the busy
 * handler (two waiting upgraders would deadlock), so two processes opening a new file at the same moment, or one
 * opening it while another migrates, must retry here.
 */
async function switchToWriteAheadLog(sqlite: SQLite.Database): Promise<void> {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    }
  }
}

/** Whether `db` (or a transaction of it) speaks PostgreSQL. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Whether a database error is a unique-constraint violation (PostgreSQL 23505, SQLite's constraint code). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Prepared statements kept per connection, by SQL text (least recently used dropped first). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 as Kysely's SQLite driver sees it, with prepared statements reused: the driver prepares every
 * query it runs, and on the dispatcher's hot path preparing cost about as much as running. Safe because the
 * driver uses its one connection under a mutex (a statement is never run twice at once), and SQLite re-prepares
 * a statement by itself when the schema changes.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text) {
      let statement = statements.get(text);
      if (statement) {
        statements.delete(text);
      } else {
        statement = sqlite.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({
    // biome-ignore lint/suspicious/noExplicitAny: migrations run against the untyped schema of their own time
    db: db as Kysely<any>,
    provider: { getMigrations: async (): Promise<Record<string, Migration>> => migrations },
  });
}

/**
 * Applies every pending migration (in name order); throws if one fails. Safe to run from several processes
 * at once: PostgreSQL serialises them with Kysely's advisory lock; SQLite has no such lock, so a run that lost
 * the race (its transaction rolled back) checks whether the winner applied everything, and otherwise retries.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResult[]> {
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator(db).migrateToLatest();
    if (!error) return results ?? [];
    if ((await pendingMigrations(db)).length === 0) return [];
    if (attempt >= 5) throw error instanceof Error ? error : new Error(String(error));
    // Another process is applying them (SQLite has no migration lock): let it finish before looking again.
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

/** Names of the known migrations that are not applied yet (empty = up to date). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
