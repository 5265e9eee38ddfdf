import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { createEmulator } from '../emulator/index.ts';
import { type ConnectedUser, connectUser } from '../emulator/testing/connect-user.ts';
import { createTokenSealer, type TokenSealer } from '../src/accounts/sealing.ts';
import { loadConfig } from '../src/config/index.ts';
import { createDatabase, type Database, migrateToLatest } from '../src/db/index.ts';
import type { AppDeps } from '../src/deps.ts';
import { draftRows, scheduledPostRow } from '../src/posts/posts.repository.ts';
import { createApp } from '../src/server.ts';
import { createWorker } from '../src/worker.ts';
import { accountRow } from '../test/fixtures/accounts.ts';
import { freePort } from '../test/helpers/ports.ts';
import { bullmqRun, redisAvailable } from './bullmq-baseline.ts';
import { benchDatabase } from './databases.ts';
import { commandCpuMeter, cpuMeter } from './process.ts';
import { profiled } from './profile.ts';

/**
 * `npm run bench -- dispatch`: how fast the dispatcher publishes, on SQLite and PostgreSQL.
 *
 * 20,000 posts over 2,000 accounts, all due at the same instant, published through the emulator (tier
 * `unlimited`, in this process): posts per second, p50/p99 lateness, peak RSS; then a bare loop posting the same
 * number of tweets straight to the emulator with the same concurrency and no database → ratio. Then the idle RSS
 * of a real `xgate serve` holding 1,000,000 scheduled posts (SQLite), started with the node flags of `npm start`.
 * `npm run bench` runs this process with those flags too, so the dispatcher is measured as the service runs it.
 *
 * Sizes: XGATE_BENCH_POSTS, XGATE_BENCH_ACCOUNTS, XGATE_BENCH_CONCURRENCY, XGATE_BENCH_IDLE_POSTS,
 * XGATE_BENCH_DIALECTS (`sqlite,postgres`); PostgreSQL at XGATE_TEST_PG_URL (default postgres@127.0.0.1:5432);
 * XGATE_BENCH_CPU_PROFILE=DIR writes a CPU profile of each dispatcher run (see bench/profile.ts).
 */
