import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  createRefresher,
  createTokenSealer,
  createTokenVault,
  type VaultOptions,
} from '../src/accounts/index.ts';
import { createDatabase, type DatabaseHandle, migrateToLatest } from '../src/db/index.ts';
import { insertPost } from '../src/posts/posts.repository.ts';
import { createXClient, defaultScopes, type XClient } from '../src/x/index.ts';
import { connectAccounts } from './helpers/accounts.ts';
import { stopChild } from './helpers/cli.ts';
import { startTestEmulator, type TestEmulator } from './helpers/emulator.ts';
import { createTestClock, describeEachDialect, type TestClock } from './helpers/index.ts';

const CLIENT_ID = 'refresher-tests';
const CLIENT_SECRET = 'refresher-secret';
const REDIRECT = 'http://127.0.0.1:9/auth/x/callback';
const MINUTE = 60_000;
const log = pino({ level: 'silent' });

describeEachDialect('refresher', (ctx) => {
  let emulator: TestEmulator;
  let handle: DatabaseHandle;
  let clock: TestClock;
  let x: XClient;
  const secretKey = randomBytes(32);
  const tokenCalls = () =>
    emulator.control.requests().filter((r) => r.method === 'POST' && r.path === '/2/oauth2/token');

  /** A token vault over the test database, as a process (`owner`) builds it. */
  const vaultOf = (options: Pick<VaultOptions, 'owner' | 'pollMs'> = {}) =>
    createTokenVault({ db: handle.db, clock, log, x, sealer: createTokenSealer(secretKey), ...options });
  function refresher(owner: string) {
    const vault = vaultOf({ owner });
    return createRefresher({ db: handle.db, clock, log, vault, marginMs: 5 * MINUTE, concurrency: 4 });
  }
  /** The account is `active`, holds no refresh lease and was refreshed at the test clock's present. */
  async function expectRefreshedNow(id: string) {
    const row = await handle.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'active',
      refresh_lease_owner: null,
      last_refreshed_at: clock.now(),
    });
  }
  const run = (loop: ReturnType<typeof refresher>) => loop.runOnce(new AbortController().signal);
  const rows = () => handle.db.selectFrom('accounts').selectAll().orderBy('created_at').execute();

  beforeAll(async () => {
    clock = createTestClock();
    emulator = await startTestEmulator({
      now: () => clock.now(),
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT] }],
    });
    handle = await createDatabase(ctx.databaseUrl);
    await migrateToLatest(handle.db);
    x = createXClient({
      oauth: {
        apiUrl: emulator.url,
        authorizeUrl: `${emulator.url}/i/oauth2/authorize`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT,
        scopes: defaultScopes,
      },
      clock,
    });
  });
  afterAll(async () => {
    await handle?.destroy();
    await emulator?.stop();
  });
  beforeEach(async () => {
    await handle.db.deleteFrom('accounts').execute();
  });

  async function connect(count: number, prefix: string) {
    return connectAccounts({ db: handle.db, clock, x, secretKey, control: emulator.control, count, prefix });
  }

  it('refreshes accounts about to expire, once, and leaves fresh ones alone', async () => {
    await connect(5, `${ctx.dialect}exp`);
    const loop = refresher('w1');
    expect(await run(loop)).toBe(0);
    clock.advance(116 * MINUTE);
    const calls = tokenCalls().length;
    expect(await run(loop)).toBe(5);
    expect(tokenCalls().length - calls).toBe(5);
    for (const row of await rows()) {
      expect(row).toMatchObject({
        status: 'active',
        last_refreshed_at: clock.now(),
        refresh_lease_owner: null,
      });
    }
    expect(await run(loop)).toBe(0);
    expect(tokenCalls().length - calls).toBe(5);
  });

  it('keeps idle accounts alive and refreshes ahead of posts due soon', async () => {
    const [idle, withPost, withoutPost] = await connect(3, `${ctx.dialect}ka`);
    const now = clock.now();
    await handle.db
      .updateTable('accounts')
      .set({ token_expires_at: now + 10 * 3600_000, last_refreshed_at: now - 25 * 3600_000 })
      .where('id', '=', idle!)
      .execute();
    await handle.db
      .updateTable('accounts')
      .set({ token_expires_at: now + 12 * MINUTE, last_refreshed_at: now - MINUTE })
      .where('id', 'in', [withPost!, withoutPost!])
      .execute();
    const owner = await handle.db
      .selectFrom('accounts')
      .select('user_id')
      .where('id', '=', withPost!)
      .executeTakeFirstOrThrow();
    await insertPost(handle.db, {
      id: `p-${withPost}`,
      userId: owner.user_id,
      accountId: withPost!,
      scheduledAt: now + 10 * MINUTE,
      now,
      items: [{ text: 'Due soon.', mediaIds: [] }],
    });
    expect(await run(refresher('w1'))).toBe(2);
    const byId = new Map((await rows()).map((row) => [row.id, row]));
    expect(byId.get(idle!)?.last_refreshed_at).toBe(now);
    expect(byId.get(withPost!)?.last_refreshed_at).toBe(now);
    expect(byId.get(withoutPost!)?.last_refreshed_at).toBe(now - MINUTE);
  });

  it('two refreshers on one database refresh each account exactly once', async () => {
    await connect(12, `${ctx.dialect}two`);
    clock.advance(2 * 3600_000);
    const calls = tokenCalls().length;
    const [a, b] = [refresher('worker-a'), refresher('worker-b')];
    let total = 0;
    // Each round picks a shuffled batch; go on until nothing is left.
    for (let round = 0; round < 10; round += 1) {
      const done = await Promise.all([run(a), run(b)]);
      total += done[0] + done[1];
      if (done[0] + done[1] === 0) break;
    }
    expect(total).toBe(12);
    expect(tokenCalls().length - calls).toBe(12);
    expect(tokenCalls().every((r) => r.status === 200)).toBe(true);
  });

  it('a lease left by a dead process is taken over once it expires, and the refresh goes on', async () => {
    const [id] = await connect(1, `${ctx.dialect}dead`);
    clock.advance(2 * 3600_000);
    await handle.db
      .updateTable('accounts')
      .set({ refresh_lease_owner: 'dead-process', refresh_lease_until: clock.now() + 1000 })
      .where('id', '=', id!)
      .execute();
    const vault = vaultOf({ pollMs: 5 });
    // Held: the refresher skips it, a caller waits for it.
    expect(await vault.refreshIfNeeded(id!, { validUntil: clock.now() + MINUTE })).toBe('busy');
    const waiting = vault.getAccessToken(id!);
    await new Promise((resolve) => setTimeout(resolve, 30));
    clock.advance(1001);
    expect(await waiting).toEqual(expect.any(String));
    await expectRefreshedNow(id!);
  });

  it('callers in two processes (two vaults) share one refresh: the waiter polls the lease and reads the result', async () => {
    const [id] = await connect(1, `${ctx.dialect}pair`);
    clock.advance(2 * 3600_000);
    const vaults = ['process-a', 'process-b'].map((owner) => vaultOf({ owner, pollMs: 5 }));
    const calls = tokenCalls().length;
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => vaults[i % 2]!.getAccessToken(id!)),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(tokenCalls().length - calls).toBe(1);
    await expectRefreshedNow(id!);
  });
});

