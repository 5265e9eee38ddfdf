import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

export type TestDialect = 'sqlite' | 'postgres';

/** The server the PostgreSQL variant uses; override with XGATE_TEST_PG_URL. */
export const TEST_PG_ADMIN_URL =
  process.env.XGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const IN_CI = process.env.CI === 'true';

/** What a dialect suite gets: read `databaseUrl` inside hooks and tests (it exists once `beforeAll` ran). */
export interface DialectContext {
  dialect: TestDialect;
  /** A fresh, empty database for this suite (not migrated: the app migrates on start). */
  readonly databaseUrl: string;
  /** A fresh temporary directory for this suite (data dir, media), removed afterwards. */
  readonly dataDir: string;
}

let pgProbe: Promise<string | null> | null = null;

/** Null when PostgreSQL answers, else the reason it does not. Probed once per test file. */
function probePostgres(): Promise<string | null> {
  pgProbe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return `PostgreSQL unreachable at ${TEST_PG_ADMIN_URL} (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgProbe;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database `xgate_t_<random>` and returns its URL and a drop function. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `xgate_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

/** Makes a temporary directory removed by the returned function. */
export function makeTempDir(prefix = 'xgate-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const pgSkipReason = await probePostgres();

/** The dialects this run covers (XGATE_TEST_DIALECTS, default both). */
const DIALECTS = (['sqlite', 'postgres'] as const).filter((dialect) =>
  (process.env.XGATE_TEST_DIALECTS ?? 'sqlite,postgres').split(',').includes(dialect),
);

/**
 * Declares the suite once per dialect: `name [sqlite]` on a SQLite file in a temp dir and `name [postgres]`
 * on a fresh `xgate_t_<random>` database, dropped afterwards. Without PostgreSQL the postgres variant is
 * skipped with a one-line reason — except with `CI=true`, where it is one failing test. `XGATE_TEST_DIALECTS`
 * (e.g. `sqlite`) keeps only the dialects it lists: .ci/run's second Node.js version runs SQLite only.
 */
export function describeEachDialect(name: string, fn: (ctx: DialectContext) => void): void {
  for (const dialect of DIALECTS) {
    if (dialect === 'postgres' && pgSkipReason !== null) {
      if (IN_CI) {
        describe(`${name} [postgres]`, () => {
          it('needs PostgreSQL (CI=true)', () => {
            throw new Error(`CI=true: ${pgSkipReason}`);
          });
        });
      } else {
        describe.skip(`${name} [postgres] — skipped: ${pgSkipReason}`, () => {
          fn(unusable(dialect));
        });
      }
      continue;
    }
    describe(`${name} [${dialect}]`, () => {
      let databaseUrl = '';
      let dataDir = '';
      let cleanup: (() => Promise<void>) | null = null;
      beforeAll(async () => {
        const temp = makeTempDir();
        dataDir = temp.path;
        if (dialect === 'sqlite') {
          databaseUrl = `sqlite:${join(temp.path, 'xgate.db')}`;
          cleanup = async () => temp.remove();
        } else {
          const database = await createPostgresDatabase();
          databaseUrl = database.url;
          cleanup = async () => {
            await database.drop();
            temp.remove();
          };
        }
      });
      afterAll(async () => {
        await cleanup?.();
      });
      fn({
        dialect,
        get databaseUrl() {
          if (!databaseUrl) throw new Error('databaseUrl is only available inside hooks and tests');
          return databaseUrl;
        },
        get dataDir() {
          if (!dataDir) throw new Error('dataDir is only available inside hooks and tests');
          return dataDir;
        },
      });
    });
  }
}

function unusable(dialect: TestDialect): DialectContext {
  return {
    dialect,
    get databaseUrl(): string {
      throw new Error('skipped');
    },
    get dataDir(): string {
      throw new Error('skipped');
    },
  };
}
