import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createDatabase } from '../src/db/index.ts';
import { createCookieSealer, createSessions, SESSION_COOKIE } from '../src/users/sessions.ts';
import { makeAccount } from './fixtures/accounts.ts';
import { spawnXgate, waitFor, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import {
  createHttpClient,
  createPostgresDatabase,
  describeEachDialect,
  freePort,
  makeApiKey,
  makeTempDir,
  makeUser,
} from './helpers/index.ts';

describeEachDialect('several processes on one database', (ctx) => {
  const running: XgateProcess[] = [];
  afterAll(() => {
    for (const child of running) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  });

  it('runs `serve --no-worker` ×2 and `worker` together, sharing sessions and keys, and stops each cleanly', async () => {
    const env = {
      DATABASE_URL: ctx.databaseUrl,
      XGATE_DATA_DIR: ctx.dataDir,
      XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
      X_CLIENT_ID: 'scale-out-test',
      // Unroutable: nothing here may reach X.
      X_API_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'info',
    };
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((port) => spawnXgate(['serve', '--no-worker'], { ...env, PORT: String(port) }));
    const worker = spawnXgate(['worker'], env);
    running.push(...servers, worker);
    await Promise.all(servers.map((child, i) => waitUntilReady(`http://127.0.0.1:${ports[i]}`, child)));
    await waitFor(
      async () => (worker.logLines().some((l) => l.msg === 'worker started') ? true : undefined),
      'the worker',
      worker,
    );
    for (const server of servers)
      expect(server.logLines().some((l) => l.msg === 'worker started')).toBe(false);

    // A key created through one replica works on the other: no state lives in a process.
    const handle = await createDatabase(ctx.databaseUrl);
    try {
      const user = await makeUser({ db: handle.db, clock: { now: () => Date.now() } });
      const { key } = await makeApiKey({ db: handle.db, clock: { now: () => Date.now() } }, user.id);
      const created = await createHttpClient(`http://127.0.0.1:${ports[0]}`, { bearer: key }).post(
        '/api/v1/api-keys',
        {
          name: 'from replica 0',
        },
      );
      expect(created.status).toBe(201);
      const listed = await createHttpClient(`http://127.0.0.1:${ports[1]}`, { bearer: created.json.key }).get(
        '/api/v1/api-keys',
      );
      expect(listed.json.map((k: { name: string }) => k.name)).toEqual(['test key', 'from replica 0']);

      // A session lives in the database, so any replica accepts its cookie, and a logout through one replica
      // ends it on all of them at once.
      const cookie = await createSessions({
        db: handle.db,
        sealer: createCookieSealer(Buffer.from(env.XGATE_SECRET_KEY, 'base64')),
        clock: { now: () => Date.now() },
        idleSeconds: 3600,
        maxSeconds: 86_400,
        secure: false,
      }).create(user.id);
      const browsers = ports.map((port) => {
        const browser = createHttpClient(`http://127.0.0.1:${port}`);
        browser.setCookie(SESSION_COOKIE, cookie);
        return browser;
      });
      for (const browser of browsers) expect((await browser.get('/api/v1/me')).json.id).toBe(user.id);
      expect((await browsers[0]!.post('/auth/logout', undefined, { csrf: true })).status).toBe(204);
      expect((await browsers[1]!.get('/api/v1/me')).status).toBe(401);
    } finally {
      await handle.destroy();
    }

    for (const child of [...servers, worker]) child.process.kill('SIGTERM');
    expect(await Promise.all([...servers, worker].map((c) => c.exit))).toEqual([0, 0, 0]);
  });

  it('two `serve` processes racing 20 "add to queue" requests for one account give 20 different slots', async () => {
    const env = {
      DATABASE_URL: ctx.databaseUrl,
      XGATE_DATA_DIR: ctx.dataDir,
      XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
      X_CLIENT_ID: 'queue-race-test',
      X_API_URL: 'http://127.0.0.1:9',
      X_TIER: 'unlimited',
      LOG_LEVEL: 'warn',
    };
    // A database of its own: the first test's processes sealed theirs with another key.
    const dir = makeTempDir();
    const pgDatabase = ctx.dialect === 'postgres' ? await createPostgresDatabase() : null;
    const databaseUrl = pgDatabase?.url ?? `sqlite:${dir.path}/race.db`;
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((port) =>
      spawnXgate(['serve', '--no-worker'], {
        ...env,
        DATABASE_URL: databaseUrl,
        XGATE_DATA_DIR: dir.path,
        PORT: String(port),
      }),
    );
    running.push(...servers);
    try {
      await Promise.all(servers.map((child, i) => waitUntilReady(`http://127.0.0.1:${ports[i]}`, child)));
      const handle = await createDatabase(databaseUrl);
      let key: string;
      let accountId: string;
      try {
        const deps = { db: handle.db, clock: { now: () => Date.now() } };
        const user = await makeUser(deps);
        ({ key } = await makeApiKey(deps, user.id));
        accountId = (await makeAccount(deps, user.id)).id;
      } finally {
        await handle.destroy();
      }
      const clients = ports.map((port) => createHttpClient(`http://127.0.0.1:${port}`, { bearer: key }));
      const allDays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
      const set = await clients[0]!.request('PUT', `/api/v1/accounts/${accountId}/schedule`, {
        json: {
          timezone: 'UTC',
          slots: ['06:00', '12:00', '18:00'].map((time) => ({ days: allDays, time })),
        },
      });
      expect(set.status).toBe(200);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          clients[i % 2]!.post('/api/v1/posts', {
            accountId,
            items: [{ text: `race ${i}` }],
            scheduledAt: 'next_slot',
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
      const times = answers.map((a) => a.json.scheduledAt as number).sort((a, b) => a - b);
      expect(new Set(times).size).toBe(20);
      // Exactly the queue's first 20 slots: none skipped, none given twice.
      const queue = await clients[1]!.get(`/api/v1/accounts/${accountId}/queue`);
      expect(queue.json.items.map((p: { scheduledAt: number }) => p.scheduledAt)).toEqual(times);
      // Each is the slot right after the one before (06:00, 12:00, 18:00 UTC every day).
      for (let i = 1; i < times.length; i++) {
        const gap = new Date(times[i - 1]!).getUTCHours() === 18 ? 12 : 6;
        expect(times[i]! - times[i - 1]!).toBe(gap * 3_600_000);
      }
    } finally {
      for (const child of servers) child.process.kill('SIGTERM');
      await Promise.all(servers.map((c) => c.exit));
      await pgDatabase?.drop();
      dir.remove();
    }
  });
});
