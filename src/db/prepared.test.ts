import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../test/helpers/dialects.ts';
import { PreparingClient } from './prepared.ts';

describe('PreparingClient', () => {
  let database: { url: string; drop(): Promise<void> };
  let client: PreparingClient;
  const prepared = async () =>
    (await client.query('select statement from pg_prepared_statements')).rows.map(
      (row: { statement: string }) => row.statement,
    );

  beforeAll(async () => {
    database = await createPostgresDatabase();
    client = new PreparingClient({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('prepares a statement with parameters once the process runs it again, and answers the same', async () => {
    const text = 'select $1::int + 1 as n';
    expect((await client.query(text, [1])).rows).toEqual([{ n: 2 }]);
    expect(await prepared()).toEqual([]);
    expect((await client.query(text, [2])).rows).toEqual([{ n: 3 }]);
    expect((await client.query(text, [3])).rows).toEqual([{ n: 4 }]);
    expect(await prepared()).toEqual([text]);
    // A long list of parameters (a batch's `in (…)`) seldom repeats: it is never prepared.
    const many = Array.from({ length: 40 }, (_, i) => i);
    const list = `select count(*)::int as n from generate_series(1, 100) as g where g in (${many.map((i) => `$${i + 1}::int`).join(', ')})`;
    for (let run = 0; run < 3; run++) expect((await client.query(list, many)).rows).toEqual([{ n: 39 }]);
    expect(await prepared()).toEqual([text]);
  });

  it('runs a statement again, unprepared, when another process changed its columns', async () => {
    await client.query('create table notes (id int, body text)');
    await client.query(`insert into notes values (1, 'one')`);
    const text = 'select * from notes where id = $1';
    await client.query(text, [1]);
    await client.query(text, [1]);
    expect(await prepared()).toContain(text);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    await other.query('alter table notes add column pinned boolean default false');
    await other.end();
    expect((await client.query(text, [1])).rows).toEqual([{ id: 1, body: 'one', pinned: false }]);
    // Inside a transaction the error ends it, as any would; the next transaction prepares afresh.
    await client.query(text, [1]);
    await client.query(text, [1]);
    const another = new pg.Client({ connectionString: database.url });
    await another.connect();
    await another.query('alter table notes add column due bigint');
    await another.end();
    await client.query('begin');
    await expect(client.query(text, [1])).rejects.toThrow(/cached plan must not change result type/);
    await client.query('rollback');
    await client.query('begin');
    expect((await client.query(text, [1])).rows).toEqual([{ id: 1, body: 'one', pinned: false, due: null }]);
    await client.query('commit');
  });
});
