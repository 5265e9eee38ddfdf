import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  createAccountCaller,
  createAccountsService,
  createTokenSealer,
  createTokenVault,
  vaultTiming,
} from './accounts/index.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config/index.ts';
import { createGroupCommit } from './db/group-commit.ts';
import type { DatabaseHandle } from './db/index.ts';
import { createDeliveryMetrics } from './delivery/delivery.metrics.ts';
import { createDispatcher, type DispatcherSettings } from './delivery/dispatcher.ts';
import { RateLimitBook } from './delivery/rate-limit-book.ts';
import type { AppDeps } from './deps.ts';
import { createMediaService, createMediaStorage } from './media/index.ts';
import { createMediaUploader } from './media/x-upload.ts';
import { MetricsCollector } from './metrics/collector.ts';
import { PostsService } from './posts/posts.service.ts';
import { ReviewService } from './posts/review.service.ts';
import { createTextWorkers } from './posts/text-workers.ts';
import { createTweetDeleter } from './posts/tweet-deleter.ts';
import { findSchedule } from './schedule/schedule.repository.ts';
import { SpendCaps } from './spend/caps.ts';
import { threadCost } from './spend/charges.ts';
import { SpendLedger } from './spend/ledger.ts';
import { AppPauses } from './spend/pause.ts';
import { findSpendSettings } from './spend/spend.repository.ts';
import { createCookieSealer, createSessions } from './users/index.ts';
import {
  createWebhookDeliverer,
  createWebhookMetrics,
  createWebhookSealer,
  WebhooksService,
} from './webhooks/index.ts';
import { createXClient, defaultScopes } from './x/index.ts';
import { countingFetch } from './x/request-metrics.ts';

/** What a caller may replace when building the services (tests and benchmarks: time passes on their clock). */
export interface ServiceOverrides {
  /** How the X client waits (media processing, rate-limit pauses); tests move a test clock instead. */
  xSleep?: (ms: number) => Promise<void>;
}

/**
 * The one composition of xgate's services: every process (server, worker), the tests' harness and the benchmarks
 * build them here, once, so what runs is what is tested. Add a service here and its type in `src/deps.ts`.
 */
