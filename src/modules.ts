import { accountsRoutes, refresherLoop } from './accounts/index.ts';
import { cliLoginPurgeLoop, cliLoginRoutes } from './cli-login/index.ts';
import { deliveryRoutes, dispatcherLoop } from './delivery/index.ts';
import { eventsPurgeLoop, eventsRoutes } from './events/index.ts';
import type { RouteModule } from './http/types.ts';
import { idempotencyModule, idempotencyPurgeLoop } from './idempotency/index.ts';
import { mediaModule, mediaPurgeLoop } from './media/index.ts';
import { metricsLoop, metricsRoutes, metricsThinLoop } from './metrics/index.ts';
import { postsModule } from './posts/index.ts';
import { scheduleRoutes } from './schedule/index.ts';
import { appProbeLoop, spendPurgeLoop, spendRoutes } from './spend/index.ts';
import { sessionsPurgeLoop } from './users/sessions.purge.ts';
import { usersRoutes } from './users/users.routes.ts';
import { sandboxRoutes } from './web/sandbox.routes.ts';
import { webRoutes } from './web/web.routes.ts';
import { webhookDeliveryLoop, webhookPurgeLoop, webhooksRoutes } from './webhooks/index.ts';
import type { WorkerLoopFactory } from './worker.ts';

/**
 * Route modules, registered in this order on the one Fastify app (after the error handler, authentication,
 * OpenAPI, `/healthz`, `/readyz` and `/metrics`). Add yours here: `import { postsRoutes } from './posts/index.ts'`.
 * A module that installs app-wide hooks (e.g. Idempotency-Key handling) goes first.
 * After adding or changing routes, regenerate the committed OpenAPI document (test/openapi.test.ts checks it):
 * `npx xgate openapi --out docs/openapi.json`.
 */
export const routeModules: readonly RouteModule[] = [
  idempotencyModule,
  usersRoutes,
  accountsRoutes,
  mediaModule,
  postsModule,
  scheduleRoutes,
  deliveryRoutes,
  eventsRoutes,
  webhooksRoutes,
  metricsRoutes,
  spendRoutes,
  cliLoginRoutes,
  sandboxRoutes,
  webRoutes,
];

/** Background loops run by `xgate worker` and `xgate serve` (unless `--no-worker`). Add yours here. */
export const workerLoops: readonly WorkerLoopFactory[] = [
  refresherLoop,
  dispatcherLoop,
  idempotencyPurgeLoop,
  sessionsPurgeLoop,
  mediaPurgeLoop,
  eventsPurgeLoop,
  webhookDeliveryLoop,
  webhookPurgeLoop,
  cliLoginPurgeLoop,
  metricsLoop,
  metricsThinLoop,
  appProbeLoop,
  spendPurgeLoop,
];