describeEachDialect('two `xgate worker` processes', (ctx) => {
  if (ctx.dialect !== 'postgres') {
    it.skip('run on PostgreSQL only: that is where several workers share one database', () => {});
    return;
  }
  const ACCOUNTS = 200;
  const RUN_MS = Number(process.env.XGATE_TEST_WORKERS_MS ?? 30_000);
  let emulator: TestEmulator;
  let handle: DatabaseHandle;
  const secretKey = randomBytes(32);
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({
      tier: 'unlimited',
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT] }],
    });
    handle = await createDatabase(ctx.databaseUrl);
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await handle?.destroy();
    await emulator?.stop();
  });

  function startWorker(name: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'xgate.js'), 'worker'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: ctx.databaseUrl,
        XGATE_DATA_DIR: join(ctx.dataDir, name),
        XGATE_SECRET_KEY: secretKey.toString('base64'),
        X_CLIENT_ID: CLIENT_ID,
        X_CLIENT_SECRET: CLIENT_SECRET,
        X_API_URL: emulator.url,
        X_AUTHORIZE_URL: `${emulator.url}/i/oauth2/authorize`,
        X_TIER: 'unlimited',
        // A margin as long as a token's life: every account is due again as soon as it is refreshed.
        XGATE_REFRESH_MARGIN_SECONDS: '7200',
        XGATE_REFRESH_CONCURRENCY: '8',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('worker is running')) {
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output}`)));
    });
  }

  it(`${ACCOUNTS} accounts refreshed constantly by two workers: no refresh token reused, no account lost`, async () => {
    const clock = { now: () => Date.now() };
    const x = createXClient({
      oauth: {
        apiUrl: emulator.url,
        authorizeUrl: `${emulator.url}/i/oauth2/authorize`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT,
        scopes: defaultScopes,
      },
    });
    const ids = await connectAccounts({
      db: handle.db,
      clock,
      x,
      secretKey,
      control: emulator.control,
      count: ACCOUNTS,
      prefix: 'pw',
    });
    // Latency widens the window in which two workers could race for one refresh token, and keeps the
    // request log (10,000 entries) from wrapping during the run.
    emulator.control.setFaults([
      { method: 'POST', path: '/2/oauth2/token', kind: 'latency', latencyMs: 100 },
    ]);
    const startedAt = Date.now();
    const workers = await Promise.all([startWorker('worker-1'), startWorker('worker-2')]);
    await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    await Promise.all(workers.map((worker) => stopChild(worker)));
    emulator.control.clearFaults();

    const refreshes = emulator.control
      .requests()
      .filter((r) => r.method === 'POST' && r.path === '/2/oauth2/token' && r.at >= startedAt);
    console.log(`two workers: ${refreshes.length} refreshes of ${ACCOUNTS} accounts in ${RUN_MS} ms`);
    expect(refreshes.length).toBeGreaterThan(ACCOUNTS);
    expect(refreshes.length).toBeLessThan(10_000);
    expect(refreshes.filter((r) => r.status !== 200)).toEqual([]);

    const rows = await handle.db.selectFrom('accounts').selectAll().execute();
    expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'active'));
    const vault = createTokenVault({ db: handle.db, clock, log, x, sealer: createTokenSealer(secretKey) });
    // Each account is still refreshable: forceRefresh throws if X refuses the stored refresh token.
    for (const id of ids) await vault.forceRefresh(id);
    const events = await handle.db
      .selectFrom('account_events')
      .select(['kind', 'detail'])
      .where('kind', 'in', ['needs_reconnect', 'refresh_failed'])
      .execute();
    expect(events).toEqual([]);
  }, 180_000);
});
