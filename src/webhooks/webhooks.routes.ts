import { z } from 'zod';
import { decodeListCursor, encodeListCursor } from '../db/list-cursor.ts';
import { EVENT_TYPES } from '../events/index.ts';
import { requireUser } from '../http/auth.ts';
import type { RouteModule } from '../http/types.ts';
import {
  type DeliveryRow,
  decodeTypes,
  deliveryCounts,
  listDeliveries,
  type WebhookRow,
} from './webhooks.repository.ts';

const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  types: z
    .array(z.enum(EVENT_TYPES))
    .nullable()
    .describe('The event types sent to this endpoint; null = every type (including types added later).'),
  description: z.string(),
  enabled: z.boolean(),
  disabledReason: z
    .string()
    .nullable()
    .describe(
      'Why the endpoint is disabled: by you, a 410 answer, or retries that ran out. Null while enabled.',
    ),
  previousSecretExpiresAt: z
    .number()
    .nullable()
    .describe('After a rotation, until when (epoch ms) the previous secret also signs.'),
  pendingDeliveries: z.number().int().describe('Deliveries not yet made (waiting, or retrying).'),
  failedDeliveries: z.number().int().describe('Deliveries given up (kept in the delivery log).'),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const withSecret = webhookSchema.extend({
  secret: z
    .string()
    .describe('`whsec_…`: verify signatures with it (e.g. the `standardwebhooks` package). Shown only here.'),
});

const attemptSchema = z.object({
  at: z.number().describe('Epoch milliseconds.'),
  statusCode: z.number().int().nullable().describe('The receiver’s status; null when no answer came.'),
  durationMs: z.number().int(),
  error: z.string().nullable().describe('What went wrong, in words; null on success.'),
  responseBody: z.string().nullable().describe('The first 1,024 bytes of the receiver’s answer.'),
});

const deliverySchema = z.object({
  id: z.string(),
  eventId: z.string().describe('The `webhook-id` header: the same on every attempt and replay.'),
  type: z.string().describe('The event type, or `webhook.test`.'),
  kind: z
    .enum(['event', 'test', 'replay'])
    .describe('`event`: from the event log, in order, retried on the schedule; `test`/`replay`: sent once.'),
  status: z.enum(['pending', 'delivered', 'failed']),
  nextAttemptAt: z.number().nullable().describe('While pending: when the next attempt is due (epoch ms).'),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  attempts: z.array(attemptSchema),
});

const typesField = z
  .array(z.enum(EVENT_TYPES))
  .max(EVENT_TYPES.length)
  .nullable()
  .describe(`Event types to send (default: all). The types: ${EVENT_TYPES.join(', ')}.`);
const urlField = z
  .string()
  .max(2000, 'must be at most 2,000 characters')
  .refine((v) => URL.canParse(v), 'must be an absolute URL, e.g. https://example.com/hooks/xgate')
  .describe('Where to POST: https:// on a public address.');
const descriptionField = z.string().max(500, 'must be at most 500 characters');

const webhookParams = z.object({ id: z.string().min(1).max(100) });

function webhookView(webhook: WebhookRow, counts: { pending: number; failed: number } | undefined) {
  return {
    id: webhook.id,
    url: webhook.url,
    types: decodeTypes(webhook),
    description: webhook.description,
    enabled: webhook.enabled === 1,
    disabledReason: webhook.disabled_reason,
    previousSecretExpiresAt: webhook.previous_secret_expires_at,
    pendingDeliveries: counts?.pending ?? 0,
    failedDeliveries: counts?.failed ?? 0,
    createdAt: webhook.created_at,
    updatedAt: webhook.updated_at,
  };
}

function deliveryView(delivery: DeliveryRow, attempts: z.infer<typeof attemptSchema>[]) {
  return {
    id: delivery.id,
    eventId: delivery.event_id,
    type: delivery.event_type,
    kind: delivery.kind as 'event' | 'test' | 'replay',
    status: delivery.status as 'pending' | 'delivered' | 'failed',
    nextAttemptAt: delivery.status === 'pending' ? delivery.next_attempt_at : null,
    createdAt: delivery.created_at,
    finishedAt: delivery.finished_at,
    attempts,
  };
}

