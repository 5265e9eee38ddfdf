import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { SubscriptionType } from '../emulator/index.ts';
import { connectUser } from '../emulator/testing/connect-user.ts';
import type { TokenVault } from '../src/accounts/vault.ts';
import { loadConfig } from '../src/config/index.ts';
import type { DatabaseHandle } from '../src/db/index.ts';
import type { MediaType } from '../src/db/schema.ts';
import type { DeliveryMetrics } from '../src/delivery/delivery.metrics.ts';
import type { Dispatcher, DispatcherSettings } from '../src/delivery/dispatcher.ts';
import type { RateLimitBook } from '../src/delivery/rate-limit-book.ts';
import type { AppDeps } from '../src/deps.ts';
import { buildHttpApp } from '../src/http/app.ts';
import { routeModules } from '../src/modules.ts';
import { insertPost } from '../src/posts/posts.repository.ts';
import { createApp } from '../src/server.ts';
import type { XClient } from '../src/x/index.ts';
import { insertConnectedAccount } from './fixtures/accounts.ts';
import { startTestEmulator, type TestEmulator } from './helpers/emulator.ts';
import { createTestClock, type DialectContext, type TestClock } from './helpers/index.ts';

/** The client `connectUser` registers at the emulator; the X client refreshes tokens as this public client. */
const EMULATOR_TEST_CLIENT = { clientId: 'emulator-test-client', redirectUri: 'http://127.0.0.1/callback' };

/** Everything a dispatcher test needs: a migrated database, the emulator on one shared clock, the dispatcher. */
export interface DeliveryHarness {
  handle: DatabaseHandle;
  /** The services, as `xgate worker` builds them. */
  deps: AppDeps;
  clock: TestClock;
  emu: TestEmulator;
  x: XClient;
  vault: TokenVault;
  rateLimits: RateLimitBook;
  metrics: DeliveryMetrics;
  registry: Registry;
  dispatcher: Dispatcher;
  dataDir: string;
  /** The deployment's `XGATE_SECRET_KEY` (base64), for another process over the same database. */
  secretKey: string;
  /**
   * A user with one connected X account (tokens issued by the emulator through the real OAuth flow), of the
   * given X subscription (the emulator's default when omitted).
   */
  makeAccount(
    username?: string,
    subscriptionType?: SubscriptionType,
  ): Promise<{ userId: string; accountId: string; xUserId: string }>;
  /** A `scheduled` post (due now unless `scheduledAt`); returns its id. */
  makePost(
    account: { userId: string; accountId: string },
    items: { text: string; mediaIds?: string[] }[],
    scheduledAt?: number,
  ): Promise<string>;
  /** A stored media file of `bytes`. */
  makeMedia(
    userId: string,
    mediaType: MediaType,
    mime: string,
    bytes: Uint8Array,
    altText?: string,
  ): Promise<string>;
  /** Runs the dispatcher until nothing is due and nothing is in flight, then waits for the spend ledger. */
  drain(): Promise<number>;
  post(id: string): Promise<{
    status: string;
    errorCode: string | null;
    errorMessage: string | null;
    items: { position: number; status: string; tweetId: string | null; errorMessage: string | null }[];
  }>;
  close(): Promise<void>;
}

/** The harness's services behind the real HTTP app (every route module), on a free port. Close it after. */
export async function serveHarness(h: DeliveryHarness): Promise<{ url: string; close(): Promise<void> }> {
  const http = await buildHttpApp(h.deps, routeModules);
  const url = await http.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => http.close() };
}

