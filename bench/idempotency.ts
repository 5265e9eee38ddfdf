import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createApiKey } from '../src/users/api-keys.repository.ts';
import { createUser } from '../src/users/users.repository.ts';
import { makeAccount } from '../test/fixtures/accounts.ts';
import { startTestService } from '../test/helpers/service.ts';

/** Creates per mode, split over ROUNDS alternating rounds (override with XGATE_BENCH_IDEMPOTENCY_CREATES). */
const CREATES = Number(process.env.XGATE_BENCH_IDEMPOTENCY_CREATES ?? 1000);
const ROUNDS = 6;
/** Requests in flight at once. */
const CONCURRENCY = 4;
/** Sequential creates whose row changes are counted, per mode. */
const COUNTED = 20;

/**
 * `POST /api/v1/posts` throughput with and without an Idempotency-Key, in one run against one service
 * (SQLite, in-process, no worker; posts scheduled a week ahead so nothing publishes). The two modes
 * alternate in rounds (ABBA) so drift (warm-up, growing tables) hits both alike. Also counts the rows each
 * create writes (SQLite `total_changes()`), to show what a key adds.
 */
export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-idempotency-'));
  const service = await startTestService({
    databaseUrl: `sqlite:${join(dir, 'bench.db')}`,
    dataDir: dir,
    // The benchmark measures creates, not the per-key request limit.
    env: { X_TIER: 'unlimited', XGATE_RATE_LIMIT_API_PER_MINUTE: '0' },
  });
  try {
    const { url } = service;
    const { db } = service.app.deps;
    const now = Date.now();
    const { id: userId } = await createUser(db, now);
    const { id: accountId } = await makeAccount({ db, clock: { now: () => now } }, userId, {
      xUserId: '1000000001',
      username: 'bench',
    });
    const { key: apiKey } = await createApiKey(db, { userId, name: 'bench', now });
    const scheduledAt = now + 7 * 24 * 3600_000;

    let sequence = 0;
    async function create(withKey: boolean): Promise<void> {
      const n = sequence++;
      const headers: Record<string, string> = {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
      };
      if (withKey) headers['idempotency-key'] = `bench-${n}`;
      const answer = await fetch(`${url}/api/v1/posts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ accountId, items: [{ text: `Benchmark post ${n}` }], scheduledAt }),
      });
      if (answer.status !== 201) throw new Error(`create answered ${answer.status}: ${await answer.text()}`);
      await answer.arrayBuffer();
    }

    const cpuMicros = { withKey: 0, withoutKey: 0 };
    async function timed(count: number, withKey: boolean): Promise<number> {
      const cpu = process.cpuUsage();
      const started = performance.now();
      let issued = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (issued < count) {
            issued += 1;
            await create(withKey);
          }
        }),
      );
      const used = process.cpuUsage(cpu);
      cpuMicros[withKey ? 'withKey' : 'withoutKey'] += used.user + used.system;
      return (performance.now() - started) / 1000;
    }

    const changes = async () =>
      Number((await sql<{ n: number }>`select total_changes() as n`.execute(db)).rows[0]?.n ?? 0);
    async function rowsWrittenPerCreate(withKey: boolean): Promise<number> {
      const before = await changes();
      for (let i = 0; i < COUNTED; i += 1) await create(withKey);
      return ((await changes()) - before) / COUNTED;
    }

    await timed(50, false);
    await timed(50, true);
    const perRound = Math.max(1, Math.floor(CREATES / ROUNDS));
    cpuMicros.withKey = 0;
    cpuMicros.withoutKey = 0;
    let withoutSeconds = 0;
    let withSeconds = 0;
    // ABBA order: neither mode always runs on the bigger table.
    for (let round = 0; round < ROUNDS; round += 1) {
      if (round % 2 === 0) {
        withoutSeconds += await timed(perRound, false);
        withSeconds += await timed(perRound, true);
      } else {
        withSeconds += await timed(perRound, true);
        withoutSeconds += await timed(perRound, false);
      }
    }
    const withoutKeyPerSecond = (perRound * ROUNDS) / withoutSeconds;
    const withKeyPerSecond = (perRound * ROUNDS) / withSeconds;
    const rowsWithout = await rowsWrittenPerCreate(false);
    const rowsWith = await rowsWrittenPerCreate(true);

    return {
      database: 'sqlite',
      createsPerMode: perRound * ROUNDS,
      concurrency: CONCURRENCY,
      withoutKeyPerSecond: Math.round(withoutKeyPerSecond),
      withKeyPerSecond: Math.round(withKeyPerSecond),
      overhead: `${(((withoutKeyPerSecond - withKeyPerSecond) / withoutKeyPerSecond) * 100).toFixed(1)}%`,
      // CPU of this process (service and client alike) per create: steadier than wall time on a busy machine.
      cpuMsPerCreate: {
        withoutKey: Number((cpuMicros.withoutKey / 1000 / (perRound * ROUNDS)).toFixed(2)),
        withKey: Number((cpuMicros.withKey / 1000 / (perRound * ROUNDS)).toFixed(2)),
      },
      rowWritesPerCreate: { withoutKey: rowsWithout, withKey: rowsWith },
      keyWrites:
        'one INSERT of the key row inside the create transaction (indexed: primary key + expires_at), then one UPDATE of that row by primary key storing the answer (no indexed column changes)',
    };
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
