import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { createDatabase, type Database, migrateToLatest } from '../src/db/index.ts';
import { appendEvents, type NewEvent } from '../src/events/index.ts';
import { createWebhookSealer, WebhooksService } from '../src/webhooks/index.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../test/helpers/webhook-receiver.ts';
import { benchDatabase } from './databases.ts';
import { dispatchRun, startEmulatorProcess } from './dispatch.ts';
import { spawnUntil } from './process.ts';

/**
 * `npm run bench -- webhooks`: EVENTS events to ENDPOINTS endpoints (one user each, a local receiver answering
 * 200 at once), delivered by 1 and by 3 `xgate worker` processes on PostgreSQL: all at once (a backlog: events
 * delivered per second, and the delay from an event's commit to its delivery, p50/p99), then a steady 200 events/s
 * for 10 s (the delay when under capacity). Then the dispatcher's rate (PostgreSQL, in one
 * process) alone and while a webhook deliverer in the same process delivers EVENTS events.
 *
 * Sizes: XGATE_BENCH_WEBHOOK_EVENTS (10,000), XGATE_BENCH_WEBHOOK_ENDPOINTS (100),
 * XGATE_BENCH_WEBHOOK_POSTS (posts for the dispatcher comparison, 5,000).
 */
const EVENTS = Number(process.env.XGATE_BENCH_WEBHOOK_EVENTS ?? 10_000);
const ENDPOINTS = Number(process.env.XGATE_BENCH_WEBHOOK_ENDPOINTS ?? 100);
const POSTS = Number(process.env.XGATE_BENCH_WEBHOOK_POSTS ?? 5000);
/** Events per second of the steady phase (a multiple of 10). */
const STEADY_RATE = 200;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** ENDPOINTS users, each with one endpoint at `<receiver>/<n>`; returns the user ids. */
async function seedEndpoints(
  db: Kysely<Database>,
  secretKey: Buffer,
  receiver: WebhookReceiver,
): Promise<string[]> {
  const clock = { now: () => Date.now() };
  const service = new WebhooksService({
    db,
    clock,
    sealer: createWebhookSealer(secretKey),
    allowPrivate: true,
    maxPerUser: 1,
  });
  const users: string[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const id = randomUUID();
    await db.insertInto('users').values({ id, created_at: clock.now() }).execute();
    await service.create(id, { url: `${receiver.url}/${i}` });
    users.push(id);
  }
  return users;
}

/** `count` events spread over the users, appended `batch` per transaction, `pauseMs` apart. */
async function appendLoad(
  db: Kysely<Database>,
  users: readonly string[],
  { count = EVENTS, batch: size = 500, pauseMs = 0 } = {},
): Promise<void> {
  for (let start = 0; start < count; start += size) {
    if (pauseMs > 0 && start > 0) await sleep(pauseMs);
    const batch: NewEvent[] = Array.from({ length: Math.min(size, count - start) }, (_, k) => ({
      type: 'account.needs_reconnect',
      userId: users[(start + k) % users.length]!,
      at: Date.now(),
      data: { accountId: randomUUID(), username: 'bench', reason: `event ${start + k}` },
    }));
    await appendEvents(db, batch);
  }
}

/** Records when each event id first arrived, and measures from its `timestamp` (the event's time). */
function measureArrivals(receiver: WebhookReceiver) {
  const delays: number[] = [];
  const seen = new Set<string>();
  let last = 0;
  receiver.answer((request) => {
    if (!seen.has(request.id)) {
      seen.add(request.id);
      last = Date.now();
      const at = Date.parse((JSON.parse(request.body) as { timestamp: string }).timestamp);
      delays.push(last - at);
    }
    return { status: 200 };
  });
  return {
    count: () => seen.size,
    figures(startedAt: number) {
      const sorted = [...delays].sort((a, b) => a - b);
      const seconds = (last - startedAt) / 1000;
      return {
        delivered: seen.size,
        seconds: Number(seconds.toFixed(2)),
        eventsPerSecond: Math.round(seen.size / seconds),
        delayP50Ms: percentile(sorted, 50),
        delayP99Ms: percentile(sorted, 99),
      };
    },
  };
}

