import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connectUser } from '../emulator/testing/connect-user.ts';
import { createTokenSealer } from '../src/accounts/sealing.ts';
import { createDatabase, type DatabaseHandle, migrateToLatest } from '../src/db/index.ts';
import { insertPost } from '../src/posts/posts.repository.ts';
import { insertConnectedAccount } from './fixtures/accounts.ts';
import { stopChild } from './helpers/cli.ts';
import { startTestEmulator, type TestEmulator } from './helpers/emulator.ts';
import { budgetHoursDrift, createPostgresDatabase, makeTempDir, TEST_PG_ADMIN_URL } from './helpers/index.ts';

/**
 * The crash test: real `xgate` child processes publish 300 posts (a third of them 3-item threads) due over
 * about 20 s, and are SIGKILLed at random moments at least 10 times, then left to finish. Afterwards X (the
 * emulator's ledger) must hold every item exactly once, threads as contiguous reply chains, nothing may be left
 * `publishing`, and every `needs_review` must be real: its unknown item absent from X, or on X but unconfirmable.
 */

const POSTS = 300;
const ACCOUNTS = 30;
const SPREAD_MS = 20_000;
const KILLS = 10;
const ROOT = join(import.meta.dirname, '..');

interface Scenario {
  emu: TestEmulator;
  handle: DatabaseHandle;
  env: Record<string, string>;
  /** Post id → its item texts, in order. */
  posts: Map<string, string[]>;
  logDir: string;
}

async function prepare(databaseUrl: string, dataDir: string): Promise<Scenario> {
  const emu = await startTestEmulator({ tier: 'unlimited' });
  // Slow creates down so that kills land in the middle of threads; far shorter than the settle time below.
  emu.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'latency', latencyMs: 40 }]);
  const handle = await createDatabase(databaseUrl);
  await migrateToLatest(handle.db);
  const secretKey = randomBytes(32);
  const sealer = createTokenSealer(secretKey);
  const now = Date.now();
  const accounts = [];
  for (let i = 0; i < ACCOUNTS; i += 1) {
    const connected = await connectUser(emu.emulator, { username: `crash${i}` });
    accounts.push(await insertConnectedAccount(handle.db, sealer, connected, now));
  }
  const posts = new Map<string, string[]>();
  const start = now + 2000;
  for (let i = 0; i < POSTS; i += 1) {
    const account = accounts[i % ACCOUNTS]!;
    const texts = i % 3 === 0 ? [1, 2, 3].map((n) => `post ${i} part ${n}/3`) : [`post ${i}`];
    const id = randomUUID();
    await insertPost(handle.db, {
      id,
      userId: account.userId,
      accountId: account.accountId,
      scheduledAt: start + Math.floor((i / POSTS) * SPREAD_MS),
      now,
      items: texts.map((text) => ({ text, mediaIds: [] })),
    });
    posts.set(id, texts);
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    XGATE_DATA_DIR: dataDir,
    XGATE_SECRET_KEY: secretKey.toString('base64'),
    X_CLIENT_ID: 'emulator-test-client',
    X_API_URL: emu.url,
    X_AUTHORIZE_URL: `${emu.url}/i/oauth2/authorize`,
    X_TIER: 'unlimited',
    LOG_LEVEL: 'info',
    XGATE_X_TIMEOUT_MS: '3000',
    XGATE_DISPATCH_LEASE_MS: '2000',
    XGATE_DISPATCH_POLL_MS: '100',
    XGATE_DISPATCH_CONCURRENCY: '16',
    XGATE_PUBLISH_SETTLE_MS: '1000',
  };
  return { emu, handle, env, posts, logDir: dataDir };
}

interface Xgate {
  child: ChildProcess;
  started: Promise<void>;
}

let spawned = 0;
/** Every child still running, so a failing or timed-out test leaves none behind. */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

function startXgate(scenario: Scenario, command: 'serve' | 'worker'): Xgate {
  const child = spawn(process.execPath, [join(ROOT, 'bin/xgate.js'), command], {
    cwd: ROOT,
    env: scenario.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const log = createWriteStream(join(scenario.logDir, `xgate-${command}-${++spawned}.log`));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { child, started: whenStarted(child) };
}

/** Resolves once the child's worker has started (its log says so), it exited, or after `timeoutMs`. */
function whenStarted(child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const onData = (chunk: Buffer) => {
      if (chunk.toString().includes('worker started')) done();
    };
    function done() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve();
    }
    child.stdout?.on('data', onData);
    child.once('exit', done);
  });
}