export function buildServices(
  config: Config,
  handle: DatabaseHandle,
  clock: Clock,
  log: Logger,
  overrides: ServiceOverrides = {},
): AppDeps {
  const { db, dialect } = handle;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'xgate_' });
  const sessions = createSessions({
    db,
    sealer: createCookieSealer(config.secretKey),
    clock,
    idleSeconds: config.sessionTtlHours * 3600,
    maxSeconds: config.sessionMaxDays * 86_400,
    secure: config.publicUrl.startsWith('https://'),
  });
  // Every process that calls X keeps the budgets X reports, whether or not it runs the dispatcher.
  const rateLimits = new RateLimitBook(db, clock, log);
  const pauses = new AppPauses({ db, clock, log });
  const caps = new SpendCaps({ db, clock, config });
  // The dispatcher's writes and the spend ledger's share commits (SQLite): one transaction per turn of the loop.
  const writes = createGroupCommit(db, dialect);
  const spend = new SpendLedger({ db, writes, clock, log, prices: config.prices, pauses }, metrics);
  const x = createXClient({
    oauth: {
      apiUrl: config.xApiUrl,
      authorizeUrl: config.xAuthorizeUrl,
      // Sandbox mode registers this client id at its in-process emulator.
      clientId: config.xClientId ?? 'xgate-sandbox',
      ...(config.xClientSecret !== null && { clientSecret: config.xClientSecret }),
      redirectUri: `${config.publicUrl}/auth/x/callback`,
      scopes: defaultScopes,
    },
    clock,
    fetch: countingFetch(metrics),
    timeoutMs: config.xTimeoutMs,
    ...(overrides.xSleep && { sleep: overrides.xSleep }),
    onRateLimit: (info, context) => rateLimits.record(info, context),
    onOutcome: (outcome, context) => spend.observe(outcome, context),
  });
  const tokenSealer = createTokenSealer(config.secretKey);
  const vault = createTokenVault({ db, clock, log, x, sealer: tokenSealer, ...vaultTiming(config) });
  const accountCaller = createAccountCaller({ tokens: vault, forToken: x.forToken });
  const text = createTextWorkers({ size: config.textWorkers, timeoutMs: config.textTimeoutMs });
  const mediaStorage = createMediaStorage(config);
  const deliveryMetrics = createDeliveryMetrics(metrics);
  const uploadMedia = createMediaUploader({ db, dataDir: config.dataDir });
  const webhookSealer = createWebhookSealer(config.secretKey);
  const webhookAttempts = createWebhookMetrics(metrics);
  const base = { config, db, dialect, clock, log, metrics };
  return {
    ...base,
    pauses,
    spend,
    sessions,
    x,
    tokenSealer,
    vault,
    accountCaller,
    rateLimits,
    text,
    deliveryMetrics,
    mediaStorage,
    media: createMediaService({ db, clock, config }, mediaStorage),
    posts: new PostsService({
      db,
      clock,
      config,
      text,
      rateLimits,
      deleteTweet: createTweetDeleter({ accountCaller }),
      schedules: (accountId) => findSchedule(db, accountId),
      spending: {
        estimate: (texts) => threadCost(config.prices, texts),
        ofAccount: async (accountId) => {
          const settings = await findSpendSettings(db, accountId);
          return { linkInReply: settings.linkInReply, capGuard: (post) => caps.guard(settings, post) };
        },
      },
    }),
    accounts: createAccountsService({ db, clock, log, x, sealer: tokenSealer, accountCaller }),
    review: new ReviewService({ db, clock }),
    webhooks: new WebhooksService({
      db,
      clock,
      sealer: webhookSealer,
      allowPrivate: config.webhookAllowPrivate,
      maxPerUser: config.maxWebhooksPerUser,
    }),
    metricsCollector: (settings = {}) =>
      new MetricsCollector(
        {
          db,
          clock,
          log: log.child({ loop: 'metrics' }),
          accountCaller,
          rateLimits,
          metrics,
          pauses,
          capUsed: (account, now) => caps.usedFraction(account, now),
        },
        {
          maxAgeDays: config.metricsMaxAgeDays,
          readsPerAccountPerDay: config.metricsReadsPerAccountPerDay,
          readsPerDay: config.metricsReadsPerDay,
          leaseMs: 5 * 60_000,
          batchAheadMs: 15 * 60_000,
          accountsPerRound: 32,
          concurrency: 4,
          ...settings,
        },
      ),
    webhookDeliverer: (settings = {}, options = {}) =>
      createWebhookDeliverer({
        db,
        clock,
        log: log.child({ loop: 'webhooks' }),
        sealer: webhookSealer,
        attempts: webhookAttempts,
        settings: {
          concurrency: config.webhookConcurrency,
          leaseMs: config.webhookLeaseMs,
          pollMs: config.webhookPollMs,
          timeoutMs: config.webhookTimeoutMs,
          allowPrivate: config.webhookAllowPrivate,
          ...settings,
        },
        ...options,
      }),
    dispatcher: (
      settings: Partial<DispatcherSettings> = {},
      options: { sleep?: (ms: number) => Promise<void> } = {},
    ) =>
      createDispatcher({
        db,
        dialect,
        writes,
        clock,
        log: log.child({ loop: 'dispatcher' }),
        metrics: deliveryMetrics,
        forToken: x.forToken,
        tokens: vault,
        uploadMedia,
        rateLimits,
        paused: () => pauses.isPaused(),
        settings: {
          concurrency: config.dispatchConcurrency,
          batchSize: Math.max(10, config.dispatchConcurrency * 2),
          leaseMs: config.dispatchLeaseMs,
          pollMs: config.dispatchPollMs,
          settleMs: config.publishSettleMs,
          ...settings,
        },
        ...(options.sleep && { sleep: options.sleep }),
      }),
  };
}
