import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGroupCommit, type GroupedExecutor } from '../src/db/group-commit.ts';
import { createDatabase, type DatabaseHandle } from '../src/db/index.ts';
import { makeTempDir } from './helpers/index.ts';

describe('group commit on SQLite', () => {
  const dir = makeTempDir();
  let handle: DatabaseHandle;
  /** A second connection to the same file: it sees only what was committed. */
  let reader: DatabaseHandle;
  beforeAll(async () => {
    handle = await createDatabase(`sqlite:${dir.path}/group.db`);
    reader = await createDatabase(`sqlite:${dir.path}/group.db`);
    await sql`create table notes (id integer primary key, text text not null)`.execute(handle.db);
    await sql`create table parents (id integer primary key)`.execute(handle.db);
    await sql`create table children (id integer primary key,
      parent integer references parents (id) deferrable initially deferred)`.execute(handle.db);
  });
  afterAll(async () => {
    await reader?.destroy();
    await handle?.destroy();
    dir.remove();
  });
  beforeEach(async () => {
    await sql`delete from notes`.execute(handle.db);
  });

  const insert = (db: GroupedExecutor, id: number, text = `note ${id}`) =>
    sql`insert into notes (id, text) values (${id}, ${text})`.execute(db);
  const committed = async () =>
    (await sql<{ id: number }>`select id from notes order by id`.execute(reader.db)).rows.map((r) => r.id);

  it('commits the writes of one turn in one transaction, and answers each caller after the commit', async () => {
    const writes = createGroupCommit(handle.db, 'sqlite');
    const seenBySecond: number[][] = [];
    const results = await Promise.all([
      writes.run(async (db) => {
        await insert(db, 1);
        return 'first';
      }),
      writes.run(async (db) => {
        // Inside the group: the first write is visible here and not yet committed for anyone else.
        const inGroup = await sql<{ id: number }>`select id from notes`.execute(db);
        seenBySecond.push(
          inGroup.rows.map((r) => r.id),
          await committed(),
        );
        await insert(db, 2);
        return 'second';
      }),
    ]);
    expect(results).toEqual(['first', 'second']);
    expect(seenBySecond).toEqual([[1], []]);
    expect(await committed()).toEqual([1, 2]);
  });

  it('rolls back a write that throws and nothing else: it rejects and the others are committed', async () => {
    const writes = createGroupCommit(handle.db, 'sqlite');
    const outcomes = await Promise.allSettled([
      writes.run((db) => insert(db, 1)),
      writes.run(async (db) => {
        await insert(db, 2);
        await insert(db, 1, 'a duplicate key');
      }),
      writes.run((db) => insert(db, 3)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/);
    expect(await committed()).toEqual([1, 3]);
  });

  it('gives each write of a group whose commit fails its own outcome: the others are written alone', async () => {
    const writes = createGroupCommit(handle.db, 'sqlite');
    const outcomes = await Promise.allSettled([
      writes.run((db) => insert(db, 1)),
      // A deferred foreign key is only checked at COMMIT: the group fails there, and so does this write alone.
      writes.run((db) => sql`insert into children (id, parent) values (1, 404)`.execute(db)),
      writes.run((db) => insert(db, 2)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY constraint failed/);
    expect(await committed()).toEqual([1, 2]);
    expect((await sql<{ n: number }>`select count(*) as n from children`.execute(reader.db)).rows[0]!.n).toBe(
      0,
    );
  });

  it('groups the writes requested while a group is committing into the next one', async () => {
    const writes = createGroupCommit(handle.db, 'sqlite');
    const order: string[] = [];
    const first = writes.run(async (db) => {
      await insert(db, 1);
      order.push('first written');
    });
    const later = first.then(() => {
      order.push('first committed');
      return Promise.all([writes.run((db) => insert(db, 2)), writes.run((db) => insert(db, 3))]);
    });
    await later;
    expect(order).toEqual(['first written', 'first committed']);
    expect(await committed()).toEqual([1, 2, 3]);
  });
});
