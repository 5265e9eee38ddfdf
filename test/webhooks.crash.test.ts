import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { createDatabase, migrateToLatest } from '../src/db/index.ts';
import { appendEvents, listEvents } from '../src/events/index.ts';
import { createWebhookSealer, WebhooksService } from '../src/webhooks/index.ts';
import { spawnXgate, stopChild, type XgateProcess } from './helpers/cli.ts';
import { describeEachDialect, makeUser } from './helpers/index.ts';
import { startWebhookReceiver } from './helpers/webhook-receiver.ts';

const ENDPOINTS = 3;
const EVENTS = 120;
const KILLS = 6;

describeEachDialect('webhooks under crashes', (ctx) => {
  const running: XgateProcess[] = [];
  afterAll(() => {
    for (const child of running) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  });

  it.skipIf(ctx.dialect !== 'postgres')(
    'three `xgate worker` processes SIGKILLed in turn mid-delivery: every event arrives, in order per endpoint, duplicates only with the same webhook-id',
    async () => {
      const secretKey = randomBytes(32);
      const handle = await createDatabase(ctx.databaseUrl);
      const receiver = await startWebhookReceiver();
      // Slow enough that a kill often lands while a delivery is in flight.
      receiver.answer(() => ({ status: 200, delayMs: 15 }));
      try {
        await migrateToLatest(handle.db);
        const clock = { now: () => Date.now() };
        const user = await makeUser({ db: handle.db, clock });
        const service = new WebhooksService({
          db: handle.db,
          clock,
          sealer: createWebhookSealer(secretKey),
          allowPrivate: true,
          maxPerUser: 10,
        });
        const endpoints: string[] = [];
        for (let i = 0; i < ENDPOINTS; i++) {
          endpoints.push((await service.create(user.id, { url: `${receiver.url}/${i}` })).webhook.id);
        }

        const env = {
          DATABASE_URL: ctx.databaseUrl,
          XGATE_DATA_DIR: ctx.dataDir,
          XGATE_SECRET_KEY: secretKey.toString('base64'),
          X_CLIENT_ID: 'webhooks-crash-test',
          X_API_URL: 'http://127.0.0.1:9',
          XGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
          XGATE_WEBHOOK_POLL_MS: '50',
          XGATE_WEBHOOK_TIMEOUT_MS: '1000',
          XGATE_WEBHOOK_LEASE_MS: '2000',
          LOG_LEVEL: 'warn',
        };
        const start = () => {
          const child = spawnXgate(['worker'], env);
          running.push(child);
          return child;
        };
        const workers = [start(), start(), start()];

        // Events keep arriving while workers die.
        let appended = 0;
        const producer = (async () => {
          while (appended < EVENTS) {
            const batch = Array.from({ length: 5 }, () => ({
              type: 'account.needs_reconnect' as const,
              userId: user.id,
              at: Date.now(),
              data: { accountId: randomUUID(), username: `n${appended}`, reason: `event ${appended++}` },
            }));
            await appendEvents(handle.db, batch);
            await sleep(40);
          }
        })();
        for (let kill = 0; kill < KILLS; kill++) {
          await sleep(250 + Math.floor(Math.random() * 400));
          const victim = kill % workers.length;
          await stopChild(workers[victim]!.process, 'SIGKILL');
          workers[victim] = start();
        }
        await producer;

        const logged = await listEvents(handle.db, user.id, { after: null, limit: 1000 });
        expect(logged).toHaveLength(EVENTS);
        const expected = logged.map((e) => e.id);
        const deadline = Date.now() + 60_000;
        const firstSeen = (i: number) => [
          ...new Set(receiver.received.filter((r) => r.path === `/hooks/${i}`).map((r) => r.id)),
        ];
        while (Date.now() < deadline && endpoints.some((_, i) => firstSeen(i).length < EVENTS))
          await sleep(100);
        await Promise.all(workers.map((w) => stopChild(w.process, 'SIGTERM')));

        for (let i = 0; i < ENDPOINTS; i++) {
          // Every event, once at least, in the log's order (first arrivals).
          expect(firstSeen(i)).toEqual(expected);
          // A duplicate is a resend of the same message: same webhook-id, same body.
          const bodies = new Map<string, string>();
          for (const r of receiver.received.filter((r) => r.path === `/hooks/${i}`)) {
            const seen = bodies.get(r.id);
            if (seen !== undefined) expect(r.body).toBe(seen);
            bodies.set(r.id, r.body);
          }
        }
        const pending = await handle.db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '!=', 'delivered')
          .execute();
        expect(pending).toEqual([]);
      } finally {
        await receiver.stop();
        await handle.destroy();
      }
    },
    120_000,
  );
});
