import type { Kysely, Transaction } from 'kysely';
import type { Database, DialectName } from './index.ts';

/** Where a grouped write runs: the group's transaction on SQLite, the pool on PostgreSQL. */
export type GroupedExecutor = Kysely<Database> | Transaction<Database>;

/**
 * Small writes from many callers committed together. On SQLite (one writer, and a commit costs about as much as
 * the writes in it) the writes requested during one turn of the event loop run in one transaction, and each caller
 * hears back after the commit. Should one of them throw, or the commit fail, that transaction is rolled back and
 * each write of the group runs again alone, in a transaction of its own, so every caller gets its own outcome: a
 * write may therefore run twice, and must only touch the database. On PostgreSQL each write runs at once on the
 * pool, whose connections already write in parallel.
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
    let values: unknown[];
    try {
      values = await db.transaction().execute(async (trx) => {
        const written: unknown[] = [];
        for (const { write } of group) written.push(await write(trx));
        return written;
      });
    } catch (error) {
      // Rolled back: nothing of the group was written. Each write again alone, to give each its own outcome.
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const { write, resolve, reject } of group) {
        db.transaction().execute(write).then(resolve, reject);
      }
      return;
    }
    group.forEach(({ resolve }, i) => {
      resolve(values[i]);
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