/** `/api/v1/webhooks`: the user's endpoints, their secrets, tests, and the delivery log with replay. */
export const webhooksRoutes: RouteModule = (app, deps) => {
  const service = deps.webhooks;
  const viewOf = async (webhook: WebhookRow) =>
    webhookView(webhook, (await deliveryCounts(deps.db, [webhook.id])).get(webhook.id));

  app.post(
    '/api/v1/webhooks',
    {
      // A replayed answer holds the secret: kept sealed, never in clear.
      config: { idempotency: { sealAnswer: true } },
      schema: {
        tags: ['webhooks'],
        summary:
          'Adds an endpoint that receives your events as signed Standard Webhooks; the secret is shown once.',
        description:
          'Each event of your log whose type matches is POSTed as `{type, timestamp, data}` with the headers ' +
          '`webhook-id` (the event id, the same on every retry), `webhook-timestamp` and `webhook-signature` ' +
          '(Standard Webhooks v1), in order, at least once. Failed deliveries are retried after 5 s, 5 min, ' +
          '30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h; then, or on a 410 answer, the endpoint is disabled and a ' +
          '`webhook.disabled` event is recorded. The URL must be https:// on a public address.',
        body: z.strictObject({
          url: urlField,
          types: typesField.optional(),
          description: descriptionField.optional(),
          enabled: z.boolean().optional(),
        }),
        response: { 201: withSecret },
      },
    },
    async (request, reply) => {
      const { webhook, secret } = await service.create(requireUser(request).id, request.body);
      return reply.status(201).send({ ...webhookView(webhook, undefined), secret });
    },
  );

  app.get(
    '/api/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Your webhook endpoints (never their secrets).',
        response: { 200: z.object({ items: z.array(webhookSchema) }) },
      },
    },
    async (request) => {
      const webhooks = await service.list(requireUser(request).id);
      const counts = await deliveryCounts(
        deps.db,
        webhooks.map((w) => w.id),
      );
      return { items: webhooks.map((w) => webhookView(w, counts.get(w.id))) };
    },
  );

  app.get(
    '/api/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'One webhook endpoint.',
        params: webhookParams,
        response: { 200: webhookSchema },
      },
    },
    async (request) => viewOf(await service.get(requireUser(request).id, request.params.id)),
  );

  app.patch(
    '/api/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Changes an endpoint’s URL, types, description, or turns it on or off.',
        description:
          'Turning a disabled endpoint back on resumes where it stopped: events recorded meanwhile (kept ' +
          '`XGATE_EVENTS_RETENTION_DAYS`) are delivered, in order.',
        params: webhookParams,
        body: z.strictObject({
          url: urlField.optional(),
          types: typesField.optional(),
          description: descriptionField.optional(),
          enabled: z.boolean().optional(),
        }),
        response: { 200: webhookSchema },
      },
    },
    async (request) => viewOf(await service.update(requireUser(request).id, request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Deletes an endpoint and its delivery log; nothing more is sent to it.',
        params: webhookParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await service.remove(requireUser(request).id, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/webhooks/:id/rotate-secret',
    {
      config: { idempotency: { sealAnswer: true } },
      schema: {
        tags: ['webhooks'],
        summary: 'Makes a new signing secret (shown once); the old one keeps signing for 24 hours.',
        description:
          'For 24 hours each delivery carries two signatures in `webhook-signature`, one per secret, so ' +
          'receivers verifying with either keep working while you deploy the new one.',
        params: webhookParams,
        response: { 200: withSecret },
      },
    },
    async (request) => {
      const { webhook, secret } = await service.rotateSecret(requireUser(request).id, request.params.id);
      return { ...(await viewOf(webhook)), secret };
    },
  );

  app.post(
    '/api/v1/webhooks/:id/test',
    {
      schema: {
        tags: ['webhooks'],
        summary:
          'Sends a `webhook.test` event to the endpoint (once, within a second); see the delivery log.',
        params: webhookParams,
        response: { 202: deliverySchema },
      },
    },
    async (request, reply) => {
      const delivery = await service.sendTest(requireUser(request).id, request.params.id);
      return reply.status(202).send(deliveryView(delivery, []));
    },
  );

  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'The endpoint’s delivery log, newest first: every attempt with status, duration and answer.',
        description: 'Finished deliveries are kept `XGATE_WEBHOOK_RETENTION_DAYS` (30).',
        params: webhookParams,
        querystring: z.strictObject({
          status: z.enum(['pending', 'delivered', 'failed']).optional(),
          cursor: z.string().max(300).optional().describe('`nextCursor` of the previous page.'),
          limit: z.coerce.number().int().min(1).max(100).default(50),
        }),
        response: { 200: z.object({ items: z.array(deliverySchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const webhook = await service.get(requireUser(request).id, request.params.id);
      const { status, cursor, limit } = request.query;
      const page = await listDeliveries(deps.db, webhook.id, {
        ...(status && { status }),
        ...(cursor && { before: decodeListCursor(cursor) }),
        limit: limit + 1,
      });
      const items = page.slice(0, limit);
      const last = items.at(-1);
      return {
        items: items.map((d) =>
          deliveryView(
            d,
            d.attemptLog.map((a) => ({
              at: a.at,
              statusCode: a.status_code,
              durationMs: a.duration_ms,
              error: a.error,
              responseBody: a.response_body,
            })),
          ),
        ),
        nextCursor:
          page.length > limit && last ? encodeListCursor({ createdAt: last.created_at, id: last.id }) : null,
      };
    },
  );

  app.post(
    '/api/v1/webhooks/:id/deliveries/:deliveryId/replay',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Sends a delivery again, once: same `webhook-id`, same body, a fresh signature.',
        params: webhookParams.extend({ deliveryId: z.string().min(1).max(100) }),
        response: { 202: deliverySchema },
      },
    },
    async (request, reply) => {
      const delivery = await service.replay(
        requireUser(request).id,
        request.params.id,
        request.params.deliveryId,
      );
      return reply.status(202).send(deliveryView(delivery, []));
    },
  );
};
