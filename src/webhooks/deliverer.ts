import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { type Clock, pause } from '../clock.ts';
import type { Sealer } from '../crypto/sealing.ts';
import type { Database } from '../db/index.ts';
import { listEvents } from '../events/index.ts';
import { MAX_ATTEMPTS, retryDelayMs } from './retry-schedule.ts';
import { type AttemptResult, type SendOptions, sendWebhook } from './sender.ts';
import {
  claimWebhooks,
  type DeliveryRow,
  decodeTypes,
  dueDeliveries,
  fanOut,
  findLeasedWebhook,
  recordAttempt,
  releaseWebhook,
  type WebhookRow,
} from './webhooks.repository.ts';
import { signingSecrets, webhookPayload } from './webhooks.service.ts';

export interface WebhookDelivererSettings {
  /** Endpoints served at once by this worker; one slow endpoint holds one slot, never the others. */
  concurrency: number;
  /** How long a claimed endpoint stays this worker's without news (renewed at every attempt). */
  leaseMs: number;
  /** How often an endpoint is looked at for new events. */
  pollMs: number;
  timeoutMs: number;
  allowPrivate: boolean;
}

/** Events read from the log per endpoint per round. */
const FAN_OUT_BATCH = 100;
/** Deliveries one round sends (in order) before reading the endpoint and the log again. */
const DELIVERIES_PER_ROUND = 50;
/** Rounds (fan-out + due deliveries) one claim serves before letting the endpoint go, so others get a turn. */
const ROUNDS_PER_CLAIM = 10;

export interface WebhookDeliverer {
  /** One step of the worker loop: claims endpoints into free slots; returns how many it started. */
  runOnce(signal: AbortSignal): Promise<number>;
}

export interface WebhookDelivererDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  sealer: Sealer;
  attempts: Counter<'outcome'>;
  settings: WebhookDelivererSettings;
  owner?: string;
  /** Tests replace how a message goes out; by default an HTTP POST. */
  send?: (options: SendOptions) => Promise<AttemptResult>;
}

/** The Prometheus counter of delivery attempts, by outcome (delivered, retry, failed). */
export function createWebhookMetrics(registry: Registry): Counter<'outcome'> {
  return new Counter({
    name: 'xgate_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome: delivered, retry (will be tried again), failed (given up).',
    labelNames: ['outcome'],
    registers: [registry],
  });
}

/**
 * Delivers the event log to webhook endpoints, at least once and in order per endpoint.
 *
 * An endpoint is claimed with a lease (any number of workers; on PostgreSQL `skip locked`). Its holder copies
 * new events of the log into `event` deliveries and moves the endpoint's cursor in one transaction (so an event
 * is fanned out once), then sends the oldest pending delivery — later ones wait behind it while it retries, so a
 * receiver sees events in the order they happened. A worker that dies mid-send leaves the delivery pending: the
 * next holder sends it again with the same `webhook-id`. Endpoints are served in separate slots, so a slow or
 * dead one never delays another, and this loop shares nothing with the dispatcher.
 */
