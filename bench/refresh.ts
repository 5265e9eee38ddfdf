import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createRefresher, createTokenSealer, createTokenVault } from '../src/accounts/index.ts';
import { createDatabase, migrateToLatest } from '../src/db/index.ts';
import { createXClient, defaultScopes, type XTokenSet } from '../src/x/index.ts';
import { accountRow } from '../test/fixtures/accounts.ts';
import { grantAtEmulator } from '../test/helpers/accounts.ts';
import { stopChild } from '../test/helpers/cli.ts';
import { freePort } from '../test/helpers/ports.ts';
import { rssMb, spawnUntil } from './process.ts';

/** Accounts whose expired tokens are refreshed (override with XGATE_BENCH_REFRESH_ACCOUNTS for a quick run). */
const ACCOUNTS = Number(process.env.XGATE_BENCH_REFRESH_ACCOUNTS ?? 10_000);
/** Refreshes in flight at once: the refresher's default (`XGATE_REFRESH_CONCURRENCY`). */
const CONCURRENCY = Number(process.env.XGATE_BENCH_REFRESH_CONCURRENCY ?? 8);
/** Latency injected on X's token endpoint, as X's own answer time. */
const LATENCY_MS = 50;
/** Raw token calls measured for the baseline. */
const RAW_CALLS = Math.min(ACCOUNTS, 3000);
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret';
const REDIRECT = 'http://127.0.0.1:9/auth/x/callback';

