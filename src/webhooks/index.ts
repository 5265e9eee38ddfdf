/** Webhooks: the event log delivered to the user's endpoints, signed as Standard Webhooks v1. */
import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { purgeDeliveries } from './webhooks.repository.ts';

export { checkWebhookUrl, isPrivateAddress } from './address-guard.ts';
export {
  createWebhookDeliverer,
  createWebhookMetrics,
  type WebhookDeliverer,
  type WebhookDelivererSettings,
} from './deliverer.ts';
export { MAX_ATTEMPTS, RETRY_DELAYS_MS, retryDelayMs } from './retry-schedule.ts';
export { webhooksRoutes } from './webhooks.routes.ts';
export { createWebhookSealer, WebhooksService } from './webhooks.service.ts';

/** Worker loop: delivers events to webhook endpoints. */
export const webhookDeliveryLoop: WorkerLoopFactory = (deps): WorkerLoop => {
  const deliverer = deps.webhookDeliverer();
  return {
    name: 'webhooks',
    idleMs: deps.config.webhookPollMs,
    runOnce: (signal) => deliverer.runOnce(signal),
  };
};

/** Deliveries deleted per round of the purge. */
const PURGE_BATCH = 1000;

/** Worker loop: forgets finished deliveries older than XGATE_WEBHOOK_RETENTION_DAYS. */
export const webhookPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'webhooks-purge',
  idleMs: 10 * 60_000,
  runOnce: () =>
    purgeDeliveries(deps.db, deps.clock.now() - deps.config.webhookRetentionDays * 86_400_000, PURGE_BATCH),
});
