import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { batched, batchedRead } from './batched.ts';
import type { Database } from './schema.ts';

/** A statement the test answers by hand: each call is one batch. */
function manualStatement() {
  const batches: Array<{ inputs: readonly number[]; answer(error?: unknown): void }> = [];
  const write = batched<number, string>(
    (inputs) =>
      new Promise((resolve, reject) => {
        batches.push({
          inputs,
          answer: (error) => (error ? reject(error) : resolve(inputs.map((i) => `row ${i}`))),
        });
      }),
  );
  return { write, batches };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('batched', () => {
  it('sends the callers of one moment together, and those that come while it is in flight as the next batch', async () => {
    const { write, batches } = manualStatement();
    const first = [write(1), write(2)];
    await settle();
    const second = [write(3), write(4), write(5)];
    await settle();
    expect(batches.map((b) => b.inputs)).toEqual([[1, 2]]);
    batches[0]!.answer();
    expect(await Promise.all(first)).toEqual(['row 1', 'row 2']);
    await settle();
    expect(batches.map((b) => b.inputs)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    batches[1]!.answer();
    expect(await Promise.all(second)).toEqual(['row 3', 'row 4', 'row 5']);
  });

  it('rejects every caller of a failed batch, and runs the next one', async () => {
    const { write, batches } = manualStatement();
    const failed = [write(1), write(2)].map((p) => p.catch((error: Error) => error.message));
    await settle();
    const later = write(3);
    batches[0]!.answer(new Error('connection lost'));
    expect(await Promise.all(failed)).toEqual(['connection lost', 'connection lost']);
    await settle();
    batches[1]!.answer();
    expect(await later).toBe('row 3');
  });

  it('runs a batch again when PostgreSQL rolled it back as a deadlock victim', async () => {
    const { write, batches } = manualStatement();
    const result = write(7);
    await settle();
    batches[0]!.answer(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    await settle();
    expect(batches.map((b) => b.inputs)).toEqual([[7], [7]]);
    batches[1]!.answer();
    expect(await result).toBe('row 7');
  });
});

describe('batchedRead', () => {
  // Dialects that are never connected: the read below answers from memory.
  const postgres = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as Pool }) });
  const sqlite = new Kysely<Database>({ dialect: new SqliteDialect({ database: {} as never }) });

  function recordedRead() {
    const batches: Array<readonly string[]> = [];
    const read = batchedRead(async (_db, keys: readonly string[]) => {
      batches.push(keys);
      return keys.map((key) => (key === 'missing' ? undefined : `row ${key}`));
    });
    return { read, batches };
  }

  it('answers the reads of one moment on PostgreSQL with one statement, each with its own row', async () => {
    const { read, batches } = recordedRead();
    expect(await Promise.all(['a', 'missing', 'b'].map((key) => read(postgres, key)))).toEqual([
      'row a',
      undefined,
      'row b',
    ]);
    expect(batches).toEqual([['a', 'missing', 'b']]);
  });

  it('reads alone on SQLite (one connection, nothing to save)', async () => {
    const { read, batches } = recordedRead();
    await Promise.all(['a', 'b'].map((key) => read(sqlite, key)));
    expect(batches).toEqual([['a'], ['b']]);
  });
});
