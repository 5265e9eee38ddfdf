import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import { createSealer, type Sealer } from '../crypto/sealing.ts';
import type { Database } from '../db/index.ts';
import { NotFoundError, UnprocessableError } from '../errors/index.ts';
import type { EventType } from '../events/index.ts';
import { checkWebhookUrl } from './address-guard.ts';
import { newWebhookSecret } from './signing.ts';
import {
  countWebhooks,
  type DeliveryRow,
  deleteWebhook,
  encodeTypes,
  endOfLog,
  findDelivery,
  findWebhook,
  insertWebhook,
  listWebhooks,
  queueDelivery,
  updateWebhook,
  type WebhookRow,
} from './webhooks.repository.ts';

/** During a rotation the old secret keeps signing this long, so receivers can switch without losing a message. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** The type of the event `POST /api/v1/webhooks/:id/test` sends; never in the event log. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Largest body sent: receivers (and Standard Webhooks' advice) expect small messages. */
export const MAX_PAYLOAD_BYTES = 20_000;

/**
 * The body of every delivery: Standard Webhooks' `{type, timestamp, data}`. A body that would pass
 * {@link MAX_PAYLOAD_BYTES} (a very long thread's `items`) goes without its `items`, marked `truncated: true`:
 * the receiver reads the post (`GET /api/v1/posts/:id`) for the rest.
 */
export function webhookPayload(event: { type: string; at: number; data: object }): string {
  const timestamp = new Date(event.at).toISOString();
  const body = JSON.stringify({ type: event.type, timestamp, data: event.data });
  if (Buffer.byteLength(body) <= MAX_PAYLOAD_BYTES || !('items' in event.data)) return body;
  const { items: _, ...rest } = event.data as { items: unknown };
  return JSON.stringify({ type: event.type, timestamp, data: { ...rest, truncated: true } });
}

export interface WebhookInput {
  url: string;
  /** null or absent: every event type. */
  types?: EventType[] | null;
  description?: string;
  enabled?: boolean;
}

/** The secrets that sign a delivery at `now`: the current one, and the previous one during a rotation's overlap. */
export function signingSecrets(sealer: Sealer, webhook: WebhookRow, now: number): string[] {
  const current = sealer.open(webhook.secret_sealed, secretContext(webhook.id, 'current'));
  if (current === null)
    throw new Error(`the signing secret of webhook ${webhook.id} cannot be opened with this key`);
  const secrets = [current];
  if (
    webhook.previous_secret_sealed !== null &&
    webhook.previous_secret_expires_at !== null &&
    webhook.previous_secret_expires_at > now
  ) {
    const previous = sealer.open(webhook.previous_secret_sealed, secretContext(webhook.id, 'previous'));
    if (previous !== null) secrets.push(previous);
  }
  return secrets;
}

function secretContext(webhookId: string, which: 'current' | 'previous'): string {
  return `webhooks.${which}_secret:${webhookId}`;
}

/** The sealer of webhook secrets: a key of its own, derived from XGATE_SECRET_KEY. */
export function createWebhookSealer(secretKey: Buffer): Sealer {
  return createSealer(secretKey, { label: 'xgate webhook secret', version: 'w1' });
}

/**
 * What a user does with webhook endpoints: create (the secret shown once), change, rotate the secret, send a
 * test, replay a delivery, delete. Delivery itself is the worker's ({@link createWebhookDeliverer}).
 */