/** Runs `task(i)` for i in [0, count) with `lanes` in flight. */
async function inLanes(count: number, lanes: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function admin(emulatorUrl: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${emulatorUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/**
 * Token vault throughput: ACCOUNTS accounts whose access tokens have all expired are refreshed through the
 * refresher (vault leases, re-reads, sealing, persistence) against the emulator (a separate process) with
 * 50 ms latency on its token endpoint; then a bare loop of token calls at the same latency and concurrency
 * gives the ceiling. Also: time from spawning `xgate serve` to `/readyz` 200, and its RSS once settled.
 */
export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-refresh-'));
  const children: ChildProcess[] = [];
  try {
    const emulatorPort = await freePort();
    const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    const emulator = await spawnUntil(
      [
        'emulator',
        '--port',
        String(emulatorPort),
        '--tier',
        'unlimited',
        '--client',
        `${CLIENT_ID}:${CLIENT_SECRET}:${REDIRECT}`,
      ],
      {},
      async () => (await fetch(`${emulatorUrl}/__admin/requests`)).ok,
    );
    children.push(emulator.child);

    const databaseUrl = process.env.XGATE_BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'bench.db')}`;
    const handle = await createDatabase(databaseUrl);
    await migrateToLatest(handle.db);
    const db = handle.db;
    const clock = { now: () => Date.now() };
    const log = pino({ level: 'silent' });
    const secretKey = randomBytes(32);
    const sealer = createTokenSealer(secretKey);
    const x = createXClient({
      oauth: {
        apiUrl: emulatorUrl,
        authorizeUrl: `${emulatorUrl}/i/oauth2/authorize`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT,
        scopes: defaultScopes,
      },
    });

    // ---- seed: real grants at the emulator, stored as xgate accounts whose access tokens have expired ----
    const seedStarted = performance.now();
    const grants: { xUserId: string; username: string; tokens: XTokenSet }[] = new Array(ACCOUNTS);
    await inLanes(ACCOUNTS, 32, async (i) => {
      const user = (await admin(emulatorUrl, '/__admin/users', { username: `bench${i}` })) as { id: string };
      const tokens = await grantAtEmulator(x, user.id);
      grants[i] = { xUserId: user.id, username: `bench${i}`, tokens };
    });
    const now = Date.now();
    for (let start = 0; start < ACCOUNTS; start += 500) {
      const batch = grants
        .slice(start, start + 500)
        .map((grant) => ({ ...grant, userId: randomUUID(), id: randomUUID() }));
      await db
        .insertInto('users')
        .values(batch.map((b) => ({ id: b.userId, created_at: now })))
        .execute();
      await db
        .insertInto('accounts')
        .values(
          batch.map((b) =>
            accountRow({
              id: b.id,
              userId: b.userId,
              xUserId: b.xUserId,
              username: b.username,
              now,
              subscriptionType: 'None',
              scopes: b.tokens.scopes.join(' '),
              tokens: {
                sealer,
                accessToken: b.tokens.accessToken,
                refreshToken: b.tokens.refreshToken ?? null,
                expiresAt: now - 1000,
                lastRefreshedAt: now - 2 * 3600_000,
              },
            }),
          ),
        )
        .execute();
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    await admin(emulatorUrl, '/__admin/faults', {
      rules: [{ method: 'POST', path: '/2/oauth2/token', kind: 'latency', latencyMs: LATENCY_MS }],
    });

    // ---- the refresher, as `xgate worker` runs it ----
    const vault = createTokenVault({ db, clock, log, x, sealer });
    const refresher = createRefresher({ db, clock, log, vault, concurrency: CONCURRENCY });
    const signal = new AbortController().signal;
    const refreshStarted = performance.now();
    let refreshed = 0;
    for (;;) {
      const done = await refresher.runOnce(signal);
      refreshed += done;
      if (done === 0) break;
    }
    const refreshSeconds = (performance.now() - refreshStarted) / 1000;
    const stale = await db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => eb.or([eb('status', '<>', 'active'), eb('token_expires_at', '<', now + 3600_000)]))
      .executeTakeFirstOrThrow();

    // ---- the ceiling: a bare loop of token calls, same latency, same concurrency ----
    const rows = await db
      .selectFrom('accounts')
      .select(['id', 'refresh_token_sealed'])
      .limit(RAW_CALLS)
      .execute();
    const refreshTokens = rows.map((row) => sealer.unseal(row.id, 'refresh', row.refresh_token_sealed ?? ''));
    const rawStarted = performance.now();
    await inLanes(refreshTokens.length, CONCURRENCY, async (i) => {
      await x.refresh(refreshTokens[i]!);
    });
    const rawSeconds = (performance.now() - rawStarted) / 1000;
    await handle.destroy();

    // ---- `xgate serve`: time to ready, idle memory ----
    const port = await freePort();
    const serve = await spawnUntil(
      ['serve'],
      {
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: `sqlite:${join(dir, 'serve.db')}`,
        XGATE_DATA_DIR: join(dir, 'serve'),
        XGATE_SECRET_KEY: secretKey.toString('base64'),
        X_CLIENT_ID: CLIENT_ID,
        X_CLIENT_SECRET: CLIENT_SECRET,
        X_API_URL: emulatorUrl,
        X_AUTHORIZE_URL: `${emulatorUrl}/i/oauth2/authorize`,
        LOG_LEVEL: 'warn',
      },
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
    );
    children.push(serve.child);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idleRssMb = rssMb(serve.child.pid!);

    const accountsRefreshedPerSecond = refreshed / refreshSeconds;
    const rawTokenCallsPerSecond = refreshTokens.length / rawSeconds;
    return {
      accounts: ACCOUNTS,
      concurrency: CONCURRENCY,
      latencyMs: LATENCY_MS,
      database: databaseUrl.split(':')[0],
      seedSeconds: Math.round(seedSeconds * 10) / 10,
      refreshed,
      notRefreshed: Number(stale.n),
      accountsRefreshedPerSecond: Math.round(accountsRefreshedPerSecond * 10) / 10,
      rawTokenCallsPerSecond: Math.round(rawTokenCallsPerSecond * 10) / 10,
      ratio: Math.round((accountsRefreshedPerSecond / rawTokenCallsPerSecond) * 1000) / 1000,
      serveReadyMs: Math.round(serve.readyMs),
      idleRssMb,
    };
  } finally {
    await Promise.all(children.map((child) => stopChild(child)));
    rmSync(dir, { recursive: true, force: true });
  }
}