async function openPosts(handle: DatabaseHandle): Promise<number> {
  const row = await handle.db
    .selectFrom('posts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['scheduled', 'publishing'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function waitUntilDone(handle: DatabaseHandle, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await openPosts(handle)) > 0 && Date.now() < deadline) await sleep(250);
}

async function verify(scenario: Scenario): Promise<{ needsReview: number; published: number }> {
  const { handle, emu, posts } = scenario;
  const ledger = emu.control.tweets();
  const byText = new Map<string, typeof ledger>();
  for (const tweet of ledger) byText.set(tweet.text, [...(byText.get(tweet.text) ?? []), tweet]);

  const rows = await handle.db.selectFrom('posts').select(['id', 'status', 'error_message']).execute();
  const items = await handle.db.selectFrom('post_items').selectAll().orderBy('position').execute();
  expect(rows.filter((r) => r.status === 'publishing' || r.status === 'scheduled')).toEqual([]);
  // The budget's hourly counts followed every write, whatever was killed when.
  expect(await budgetHoursDrift(handle.db)).toEqual([]);
  // One event per final state change, written with it: none missing, none doubled, whatever was killed when.
  const events = await handle.db
    .selectFrom('events')
    .select(['subject_id', 'type', 'data'])
    .orderBy('tx')
    .orderBy('seq')
    .execute();
  const eventsOf = (postId: string) => events.filter((e) => e.subject_id === postId);

  let needsReview = 0;
  let published = 0;
  for (const row of rows) {
    const texts = posts.get(row.id)!;
    const own = items.filter((i) => i.post_id === row.id);
    // Never doubled, whatever the post's status.
    for (const text of texts) expect(byText.get(text)?.length ?? 0, text).toBeLessThanOrEqual(1);
    if (row.status === 'needs_review') {
      needsReview += 1;
      expect(row.error_message).toBeTruthy();
      const unknown = own.filter((i) => i.status === 'unknown');
      expect(unknown).toHaveLength(1);
      expect(eventsOf(row.id).map((e) => e.type)).toEqual(['post.needs_review']);
      continue;
    }
    expect(row.status, `${row.id}: ${row.error_message}`).toBe('published');
    published += 1;
    const ofPost = eventsOf(row.id);
    expect(ofPost.map((e) => e.type)).toEqual(['post.published']);
    expect(JSON.parse(ofPost[0]!.data).items.map((i: { tweetId: string }) => i.tweetId)).toEqual(
      own.map((i) => i.tweet_id),
    );
    let previous: string | null = null;
    for (const [index, text] of texts.entries()) {
      const tweet = byText.get(text)?.[0];
      expect(tweet, text).toBeDefined();
      expect(tweet!.inReplyToTweetId).toBe(previous);
      expect(own[index]!.tweet_id).toBe(tweet!.id);
      previous = tweet!.id;
    }
  }
  return { needsReview, published };
}

function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}

const pgAvailable = await postgresAvailable();

describe('crash test: SIGKILLed xgate processes never lose or double a tweet', () => {
  it('`xgate serve` on SQLite, killed at random moments at least 10 times', async () => {
    const temp = makeTempDir('xgate-crash-');
    const scenario = await prepare(`sqlite:${join(temp.path, 'xgate.db')}`, temp.path);
    try {
      let kills = 0;
      let child = startXgate(scenario, 'serve');
      while (kills < KILLS) {
        await child.started;
        await sleep(randomBetween(100, 1000));
        await stopChild(child.child, 'SIGKILL');
        kills += 1;
        if (process.env.XGATE_CRASH_DEBUG)
          console.error(Date.now(), 'kill', kills, await openPosts(scenario.handle));
        child = startXgate(scenario, 'serve');
      }
      await waitUntilDone(scenario.handle, 40_000);
      if (process.env.XGATE_CRASH_DEBUG) console.error(Date.now(), 'done', await openPosts(scenario.handle));
      await stopChild(child.child, 'SIGTERM');
      const outcome = await verify(scenario);
      expect(kills).toBeGreaterThanOrEqual(KILLS);
      expect(outcome.published + outcome.needsReview).toBe(POSTS);
    } finally {
      await scenario.handle.destroy();
      await scenario.emu.stop();
      temp.remove();
    }
  }, 120_000);

  it.skipIf(process.env.CI !== 'true' && !pgAvailable)(
    'three `xgate worker` processes on PostgreSQL, killed in turn',
    async () => {
      const temp = makeTempDir('xgate-crash-pg-');
      const database = await createPostgresDatabase();
      const scenario = await prepare(database.url, temp.path);
      try {
        const workers = [0, 1, 2].map(() => startXgate(scenario, 'worker'));
        let kills = 0;
        while (kills < KILLS) {
          const victim = kills % workers.length;
          await workers[victim]!.started;
          await sleep(randomBetween(100, 1000));
          await stopChild(workers[victim]!.child, 'SIGKILL');
          kills += 1;
          if (process.env.XGATE_CRASH_DEBUG)
            console.error(Date.now(), 'kill', kills, await openPosts(scenario.handle));
          workers[victim] = startXgate(scenario, 'worker');
        }
        await waitUntilDone(scenario.handle, 40_000);
        if (process.env.XGATE_CRASH_DEBUG)
          console.error(Date.now(), 'done', await openPosts(scenario.handle));
        await Promise.all(workers.map((w) => stopChild(w.child, 'SIGTERM')));
        const outcome = await verify(scenario);
        expect(kills).toBeGreaterThanOrEqual(KILLS);
        expect(outcome.published + outcome.needsReview).toBe(POSTS);
      } finally {
        await scenario.handle.destroy();
        await scenario.emu.stop();
        await database.drop();
        temp.remove();
      }
    },
    120_000,
  );
});

async function postgresAvailable(): Promise<boolean> {
  const pg = await import('pg');
  const client = new pg.default.Client({
    connectionString: TEST_PG_ADMIN_URL,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
