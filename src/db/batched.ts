import type { Kysely } from 'kysely';
import { isPostgres } from './index.ts';
import type { Database } from './schema.ts';

/** Most inputs one batched statement carries. */
const MAX_BATCH = 256;
/** Times a batch that PostgreSQL chose as a deadlock victim is run again (it was rolled back whole). */
const DEADLOCK_RETRIES = 3;

/**
 * One statement for many callers (PostgreSQL, where every statement is a round trip): the inputs that arrive while
 * the previous batch is in flight go together as the next one, so under load a statement carries many rows and
 * alone it waits for nothing. `run` reads or writes a batch and answers each input, in order; a batch that fails
 * rejects all its callers. A caller's batch always starts after its call, so it reads what was written before.
 */
export function batched<I, O>(run: (inputs: readonly I[]) => Promise<O[]>): (input: I) => Promise<O> {
  let waiting: Array<{ input: I; resolve: (output: O) => void; reject: (error: unknown) => void }> = [];
  /** A batch is in flight or about to start. */
  let busy = false;

  async function next(): Promise<void> {
    const batch = waiting.slice(0, MAX_BATCH);
    waiting = waiting.slice(batch.length);
    try {
      const outputs = await runRetryingDeadlocks(() => run(batch.map((w) => w.input)));
      for (const [i, w] of batch.entries()) w.resolve(outputs[i]!);
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
    if (waiting.length > 0) void next();
    else busy = false;
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      if (busy) return;
      busy = true;
      // After the current microtasks: the callers of this same moment share the first statement too.
      queueMicrotask(() => void next());
    });
}

/**
 * Several rows changed by one statement may be locked in any order (the budget's hourly rows by a trigger), so two
 * processes can deadlock; PostgreSQL then rolls one back with 40P01, and running it again is safe.
 */
async function runRetryingDeadlocks<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: unknown }).code !== '40P01' || attempt > DEADLOCK_RETRIES) throw error;
    }
  }
}

/**
 * A read of one row by key whose concurrent callers share one statement on PostgreSQL ({@link batched}, one batcher
 * per database); on SQLite, and inside a transaction (its own connection), each caller reads alone. `read` answers
 * each key in order.
 */
export function batchedRead<K, V>(
  read: (db: Kysely<Database>, keys: readonly K[]) => Promise<V[]>,
): (db: Kysely<Database>, key: K) => Promise<V> {
  const batchers = new WeakMap<Kysely<Database>, (key: K) => Promise<V>>();
  return async (db, key) => {
    if (db.isTransaction || !isPostgres(db)) return (await read(db, [key]))[0]!;
    let batcher = batchers.get(db);
    if (!batcher) {
      batcher = batched((keys: readonly K[]) => read(db, keys));
      batchers.set(db, batcher);
    }
    return batcher(key);
  };
}

/**
 * {@link batchedRead} of the row whose `keyOf` is the key (a unique column): `select` is given a batch's distinct
 * keys, and each caller gets its row, or undefined.
 */
export function batchedRowByKey<K, R>(
  select: (db: Kysely<Database>, keys: readonly K[]) => Promise<R[]>,
  keyOf: (row: R) => K,
): (db: Kysely<Database>, key: K) => Promise<R | undefined> {
  return batchedRead(async (db, keys: readonly K[]) => {
    const byKey = new Map((await select(db, [...new Set(keys)])).map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key));
  });
}
