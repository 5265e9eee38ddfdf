import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createDatabase } from '../src/db/index.ts';
import { createCookieSealer, createSessions, SESSION_COOKIE } from '../src/users/sessions.ts';
import { spawnXgate, waitFor, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import { createHttpClient, describeEachDialect, freePort, makeApiKey, makeUser } from './helpers/index.ts';

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
});