export function createWebhookDeliverer(deps: WebhookDelivererDeps): WebhookDeliverer {
  const { db, clock, log, sealer, settings } = deps;
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const send = deps.send ?? sendWebhook;
  const inFlight = new Set<Promise<void>>();

  async function serve(claimed: WebhookRow, signal: AbortSignal): Promise<void> {
    const lease = { id: claimed.id, owner };
    let more = false;
    for (let round = 0; round < ROUNDS_PER_CLAIM && !signal.aborted; round++) {
      // Read again each round: the user may have changed the URL, the secret or turned the endpoint off.
      const webhook = await findLeasedWebhook(db, lease.id, owner);
      if (!webhook?.enabled) return;
      const fannedOut = await fanOutNewEvents(webhook);
      if (fannedOut === null) return;
      const now = clock.now();
      const { ordered, loose, nextDueAt } = await dueDeliveries(db, webhook.id, now, DELIVERIES_PER_ROUND);
      if (ordered.length === 0 && loose.length === 0) {
        if (fannedOut === FAN_OUT_BATCH) continue;
        await releaseWebhook(
          db,
          lease,
          Math.min(nextDueAt ?? Number.POSITIVE_INFINITY, now + settings.pollMs),
        );
        return;
      }
      const secrets = signingSecrets(sealer, webhook, now);
      for (const delivery of loose) {
        const { outcome, record } = settle(webhook, delivery, await sendOne(webhook, secrets, delivery));
        if (!(await record()) || outcome === 'disabled') return;
      }
      // In order: the first that is not delivered stops the lane until its retry. A success is recorded while
      // the next one is sent (a crash between them only sends that one again, with its webhook-id).
      let recording: Promise<boolean> | null = null;
      for (const delivery of ordered) {
        const result = await sendOne(webhook, secrets, delivery);
        if (recording !== null && !(await recording)) return;
        const { outcome, record } = settle(webhook, delivery, result);
        if (outcome === 'delivered') {
          recording = record();
          continue;
        }
        recording = null;
        if (!(await record())) return;
        if (outcome === 'disabled') return;
        break;
      }
      if (recording !== null && !(await recording)) return;
      more = true;
    }
    await releaseWebhook(db, lease, more ? clock.now() : clock.now() + settings.pollMs);
  }

  /** Copies the log's new events into deliveries; how many events were read, or null when the lease is gone. */
  async function fanOutNewEvents(webhook: WebhookRow): Promise<number | null> {
    const after = { tx: Number(webhook.cursor_tx), seq: Number(webhook.cursor_seq) };
    const events = await listEvents(db, webhook.user_id, { after, limit: FAN_OUT_BATCH });
    const last = events.at(-1);
    if (!last) return 0;
    const listed = decodeTypes(webhook);
    const types = listed === null ? null : new Set(listed);
    const wanted = events
      .filter((event) => types === null || types.has(event.type))
      .map((event) => ({
        id: event.id,
        type: event.type,
        tx: event.tx,
        seq: event.seq,
        payload: webhookPayload(event),
      }));
    const kept = await fanOut(
      db,
      { id: webhook.id, owner },
      wanted,
      { tx: last.tx, seq: last.seq },
      clock.now(),
    );
    return kept ? events.length : null;
  }

  function sendOne(
    webhook: WebhookRow,
    secrets: readonly string[],
    delivery: DeliveryRow,
  ): Promise<AttemptResult & { at: number }> {
    const at = clock.now();
    return send({
      url: webhook.url,
      secrets,
      id: delivery.event_id,
      body: delivery.payload,
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivate,
      userAgent: 'xgate-webhooks/1 (+https://www.standardwebhooks.com)',
    }).then((result) => ({ ...result, at }));
  }

  /** What an attempt's result means, and `record()`, which writes it (false when the lease was lost). */
  function settle(
    webhook: WebhookRow,
    delivery: DeliveryRow,
    result: AttemptResult & { at: number },
  ): { outcome: 'delivered' | 'retry' | 'failed' | 'disabled'; record(): Promise<boolean> } {
    const now = clock.now();
    const attempts = delivery.attempts + 1;
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    // Test and replay deliveries are sent once: their result is for a person looking at the log.
    const once = delivery.kind !== 'event';
    const delay =
      ok || once || result.statusCode === 410 ? null : retryDelayMs(attempts, result.retryAfterSeconds);
    const outcome = ok ? 'delivered' : delay !== null ? 'retry' : 'failed';
    const disableReason =
      result.statusCode === 410
        ? 'The endpoint answered 410 Gone, which asks senders to stop.'
        : outcome === 'failed' && !once
          ? `Delivery failed ${MAX_ATTEMPTS} times over about three days (last: ${result.error}).`
          : null;
    const record = async () => {
      const recorded = await recordAttempt(db, {
        deliveryId: delivery.id,
        webhookId: webhook.id,
        owner,
        attempt: {
          at: result.at,
          statusCode: result.statusCode,
          durationMs: result.durationMs,
          error: result.error,
          responseBody: result.responseBody,
        },
        delivery: {
          status: outcome === 'retry' ? 'pending' : outcome,
          attempts,
          nextAttemptAt: delay === null ? now : now + delay,
          finishedAt: outcome === 'retry' ? null : now,
        },
        leaseUntil: now + settings.leaseMs,
        ...(disableReason !== null && {
          disable: {
            reason: disableReason,
            now,
            event: {
              type: 'webhook.disabled',
              userId: webhook.user_id,
              at: now,
              data: { webhookId: webhook.id, url: webhook.url, reason: disableReason },
            },
          },
        }),
      });
      if (recorded) {
        deps.attempts.inc({ outcome });
        if (disableReason !== null) {
          log.warn({ webhookId: webhook.id, reason: disableReason }, 'webhook endpoint disabled');
        }
      }
      return recorded;
    };
    return { outcome: disableReason !== null ? 'disabled' : outcome, record };
  }

  return {
    async runOnce(signal) {
      let started = 0;
      const free = settings.concurrency - inFlight.size;
      if (free > 0 && !signal.aborted) {
        const claimed = await claimWebhooks(db, {
          owner,
          now: clock.now(),
          leaseMs: settings.leaseMs,
          limit: free,
        });
        for (const webhook of claimed) {
          const task: Promise<void> = serve(webhook, signal)
            .catch((error: unknown) =>
              log.error({ err: error, webhookId: webhook.id }, 'serving a webhook endpoint failed'),
            )
            .finally(() => inFlight.delete(task));
          inFlight.add(task);
        }
        started = claimed.length;
      }
      if (started === 0 && inFlight.size > 0 && !signal.aborted) {
        // Every slot is busy or nothing was due: wait for a slot to free up (or the next look), not for all.
        // The pause gets a signal of its own, ended when the race is over, so no listener outlives the wait.
        const wait = new AbortController();
        const stop = () => wait.abort();
        signal.addEventListener('abort', stop, { once: true });
        await Promise.race([...inFlight, pause(settings.pollMs, wait.signal)]);
        wait.abort();
        signal.removeEventListener('abort', stop);
        started = 1;
      }
      if (signal.aborted) await Promise.allSettled([...inFlight]);
      return started;
    },
  };
}