const POSTS = Number(process.env.XGATE_BENCH_POSTS ?? 20_000);
const ACCOUNTS = Number(process.env.XGATE_BENCH_ACCOUNTS ?? 2000);
const CONCURRENCY = Number(process.env.XGATE_BENCH_CONCURRENCY ?? 32);
const IDLE_POSTS = Number(process.env.XGATE_BENCH_IDLE_POSTS ?? 1_000_000);
const DIALECTS = (process.env.XGATE_BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
const SPREAD_POSTS = Number(process.env.XGATE_BENCH_SPREAD_POSTS ?? 8000);
const SPREAD_SECONDS = Number(process.env.XGATE_BENCH_SPREAD_SECONDS ?? 60);
const ROOT = join(import.meta.dirname, '..');
/** How `npm start` and the `xgate` command start node (bin/xgate.js's shebang): the idle RSS is measured the same way. */
const SERVE_NODE_FLAGS = ['--max-semi-space-size=2'];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

const perPost = (ms: number, posts: number) => Number((ms / Math.max(1, posts)).toFixed(3));

/** Samples this process's RSS until stopped; returns the peak. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export async function insertAccounts(
  db: Kysely<Database>,
  sealer: TokenSealer,
  users: ConnectedUser[],
  now: number,
): Promise<{ userId: string; accountId: string }[]> {
  const userId = randomUUID();
  await db.insertInto('users').values({ id: userId, created_at: now }).execute();
  const accounts = users.map((user) => ({ user, accountId: randomUUID() }));
  for (let i = 0; i < accounts.length; i += 500) {
    await db
      .insertInto('accounts')
      .values(
        accounts.slice(i, i + 500).map(({ user, accountId }) =>
          accountRow({
            id: accountId,
            userId,
            xUserId: user.userId,
            username: user.username,
            now,
            tokens: {
              sealer,
              accessToken: user.accessToken,
              refreshToken: user.refreshToken,
              expiresAt: now + 7200 * 1000,
              lastRefreshedAt: now,
            },
          }),
        ),
      )
      .execute();
  }
  return accounts.map((a) => ({ userId, accountId: a.accountId }));
}

export async function insertPosts(
  db: Kysely<Database>,
  accounts: { userId: string; accountId: string }[],
  count: number,
  dueAt: number | ((i: number) => number),
  text: (i: number) => string,
): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const rows = Array.from({ length: Math.min(500, count - start) }, (_, k) => {
      const i = start + k;
      const account = accounts[i % accounts.length]!;
      return { id: randomUUID(), i, account };
    });
    await db
      .insertInto('posts')
      .values(
        rows.map(({ id, i, account }) => {
          const at = typeof dueAt === 'number' ? dueAt : dueAt(i);
          return scheduledPostRow({
            id,
            userId: account.userId,
            accountId: account.accountId,
            scheduledAt: at,
            now: at,
          });
        }),
      )
      .execute();
    await db
      .insertInto('post_items')
      .values(rows.flatMap(({ id, i }) => draftRows(id, [{ text: text(i), mediaIds: [] }])))
      .execute();
  }
}

/**
 * The services the worker runs on a fresh database of `dialect`, built by the one composition (no HTTP, no worker
 * loops: the benchmark drives the dispatcher). One connection per account in flight: each item's commits wait on
 * PostgreSQL's WAL flush.
 */
async function benchApp(dialect: string, emulatorUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-dispatch-'));
  const { url, drop } = await benchDatabase(dialect, dir);
  const app = await createApp(
    loadConfig({
      DATABASE_URL: url,
      XGATE_DATA_DIR: dir,
      XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
      X_CLIENT_ID: 'emulator-test-client',
      X_API_URL: emulatorUrl,
      X_AUTHORIZE_URL: `${emulatorUrl}/i/oauth2/authorize`,
      X_TIER: 'unlimited',
      XGATE_DB_POOL_SIZE: String(CONCURRENCY),
      LOG_LEVEL: 'silent',
    }),
    { http: false, worker: false },
  );
  const close = async () => {
    await app.stop();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { app, close };
}

/**
 * Lateness under capacity: SPREAD_POSTS posts due evenly over SPREAD_SECONDS (from a few seconds ahead), published
 * by the dispatcher as the worker runs it (its idle pause included): how late each was published (`published_at -
 * scheduled_at`, so X's answer time included).
 */
export async function latenessRun(dialect: string, emulatorUrl: string, users: ConnectedUser[]) {
  const runId = randomBytes(3).toString('hex');
  const { app, close } = await benchApp(dialect, emulatorUrl);
  const { db, clock } = app.deps;
  try {
    const accounts = await insertAccounts(db, app.deps.tokenSealer, users, clock.now());
    const start = clock.now() + 10_000;
    const spacing = (SPREAD_SECONDS * 1000) / SPREAD_POSTS;
    await insertPosts(
      db,
      accounts,
      SPREAD_POSTS,
      (i) => start + Math.floor(i * spacing),
      (i) => `${dialect} spread ${i} (${runId})`,
    );
    const worker = createWorker(
      [app.deps.dispatcher({ concurrency: CONCURRENCY, batchSize: CONCURRENCY * 4 })],
      app.deps.log,
    );
    worker.start();
    const published = () =>
      db
        .selectFrom('posts')
        .select(['published_at', 'scheduled_at'])
        .where('status', '=', 'published')
        .execute();
    const deadline = start + SPREAD_SECONDS * 1000 + 60_000;
    let rows = await published();
    while (rows.length < SPREAD_POSTS && clock.now() < deadline) {
      await sleep(1000);
      rows = await published();
    }
    await worker.stop();
    const lateness = rows.map((r) => r.published_at! - r.scheduled_at).sort((a, b) => a - b);
    return {
      posts: SPREAD_POSTS,
      overSeconds: SPREAD_SECONDS,
      published: rows.length,
      latenessP50Ms: percentile(lateness, 50),
      latenessP99Ms: percentile(lateness, 99),
      latenessMaxMs: lateness.at(-1) ?? null,
    };
  } finally {
    await close();
  }
}

/** Work run beside the dispatcher (e.g. webhook deliveries): started before it, stopped after, with its figures. */
export type Alongside = (deps: AppDeps) => Promise<{ stop(): Promise<Record<string, unknown>> }>;

/**
 * Publishes `posts` posts with the dispatcher on one dialect (with `alongside` running in the same process when
 * given), then the bare loop; returns the figures.
 */
export async function dispatchRun(
  dialect: string,
  emulatorUrl: string,
  users: ConnectedUser[],
  options: { posts?: number; alongside?: Alongside } = {},
) {
  const posts = options.posts ?? POSTS;
  // X refuses duplicate text: every run's tweets are its own.
  const runId = randomBytes(3).toString('hex');
  const { app, close } = await benchApp(dialect, emulatorUrl);
  const { db, x, clock } = app.deps;
  try {
    const accounts = await insertAccounts(db, app.deps.tokenSealer, users, clock.now());
    const dueAt = clock.now();
    await insertPosts(db, accounts, posts, dueAt, (i) => `${dialect} dispatched ${i} (${runId})`);
    const beside = options.alongside ? await options.alongside(app.deps) : null;

    const dispatcher = app.deps.dispatcher({
      concurrency: CONCURRENCY,
      batchSize: CONCURRENCY * 4,
      pollMs: 50,
    });
    const rss = rssSampler();
    const started = performance.now();
    const cpu = cpuMeter();
    const postgresCpu = commandCpuMeter('postgres');
    await profiled(`dispatch-${dialect}`, () => dispatcher.runOnce(new AbortController().signal));
    const cpuMs = cpu.stop();
    const postgresCpuMs = postgresCpu.stop();
    const seconds = (performance.now() - started) / 1000;
    const peakRss = rss.stop();
    const besideFigures = beside ? await beside.stop() : null;
    const rows = await db.selectFrom('posts').select(['status', 'published_at', 'scheduled_at']).execute();
    const published = rows.filter((r) => r.status === 'published');
    const lateness = published.map((r) => (r.published_at! - r.scheduled_at) / 1000).sort((a, b) => a - b);

    // The same tweets with the same concurrency straight to the emulator: no database, no vault, no claims.
    const tokens = users.map((user) => user.accessToken);
    let next = 0;
    const bareStarted = performance.now();
    const bareCpu = cpuMeter();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < posts; i = next++) {
          await x
            .forToken(tokens[i % tokens.length]!)
            .createTweet({ text: `${dialect} bare ${i} (${runId})` });
        }
      }),
    );
    const bareSeconds = (performance.now() - bareStarted) / 1000;
    const bareCpuMs = bareCpu.stop();
    // The same tweets through the BullMQ publisher a user would otherwise write (skipped without Redis).
    const bullmq = (await redisAvailable())
      ? await bullmqRun(x, tokens, { posts, concurrency: CONCURRENCY, label: `${dialect}-${runId}` })
      : null;
    const rate = published.length / seconds;
    const bareRate = posts / bareSeconds;
    return {
      posts,
      accounts: users.length,
      concurrency: CONCURRENCY,
      published: published.length,
      seconds: Number(seconds.toFixed(2)),
      postsPerSecond: Math.round(rate),
      latenessP50Seconds: Number(percentile(lateness, 50).toFixed(2)),
      latenessP99Seconds: Number(percentile(lateness, 99).toFixed(2)),
      peakRssMb: mb(peakRss),
      cpuMsPerPost: perPost(cpuMs, published.length),
      ...(dialect === 'postgres' &&
        postgresCpuMs !== null && { postgresCpuMsPerPost: perPost(postgresCpuMs, published.length) }),
      bareLoopPostsPerSecond: Math.round(bareRate),
      bareLoopCpuMsPerPost: perPost(bareCpuMs, posts),
      ratio: Number((rate / bareRate).toFixed(2)),
      bullmqPostsPerSecond: bullmq ? bullmq.postsPerSecond : 'skipped: no Redis at 127.0.0.1:6379',
      ...(bullmq && { bullmqCpuMsPerPost: perPost(bullmq.cpuMs, posts) }),
      ...(bullmq?.redisCpuMs != null && { bullmqRedisCpuMsPerPost: perPost(bullmq.redisCpuMs, posts) }),
      ...(bullmq && { vsBullmq: Number((rate / bullmq.postsPerSecond).toFixed(2)) }),
      ...(besideFigures && { alongside: besideFigures }),
    };
  } finally {
    await close();
  }
}

