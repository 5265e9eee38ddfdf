import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AccountsService } from './accounts/accounts.service.ts';
import type { AccountCaller } from './accounts/as-account.ts';
import type { TokenSealer } from './accounts/sealing.ts';
import type { TokenVault } from './accounts/vault.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config/index.ts';
import type { Database, DialectName } from './db/index.ts';
import type { DeliveryMetrics } from './delivery/delivery.metrics.ts';
import type { Dispatcher, DispatcherSettings } from './delivery/dispatcher.ts';
import type { RateLimitBook } from './delivery/rate-limit-book.ts';
import type { MediaService } from './media/media.service.ts';
import type { MediaStorage } from './media/media.storage.ts';
import type { CollectorSettings, MetricsCollector } from './metrics/collector.ts';
import type { PostsService } from './posts/posts.service.ts';
import type { ReviewService } from './posts/review.service.ts';
import type { TextWorkers } from './posts/text-workers.ts';
import type { SpendLedger } from './spend/ledger.ts';
import type { AppPauses } from './spend/pause.ts';
import type { Sessions } from './users/sessions.ts';
import type { WebhookDeliverer, WebhookDelivererSettings, WebhooksService } from './webhooks/index.ts';
import type { AttemptResult, SendOptions } from './webhooks/sender.ts';
import type { XClient } from './x/index.ts';

/**
 * Everything a route module or worker loop may use: the services, built once by `buildServices`
 * (`src/services.ts`) for the server, the worker, the tests' harness and the benchmarks alike. To add a service:
 * a field here, built there.
 */
export interface AppDeps {
  /** The effective config: sandbox mode and tests have already pointed `xApiUrl`/`xAuthorizeUrl` at an emulator. */
  config: Config;
  db: Kysely<Database>;
  dialect: DialectName;
  clock: Clock;
  /** pino; redacts authorization headers, cookies, tokens, secrets and codes. */
  log: Logger;
  /** The app's own prom-client registry (no global default registry): register counters/histograms here. */
  metrics: Registry;
  /** Session cookie and short-lived sealed cookies (OAuth state). */
  sessions: Sessions;
  /** The X API client (OAuth with the app's credentials; `x.forToken(token)` for user-context calls). */
  x: XClient;
  /** The budgets X reports, kept per account and app (every X response of this process is recorded). */
  rateLimits: RateLimitBook;
  /** Seals tokens at rest (the vault's and the accounts service's one sealer). */
  tokenSealer: TokenSealer;
  /** Where uploads are kept, and their limits. */
  mediaStorage: MediaStorage;
  media: MediaService;
  posts: PostsService;
  accounts: AccountsService;
  review: ReviewService;
  /** The dispatcher's Prometheus metrics (registered once in `metrics`). */
  deliveryMetrics: DeliveryMetrics;
  /**
   * A dispatcher over these services, with the config's settings unless overridden (tests and benchmarks pass
   * theirs); `xgate worker` and `serve` run one.
   */
  dispatcher(
    settings?: Partial<DispatcherSettings>,
    options?: { sleep?: (ms: number) => Promise<void> },
  ): Dispatcher;
  /** Measures and splits text in worker threads with a time limit (never on the event loop). */
  text: TextWorkers;
  /** Calls X as a user's account under the one 401 policy (refresh once, then needs_reconnect). */
  accountCaller: AccountCaller;
  /** The token vault: `getAccessToken(accountId)`, `forceRefresh`, `markNeedsReconnect` (src/accounts/vault.ts). */
  vault: TokenVault;
  /** Webhook endpoints: create, change, rotate, test, replay (src/webhooks). */
  webhooks: WebhooksService;
  /** The spend ledger: what every X call is estimated to cost (src/spend). `flush()` waits for its writes. */
  spend: SpendLedger;
  /** The app-wide pause after X refused the app (402 credits depleted, 403 client-not-enrolled). */
  pauses: AppPauses;
  /** A tweet metrics collector with the config's settings unless overridden (worker loop `metrics`). */
  metricsCollector(settings?: Partial<CollectorSettings>): MetricsCollector;
  /** A webhook deliverer with the config's settings unless overridden; `xgate worker` and `serve` run one. */
  webhookDeliverer(
    settings?: Partial<WebhookDelivererSettings>,
    options?: { owner?: string; send?: (options: SendOptions) => Promise<AttemptResult> },
  ): WebhookDeliverer;
}
