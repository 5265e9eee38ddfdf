import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, DialectName } from './index.ts';

/** Where a grouped write runs: the group's transaction on SQLite, the pool on PostgreSQL. */
export type GroupedExecutor = Kysely<Database> | Transaction<Database>;

/**
 * Small writes from many callers committed together. On SQLite (one writer, and a commit costs about as much as
 * the writes in it) the writes requested during one turn of the event loop run in one transaction, each in a
 * savepoint of its own, and each caller hears back after the commit: a write that throws is rolled back alone and
 * rejects alone; a failed commit rejects them all (none was written). On PostgreSQL each write runs at once on
 * the pool, whose connections already write in parallel.
 *
 * A write must not open a transaction itself: use {@link atomically} for several statements that go together.
 */
export interface GroupCommit {
  run<T>(write: (db: GroupedExecutor) => Promise<T>): Promise<T>;
}

interface Queued {
  write: (db: GroupedExecutor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit(db: Kysely<Database>, dialect: DialectName): GroupCommit {
  if (dialect === 'postgres') return { run: (write) => write(db) };
  let queued: Queued[] = [];

  async function flush(): Promise<void> {
    const group = queued;
    queued = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const { write } of group) {
          await sql`savepoint grouped`.execute(trx);
          try {
            outcomes.push({ ok: true, value: await write(trx) });
          } catch (error) {
            await sql`rollback to grouped`.execute(trx);
            outcomes.push({ ok: false, error });
          }
          await sql`release grouped`.execute(trx);
        }
      });
    } catch (error) {
      for (const { reject } of group) reject(error);
      return;
    }
    group.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  }

  return {
    run<T>(write: (db: GroupedExecutor) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        // setImmediate runs after this turn's I/O callbacks: the answers X sent meanwhile queue their writes first.
        if (queued.length === 0) setImmediate(() => void flush());
        queued.push({ write, resolve: resolve as (value: unknown) => void, reject });
      });
    },
  };
}

/** Runs `work` in a transaction: `db`'s own when it is one (a grouped write), otherwise a new one. */
export function atomically<T>(
  db: GroupedExecutor,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}