export class WebhooksService {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      clock: Clock;
      sealer: Sealer;
      allowPrivate: boolean;
      maxPerUser: number;
    },
  ) {}

  list(userId: string): Promise<WebhookRow[]> {
    return listWebhooks(this.deps.db, userId);
  }

  async get(userId: string, id: string): Promise<WebhookRow> {
    const webhook = await findWebhook(this.deps.db, userId, id);
    if (!webhook) throw new NotFoundError('webhook', 'webhook_not_found');
    return webhook;
  }

  async create(userId: string, input: WebhookInput): Promise<{ webhook: WebhookRow; secret: string }> {
    const { db, clock, sealer, maxPerUser } = this.deps;
    await this.#checkUrl(input.url);
    if ((await countWebhooks(db, userId)) >= maxPerUser) {
      throw new UnprocessableError(
        `You already have ${maxPerUser} webhooks, the most one user may have (XGATE_MAX_WEBHOOKS_PER_USER). Delete one you no longer use, or send several event types to one URL.`,
        'webhook_limit',
        { limit: maxPerUser },
      );
    }
    const now = clock.now();
    const id = randomUUID();
    const secret = newWebhookSecret();
    const start = await endOfLog(db, userId);
    const webhook: WebhookRow = {
      id,
      user_id: userId,
      url: input.url,
      types: encodeTypes(input.types),
      description: input.description ?? '',
      enabled: input.enabled === false ? 0 : 1,
      disabled_reason: null,
      secret_sealed: sealer.seal(secret, secretContext(id, 'current')),
      previous_secret_sealed: null,
      previous_secret_expires_at: null,
      cursor_tx: start.tx,
      cursor_seq: start.seq,
      next_run_at: now,
      lease_owner: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
    };
    await insertWebhook(db, webhook);
    return { webhook, secret };
  }

  async update(userId: string, id: string, input: Partial<WebhookInput>): Promise<WebhookRow> {
    const { db, clock } = this.deps;
    await this.get(userId, id);
    if (input.url !== undefined) await this.#checkUrl(input.url);
    const now = clock.now();
    const updated = await updateWebhook(db, userId, id, {
      ...(input.url !== undefined && { url: input.url }),
      ...(input.types !== undefined && { types: encodeTypes(input.types) }),
      ...(input.description !== undefined && { description: input.description }),
      ...(input.enabled !== undefined && {
        enabled: input.enabled ? 1 : 0,
        disabled_reason: input.enabled ? null : 'disabled by you',
      }),
      // Whatever changed, a worker looks at the endpoint now: a re-enabled one resumes where it stopped.
      next_run_at: now,
      updated_at: now,
    });
    if (!updated) throw new NotFoundError('webhook', 'webhook_not_found');
    return updated;
  }

  async remove(userId: string, id: string): Promise<void> {
    if (!(await deleteWebhook(this.deps.db, userId, id)))
      throw new NotFoundError('webhook', 'webhook_not_found');
  }

  /** A new secret; the old one keeps signing for {@link ROTATION_OVERLAP_MS}. */
  async rotateSecret(userId: string, id: string): Promise<{ webhook: WebhookRow; secret: string }> {
    const { db, clock, sealer } = this.deps;
    const webhook = await this.get(userId, id);
    const now = clock.now();
    const [current] = signingSecrets(sealer, webhook, now);
    const secret = newWebhookSecret();
    const updated = await updateWebhook(db, userId, id, {
      secret_sealed: sealer.seal(secret, secretContext(id, 'current')),
      previous_secret_sealed: sealer.seal(current as string, secretContext(id, 'previous')),
      previous_secret_expires_at: now + ROTATION_OVERLAP_MS,
      updated_at: now,
    });
    if (!updated) throw new NotFoundError('webhook', 'webhook_not_found');
    return { webhook: updated, secret };
  }

  /** Queues a `webhook.test` delivery, sent once, outside the log's order. */
  async sendTest(userId: string, id: string): Promise<DeliveryRow> {
    const webhook = await this.get(userId, id);
    const now = this.deps.clock.now();
    const eventId = randomUUID();
    return queueDelivery(this.deps.db, {
      webhookId: webhook.id,
      eventId,
      eventType: TEST_EVENT_TYPE,
      kind: 'test',
      payload: webhookPayload({
        type: TEST_EVENT_TYPE,
        at: now,
        data: {
          webhookId: webhook.id,
          message: 'A test event from xgate: your endpoint receives and verifies webhooks.',
        },
      }),
      now,
    });
  }

  /** Queues the same message again (same `webhook-id`, same body), sent once, outside the log's order. */
  async replay(userId: string, id: string, deliveryId: string): Promise<DeliveryRow> {
    const webhook = await this.get(userId, id);
    const original = await findDelivery(this.deps.db, webhook.id, deliveryId);
    if (!original) throw new NotFoundError('delivery', 'webhook_delivery_not_found');
    return queueDelivery(this.deps.db, {
      webhookId: webhook.id,
      eventId: original.event_id,
      eventType: original.event_type,
      kind: 'replay',
      payload: original.payload,
      now: this.deps.clock.now(),
    });
  }

  async #checkUrl(url: string): Promise<void> {
    const verdict = await checkWebhookUrl(new URL(url), this.deps.allowPrivate);
    if (!verdict.ok) {
      throw new UnprocessableError(
        `The webhook URL ${verdict.reason}.${verdict.unresolvable ? ' Check the host name.' : this.deps.allowPrivate ? '' : ' Webhooks go to public https:// addresses only (an operator can allow private ones with XGATE_WEBHOOK_ALLOW_PRIVATE=true).'}`,
        'webhook_url_not_allowed',
        [{ in: 'body', field: 'url', message: verdict.reason }],
      );
    }
  }
}