async function workersRun(workers: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-webhooks-'));
  const database = await benchDatabase('postgres', dir);
  const receiver = await startWebhookReceiver();
  const handle = await createDatabase(database.url);
  const children: ChildProcess[] = [];
  try {
    await migrateToLatest(handle.db);
    const secretKey = randomBytes(32);
    const users = await seedEndpoints(handle.db, secretKey, receiver);
    const seeded = Date.now();
    const arrivals = measureArrivals(receiver);
    const env = {
      DATABASE_URL: database.url,
      XGATE_DATA_DIR: dir,
      XGATE_SECRET_KEY: secretKey.toString('base64'),
      X_CLIENT_ID: 'webhooks-bench',
      X_API_URL: 'http://127.0.0.1:9',
      XGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'warn',
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a worker's time goes.
      ...(process.env.XGATE_BENCH_WORKER_NODE_OPTIONS && {
        NODE_OPTIONS: process.env.XGATE_BENCH_WORKER_NODE_OPTIONS,
      }),
    };
    // Ready: every endpoint has been looked at once, so the workers are running their loops.
    const looked = async () => {
      const row = await handle.db
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('next_run_at', '>', seeded)
        .executeTakeFirstOrThrow();
      return Number(row.n) === ENDPOINTS;
    };
    for (let i = 0; i < workers; i++) children.push((await spawnUntil(['worker'], env, looked)).child);
    const started = Date.now();
    await appendLoad(handle.db, users);
    const deadline = Date.now() + 300_000;
    while (arrivals.count() < EVENTS && Date.now() < deadline) await sleep(20);
    const burst = arrivals.figures(started);
    // Then a steady stream under capacity: STEADY_RATE events/s for 10 s, as events arrive in real use.
    const steady = measureArrivals(receiver);
    const steadyStarted = Date.now();
    await appendLoad(handle.db, users, { count: STEADY_RATE * 10, batch: STEADY_RATE / 10, pauseMs: 100 });
    while (steady.count() < STEADY_RATE * 10 && Date.now() < deadline) await sleep(20);
    return {
      workers,
      endpoints: ENDPOINTS,
      burst: { events: EVENTS, ...burst },
      steady: { eventsPerSecondOffered: STEADY_RATE, ...steady.figures(steadyStarted) },
    };
  } finally {
    await Promise.all(
      children.map((child) =>
        child.exitCode === null
          ? new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))
          : null,
      ),
    );
    await handle.destroy();
    await receiver.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {
    oneWorker: await workersRun(1),
    threeWorkers: await workersRun(3),
  };
  if (process.env.XGATE_BENCH_WEBHOOK_DISPATCH === '0') return results;

  // The dispatcher alone, then beside a busy webhook deliverer in the same process (as in `xgate serve`).
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-webhooks-dispatch-'));
  const emulator = await startEmulatorProcess(dir, 500);
  const receiver = await startWebhookReceiver();
  try {
    const alone = await dispatchRun('postgres', emulator.url, emulator.users, { posts: POSTS });
    const beside = await dispatchRun('postgres', emulator.url, emulator.users, {
      posts: POSTS,
      alongside: async (deps) => {
        const users = await seedEndpoints(deps.db, deps.config.secretKey, receiver);
        const arrivals = measureArrivals(receiver);
        const deliverer = deps.webhookDeliverer({ allowPrivate: true });
        const controller = new AbortController();
        const started = Date.now();
        await appendLoad(deps.db, users);
        const loop = (async () => {
          while (!controller.signal.aborted) {
            if ((await deliverer.runOnce(controller.signal)) === 0) await sleep(deps.config.webhookPollMs);
          }
        })();
        return {
          async stop() {
            // Figures while the dispatcher ran: what was delivered by the time it finished.
            const figures = arrivals.figures(started);
            controller.abort();
            await loop;
            return figures;
          },
        };
      },
    });
    results.dispatcher = {
      posts: POSTS,
      alonePostsPerSecond: alone.postsPerSecond,
      besideWebhooksPostsPerSecond: beside.postsPerSecond,
      change: Number((beside.postsPerSecond / alone.postsPerSecond - 1).toFixed(2)),
      webhooksDuringDispatch: beside.alongside,
    };
  } finally {
    emulator.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