export async function startDeliveryHarness(
  ctx: DialectContext,
  options: {
    settings?: Partial<DispatcherSettings>;
    tier?: 'unlimited' | 'free' | 'ppu';
    xTimeoutMs?: number;
  } = {},
): Promise<DeliveryHarness> {
  const clock = createTestClock();
  const emu = await startTestEmulator({ now: () => clock.now(), tier: options.tier ?? 'unlimited' });
  const config = loadConfig({
    DATABASE_URL: ctx.databaseUrl,
    XGATE_DATA_DIR: ctx.dataDir,
    XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
    // The X client refreshes tokens as the public client `connectUser` registers.
    X_CLIENT_ID: EMULATOR_TEST_CLIENT.clientId,
    X_API_URL: emu.url,
    X_AUTHORIZE_URL: `${emu.url}/i/oauth2/authorize`,
    XGATE_X_TIMEOUT_MS: String(options.xTimeoutMs ?? 2000),
    LOG_LEVEL: process.env.XGATE_TEST_LOG_LEVEL ?? 'silent',
    // Webhook tests deliver to a receiver on 127.0.0.1.
    XGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  // The same services as `xgate worker`, built by the one composition; only time is the test's.
  const app = await createApp(config, {
    http: false,
    worker: false,
    clock,
    // X's media processing runs on the emulator's clock: waiting for it moves the shared test clock.
    xSleep: async (ms) => clock.advance(ms),
  });
  const deps = app.deps;
  const dispatcher = deps.dispatcher(
    { pollMs: 10, settleMs: 5000, backoffBaseMs: 1000, ...options.settings },
    { sleep: async () => {} },
  );
  const { db, x, vault, rateLimits, tokenSealer: sealer } = deps;
  const handle: DatabaseHandle = { db, dialect: deps.dialect, destroy: () => app.stop() };
  const dataDir = ctx.dataDir;
  let accounts = 0;

  return {
    handle,
    deps,
    clock,
    emu,
    x,
    vault,
    rateLimits,
    metrics: deps.deliveryMetrics,
    registry: deps.metrics,
    dispatcher,
    dataDir,
    secretKey: config.secretKey.toString('base64'),
    async makeAccount(username = `user${++accounts}_${randomBytes(3).toString('hex')}`, subscriptionType) {
      const connected = await connectUser(emu.emulator, {
        username,
        ...(subscriptionType !== undefined && { subscriptionType }),
      });
      const { userId, accountId } = await insertConnectedAccount(db, sealer, connected, clock.now());
      return { userId, accountId, xUserId: connected.userId };
    },
    async makePost(account, items, scheduledAt) {
      const id = randomUUID();
      const now = clock.now();
      await insertPost(db, {
        id,
        userId: account.userId,
        accountId: account.accountId,
        scheduledAt: scheduledAt ?? now,
        now,
        items: items.map((item) => ({ text: item.text, mediaIds: item.mediaIds ?? [] })),
      });
      return id;
    },
    async makeMedia(userId, mediaType, mime, bytes, altText) {
      const id = randomUUID();
      await mkdir(join(dataDir, 'media'), { recursive: true });
      writeFileSync(join(dataDir, 'media', id), bytes);
      await db
        .insertInto('media')
        .values({
          id,
          user_id: userId,
          media_type: mediaType,
          mime,
          size: bytes.length,
          sha256: 'test',
          alt_text: altText ?? null,
          path: `media/${id}`,
          created_at: clock.now(),
        })
        .execute();
      return id;
    },
    async drain() {
      const handled = await dispatcher.runOnce(new AbortController().signal);
      // The spend ledger writes after the posts' own commits; on PostgreSQL a reader of the event log sees only
      // what transactions older than every running one wrote, so an insert still in flight would hide the last
      // events from a reader that comes straight after.
      await deps.spend.flush();
      return handled;
    },
    async post(id) {
      const row = await db.selectFrom('posts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const items = await db
        .selectFrom('post_items')
        .selectAll()
        .where('post_id', '=', id)
        .orderBy('position')
        .execute();
      return {
        status: row.status,
        errorCode: row.error_code,
        errorMessage: row.error_message,
        items: items.map((i) => ({
          position: i.position,
          status: i.status,
          tweetId: i.tweet_id,
          errorMessage: i.error_message,
        })),
      };
    },
    async close() {
      await app.stop();
      await emu.stop();
    },
  };
}
