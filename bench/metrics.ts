import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmulator } from '../emulator/index.ts';
import { connectUser } from '../emulator/testing/connect-user.ts';
import { loadConfig } from '../src/config/index.ts';
import { appendEvents, type NewEvent } from '../src/events/index.ts';
import { HOUR_MS } from '../src/metrics/schedule.ts';
import { createApp } from '../src/server.ts';
import { insertConnectedAccount } from '../test/fixtures/accounts.ts';

/**
 * `npm run bench -- metrics`: the collector over a simulated month. TWEETS tweets (published over the first
 * day, spread across ACCOUNTS accounts) are collected for DAYS simulated days on one clock shared with the
 * emulator, on SQLite: calls to X per tweet snapshot (1/100 = full batches), billed reads per tweet per day (what
 * the emulator bills: at most one per UTC day), the wall time and the peak RSS.
 *
 * Sizes: XGATE_BENCH_TWEETS (default 100,000), XGATE_BENCH_ACCOUNTS (1,000), XGATE_BENCH_DAYS (30).
 */
const TWEETS = Number(process.env.XGATE_BENCH_TWEETS ?? 100_000);
const ACCOUNTS = Number(process.env.XGATE_BENCH_ACCOUNTS ?? 1000);
const DAYS = Number(process.env.XGATE_BENCH_DAYS ?? 30);

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-metrics-'));
  let now = Date.UTC(2026, 10, 1);
  const clock = { now: () => now };
  const emulator = await createEmulator({ now: clock.now, tier: 'unlimited' });
  const url = await emulator.listen({ host: '127.0.0.1', port: 0 });
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'xgate.db')}`,
    XGATE_DATA_DIR: dir,
    XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
    X_CLIENT_ID: 'emulator-test-client',
    X_API_URL: url,
    X_AUTHORIZE_URL: `${url}/i/oauth2/authorize`,
    LOG_LEVEL: 'silent',
    XGATE_METRICS_READS_PER_DAY: '100000000',
    XGATE_METRICS_READS_PER_ACCOUNT_PER_DAY: '1000000',
  });
  const app = await createApp(config, { http: false, worker: false, clock });
  const { db, tokenSealer } = app.deps;
  try {
    // Accounts, and their tweets at the emulator, published over the first day.
    const perAccount = Math.ceil(TWEETS / ACCOUNTS);
    let created = 0;
    for (let a = 0; a < ACCOUNTS && created < TWEETS; a++) {
      const connected = await connectUser(emulator, { username: `m${a}` });
      const { userId, accountId } = await insertConnectedAccount(db, tokenSealer, connected, now);
      const events: NewEvent[] = [];
      for (let t = 0; t < perAccount && created < TWEETS; t++, created++) {
        const at = Date.UTC(2026, 10, 1) + Math.floor((created / TWEETS) * 24 * HOUR_MS);
        const answer = await fetch(`${url}/2/tweets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${connected.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: `bench tweet ${a}/${t}` }),
        });
        const tweetId = ((await answer.json()) as { data: { id: string } }).data.id;
        events.push({
          type: 'post.published',
          userId,
          at,
          data: {
            postId: randomUUID(),
            accountId,
            status: 'published',
            items: [{ position: 0, tweetId, url: '' }],
          },
        });
      }
      await appendEvents(db, events);
    }

    const collector = app.deps.metricsCollector({ accountsPerRound: 64 });
    let peak = process.memoryUsage.rss();
    const started = performance.now();
    const end = now + DAYS * 24 * HOUR_MS;
    while (now < end) {
      now += HOUR_MS;
      while ((await collector.runOnce()) > 0) peak = Math.max(peak, process.memoryUsage.rss());
    }
    const seconds = (performance.now() - started) / 1000;
    const requests = Number(
      (await app.deps.metrics.getSingleMetricAsString('xgate_metrics_reads_total'))
        .split('\n')
        .find((line) => line.includes('kind="request"'))
        ?.split(' ')
        .at(-1) ?? 0,
    );
    const snapshots = await db
      .selectFrom('metric_snapshots')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const billing = emulator.control.billing();
    return {
      tweets: created,
      accounts: ACCOUNTS,
      simulatedDays: DAYS,
      requests,
      snapshots: Number(snapshots.n),
      requestsPerSnapshot: Math.round((requests / Number(snapshots.n)) * 10_000) / 10_000,
      billedReads: billing.chargeCount,
      billedReadsPerTweetPerDay: Math.round((billing.chargeCount / created / DAYS) * 1000) / 1000,
      estimatedUsd: Math.round(billing.totalUsd * 100) / 100,
      seconds: Math.round(seconds * 10) / 10,
      snapshotsPerSecond: Math.round(Number(snapshots.n) / seconds),
      peakRssMb: Math.round(peak / 1024 / 1024),
    };
  } finally {
    await app.stop();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
