import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

/** The PostgreSQL the benchmarks create their databases in (the tests' default). */
const PG_ADMIN_URL = process.env.XGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of `dialect` for one benchmark run: a SQLite file in `dir`, or a new PostgreSQL one. */
export async function benchDatabase(
  dialect: string,
  dir: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect !== 'postgres') return { url: `sqlite:${join(dir, 'xgate.db')}`, drop: async () => {} };
  const name = `xgate_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const target = new URL(PG_ADMIN_URL);
  target.pathname = `/${name}`;
  return { url: target.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}