/** Fills a SQLite file with `count` far-future scheduled posts using one prepared statement per table. */
function bulkInsertScheduled(
  file: string,
  account: { userId: string; accountId: string },
  count: number,
): void {
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  const post = sqlite.prepare(
    `insert into posts (id, user_id, account_id, status, scheduled_at, created_at, updated_at, attempts, next_attempt_at)
     values (?, ?, ?, 'scheduled', ?, ?, ?, 0, ?)`,
  );
  const item = sqlite.prepare(
    `insert into post_items (post_id, position, text, media_ids, status) values (?, 0, ?, '[]', 'pending')`,
  );
  const now = Date.now();
  const future = now + 30 * 24 * 3600 * 1000;
  const batch = sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const id = randomUUID();
      const at = future + i * 1000;
      post.run(id, account.userId, account.accountId, at, now, now, at);
      item.run(id, `scheduled post number ${i}`);
    }
  });
  for (let i = 0; i < count; i += 50_000) batch(i, Math.min(count, i + 50_000));
  sqlite.close();
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** Starts `xgate serve` over a SQLite file holding IDLE_POSTS scheduled posts and reads its settled RSS. */
async function idleRun(emulatorUrl: string, user: ConnectedUser) {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-idle-'));
  const file = join(dir, 'xgate.db');
  const secretKey = randomBytes(32);
  let child: ChildProcess | null = null;
  try {
    const handle = await createDatabase(`sqlite:${file}`);
    await migrateToLatest(handle.db);
    const [account] = await insertAccounts(handle.db, createTokenSealer(secretKey), [user], Date.now());
    await handle.destroy();
    const insertStarted = performance.now();
    bulkInsertScheduled(file, account!, IDLE_POSTS);
    const insertSeconds = (performance.now() - insertStarted) / 1000;
    child = spawn(process.execPath, [...SERVE_NODE_FLAGS, join(ROOT, 'bin/xgate.js'), 'serve'], {
      cwd: ROOT,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: `sqlite:${file}`,
        XGATE_DATA_DIR: dir,
        XGATE_SECRET_KEY: secretKey.toString('base64'),
        X_CLIENT_ID: 'emulator-test-client',
        X_API_URL: emulatorUrl,
        X_AUTHORIZE_URL: `${emulatorUrl}/i/oauth2/authorize`,
        LOG_LEVEL: 'warn',
      },
    });
    // Let it start, claim nothing (nothing is due), and run its loops for a while.
    let rss = 0;
    for (let second = 0; second < 15; second += 1) {
      await sleep(1000);
      if (child.exitCode !== null) throw new Error(`xgate serve exited with ${child.exitCode}`);
      rss = rssOf(child.pid!);
    }
    return {
      scheduledPosts: IDLE_POSTS,
      bulkInsertSeconds: Number(insertSeconds.toFixed(1)),
      idleRssMb: mb(rss),
      nodeFlags: SERVE_NODE_FLAGS.join(' '),
    };
  } finally {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Users with tokens are made in-process (the OAuth flow through `inject`), saved in a state file, and served by a
 * real `xgate emulator` child process: the emulator gets its own process, as X is a separate system, and the
 * dispatcher and the bare loop are measured against the same server.
 */
export async function startEmulatorProcess(
  dir: string,
  accounts = ACCOUNTS,
): Promise<{ url: string; users: ConnectedUser[]; stop(): void }> {
  const statePath = join(dir, 'emulator-state.json');
  const seed = await createEmulator({ tier: 'unlimited', statePath });
  await seed.listen({ host: '127.0.0.1', port: 0 });
  const users: ConnectedUser[] = [];
  for (let i = 0; i < accounts; i += 1) users.push(await connectUser(seed, { username: `bench${i}` }));
  await seed.close();
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/xgate.js'),
      'emulator',
      '--port',
      String(port),
      '--tier',
      'unlimited',
      '--state',
      statePath,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`xgate emulator exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve();
    });
  });
  child.stdout?.resume();
  return { url: `http://127.0.0.1:${port}`, users, stop: () => child.kill('SIGTERM') };
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-emulator-'));
  const emulator = await startEmulatorProcess(dir);
  try {
    const results: Record<string, unknown> = {};
    // Lateness first: the emulator writes its whole state file now and then, and with the bursts' tweets in it
    // those writes stall it for long enough to show up in a lateness measured in milliseconds.
    for (const dialect of DIALECTS)
      results[`${dialect}UnderCapacity`] =
        SPREAD_POSTS > 0
          ? await latenessRun(dialect, emulator.url, emulator.users)
          : 'skipped (XGATE_BENCH_SPREAD_POSTS=0)';
    for (const dialect of DIALECTS)
      results[dialect] = await dispatchRun(dialect, emulator.url, emulator.users);
    results.idle =
      IDLE_POSTS > 0 ? await idleRun(emulator.url, emulator.users[0]!) : 'skipped (XGATE_BENCH_IDLE_POSTS=0)';
    return results;
  } finally {
    emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
