import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { draftRows, scheduledPostRow } from '../src/posts/posts.repository.ts';
import { createApiKey } from '../src/users/api-keys.repository.ts';
import { createUser } from '../src/users/users.repository.ts';
import { accountRow } from '../test/fixtures/accounts.ts';
import { startTestService } from '../test/helpers/service.ts';
import { benchDatabase } from './databases.ts';
import { httpLoad } from './process.ts';
import { profiled } from './profile.ts';

/**
 * `npm run bench -- create`: `POST /api/v1/posts` with CLIENTS clients in flight (in a thread of their own, after a
 * warm-up), `X_TIER=ppu` (the budget checked on every create), with 0, 10,000 and 100,000 posts already scheduled
 * inside the budget windows (spread over the next SPREAD_DAYS days across ACCOUNTS accounts), on SQLite and
 * PostgreSQL. Each measured create is scheduled at a random time in the same days, so it is checked against the full
 * queue.
 *
 * Sizes: XGATE_BENCH_CREATES (per backlog, 2,000), XGATE_BENCH_DIALECTS. XGATE_BENCH_CPU_PROFILE=DIR: a CPU profile
 * of each measured run (this process: the service; the clients' thread is not in it).
 */
const CREATES = Number(process.env.XGATE_BENCH_CREATES ?? 2000);
const CLIENTS = 16;
const WARM_UP = 2000;
const ACCOUNTS = 200;
const SPREAD_DAYS = 20;
const BACKLOGS = (process.env.XGATE_BENCH_BACKLOGS ?? '0,10000,100000').split(',').map(Number);
const DIALECTS = (process.env.XGATE_BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
const DAY = 86_400_000;

async function createRun(dialect: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-create-'));
  const database = await benchDatabase(dialect, dir);
  const service = await startTestService({
    databaseUrl: database.url,
    dataDir: dir,
    env: { X_TIER: 'ppu', XGATE_RATE_LIMIT_API_PER_MINUTE: '0', XGATE_DB_POOL_SIZE: String(CLIENTS) },
  });
  try {
    const { db, tokenSealer } = service.app.deps;
    const now = Date.now();
    const { id: userId } = await createUser(db, now);
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({
      id: randomUUID(),
      xUserId: String(2_000_000 + i),
    }));
    for (let i = 0; i < ACCOUNTS; i += 100) {
      await db
        .insertInto('accounts')
        .values(
          accounts.slice(i, i + 100).map((a, k) =>
            accountRow({
              id: a.id,
              userId,
              xUserId: a.xUserId,
              username: `bench${i + k}`,
              now,
              tokens: {
                sealer: tokenSealer,
                accessToken: 'a',
                refreshToken: 'r',
                expiresAt: now + 7200_000,
                lastRefreshedAt: now,
              },
            }),
          ),
        )
        .execute();
    }
    const { key } = await createApiKey(db, { userId, name: 'bench', now });
    const start = now + 60 * 60_000;
    let scheduled = 0;
    const randomTime = () => start + Math.floor(Math.random() * SPREAD_DAYS * DAY);
    async function fill(to: number) {
      while (scheduled < to) {
        const batch = Array.from({ length: Math.min(500, to - scheduled) }, (_, k) => ({
          id: randomUUID(),
          account: accounts[(scheduled + k) % ACCOUNTS]!,
          at: start + Math.floor(((scheduled + k) / 100_000) * SPREAD_DAYS * DAY),
        }));
        await db
          .insertInto('posts')
          .values(
            batch.map((p) =>
              scheduledPostRow({ id: p.id, userId, accountId: p.account.id, scheduledAt: p.at, now }),
            ),
          )
          .execute();
        await db
          .insertInto('post_items')
          .values(batch.flatMap((p) => draftRows(p.id, [{ text: `queued ${p.id}`, mediaIds: [] }])))
          .execute();
        scheduled += batch.length;
      }
    }
    let sequence = 0;
    const createAll = async (count: number) => {
      const bodies = Array.from({ length: count }, () => {
        const n = sequence++;
        return {
          accountId: accounts[n % ACCOUNTS]!.id,
          items: [{ text: `Benchmark post ${n}` }],
          scheduledAt: randomTime(),
        };
      });
      const load = await httpLoad({
        url: `${service.url}/api/v1/posts`,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        bodies,
        concurrency: CLIENTS,
      });
      if (load.statuses[201] !== count) throw new Error(`creates answered ${JSON.stringify(load.statuses)}`);
      return Math.round(count / (load.elapsedMs / 1000));
    };
    // Warm up (V8 compiles the hot paths, pools fill) before measuring: the figures are the steady state.
    await createAll(WARM_UP);
    const results: Record<string, number> = {};
    for (const backlog of BACKLOGS) {
      await fill(backlog);
      results[`backlog${backlog}`] = await profiled(`create-${dialect}-${backlog}`, () => createAll(CREATES));
    }
    return { clients: CLIENTS, creates: CREATES, postsPerSecond: results };
  } finally {
    await service.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const dialect of DIALECTS) results[dialect] = await createRun(dialect);
  return results;
}
