import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createDatabase, migrateToLatest } from '../src/db/index.ts';
import { makeAccount } from './fixtures/accounts.ts';
import { spawnXgate, stopChild, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import { describeEachDialect, freePort, makeApiKey, makeUser } from './helpers/index.ts';

const HOUR = 3_600_000;

describeEachDialect('the budget under concurrent creates', (ctx) => {
  const running: XgateProcess[] = [];
  // One deployment key for both cases: they share the database (and its sealed canary).
  const secretKey = randomBytes(32).toString('base64');
  afterAll(async () => {
    for (const child of running) await stopChild(child.process, 'SIGKILL');
  });

  it.skipIf(ctx.dialect !== 'postgres').each([
    { window: 'the X account’s', accounts: 1 },
    { window: 'the app’s (two X accounts)', accounts: 2 },
  ])(
    'two `xgate serve` processes on PostgreSQL racing for the last tweet of $window window: exactly one wins',
    async ({ accounts: accountCount }) => {
      const handle = await createDatabase(ctx.databaseUrl);
      try {
        await migrateToLatest(handle.db);
        const clock = { now: () => Date.now() };
        const user = await makeUser({ db: handle.db, clock });
        const { key } = await makeApiKey({ db: handle.db, clock }, user.id);
        const accounts: { id: string }[] = [];
        for (let i = 0; i < accountCount; i++)
          accounts.push(await makeAccount({ db: handle.db, clock }, user.id, { username: `racer${i}` }));
        const env = {
          DATABASE_URL: ctx.databaseUrl,
          XGATE_DATA_DIR: ctx.dataDir,
          XGATE_SECRET_KEY: secretKey,
          X_CLIENT_ID: 'budget-race-test',
          X_API_URL: 'http://127.0.0.1:9',
          // The free tier: 17 tweets per 24 hours for the X account and the app.
          X_TIER: 'free',
          XGATE_RATE_LIMIT_API_PER_MINUTE: '0',
          LOG_LEVEL: 'warn',
        };
        const ports = [await freePort(), await freePort()];
        const servers = ports.map((port) =>
          spawnXgate(['serve', '--no-worker'], { ...env, PORT: String(port) }),
        );
        running.push(...servers);
        await Promise.all(servers.map((s, i) => waitUntilReady(`http://127.0.0.1:${ports[i]}`, s)));

        // Each case in its own day: the app's window of one must not hold the other's tweets.
        const start = Date.now() + (2 + 48 * accountCount) * HOUR;
        const create = (port: number, n: number) =>
          fetch(`http://127.0.0.1:${port}/api/v1/posts`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              accountId: accounts[n % accounts.length]!.id,
              items: [{ text: `race ${n}` }],
              scheduledAt: start + n * 60_000,
            }),
          }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { error?: { code: string; details?: { nextSlotAt?: number } } },
          }));
        for (let n = 0; n < 16; n++) expect((await create(ports[n % 2]!, n)).status).toBe(201);

        // 20 requests at once, through both processes, for the 17th and last tweet of the window.
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => create(ports[i % 2]!, 16 + i)),
        );
        expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
        const refused = answers.filter((a) => a.status !== 201);
        expect(refused).toHaveLength(19);
        for (const answer of refused) {
          expect(answer.status).toBe(422);
          expect(answer.body.error?.code).toBe('rate_budget_exceeded');
          expect(answer.body.error?.details?.nextSlotAt).toBeGreaterThan(start);
        }
        const planned = await handle.db
          .selectFrom('posts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'scheduled')
          .where(
            'account_id',
            'in',
            accounts.map((a) => a.id),
          )
          .executeTakeFirstOrThrow();
        expect(Number(planned.n)).toBe(17);
      } finally {
        await handle.destroy();
      }
    },
    60_000,
  );
});
