import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import { isPostgres } from '../db/index.ts';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from '../db/schema.ts';
import { appendEvents, type EventType, type LogPosition, type NewEvent } from '../events/index.ts';

/** The one owner of the `webhooks`, `webhook_deliveries` and `webhook_attempts` tables. */

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export type DeliveryKind = 'event' | 'test' | 'replay';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The stored form of an endpoint's event types: a JSON array, or null for every type (also for none given). */
export function encodeTypes(types: readonly EventType[] | null | undefined): string | null {
  return types && types.length > 0 ? JSON.stringify(types) : null;
}

/** The endpoint's event types; null = every type. */
export function decodeTypes(webhook: Pick<WebhookRow, 'types'>): EventType[] | null {
  return webhook.types === null ? null : (JSON.parse(webhook.types) as EventType[]);
}

/** The endpoint, when this worker still holds its lease. */
export function findLeasedWebhook(
  db: Kysely<Database>,
  id: string,
  owner: string,
): Promise<WebhookRow | undefined> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
}

export async function insertWebhook(db: Kysely<Database>, row: WebhookRow): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
}

export async function countWebhooks(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('webhooks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The user's webhook `id`; undefined when there is none (or it is another user's). */
export function findWebhook(
  db: Kysely<Database>,
  userId: string,
  id: string,
): Promise<WebhookRow | undefined> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export function listWebhooks(db: Kysely<Database>, userId: string): Promise<WebhookRow[]> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Changes the user's webhook; returns the row after the change, or undefined when there is none. */
export async function updateWebhook(
  db: Kysely<Database>,
  userId: string,
  id: string,
  change: Partial<
    Pick<
      WebhookRow,
      | 'url'
      | 'types'
      | 'description'
      | 'enabled'
      | 'disabled_reason'
      | 'secret_sealed'
      | 'previous_secret_sealed'
      | 'previous_secret_expires_at'
      | 'next_run_at'
    >
  > & { updated_at: number },
): Promise<WebhookRow | undefined> {
  return db
    .updateTable('webhooks')
    .set(change)
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteWebhook(db: Kysely<Database>, userId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('webhooks')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Where the user's event log ends now: a new endpoint receives what comes after. */
export async function endOfLog(db: Kysely<Database>, userId: string): Promise<LogPosition> {
  const last = await db
    .selectFrom('events')
    .select(['tx', 'seq'])
    .where('user_id', '=', userId)
    .orderBy('tx', 'desc')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return last ? { tx: Number(last.tx), seq: Number(last.seq) } : { tx: 0, seq: 0 };
}

/** Queues a delivery made by hand (`test`, `replay`): sent as soon as a worker looks, outside the log's order. */
export async function queueDelivery(
  db: Kysely<Database>,
  delivery: {
    webhookId: string;
    eventId: string;
    eventType: string;
    kind: DeliveryKind;
    payload: string;
    now: number;
  },
): Promise<DeliveryRow> {
  const row: DeliveryRow = {
    id: randomUUID(),
    webhook_id: delivery.webhookId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    kind: delivery.kind,
    event_tx: 0,
    event_seq: 0,
    payload: delivery.payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: delivery.now,
    created_at: delivery.now,
    finished_at: null,
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_deliveries').values(row).execute();
    await trx
      .updateTable('webhooks')
      .set({ next_run_at: delivery.now })
      .where('id', '=', delivery.webhookId)
      .execute();
  });
  return row;
}

export function findDelivery(
  db: Kysely<Database>,
  webhookId: string,
  deliveryId: string,
): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', deliveryId)
    .where('webhook_id', '=', webhookId)
    .executeTakeFirst();
}

/** A delivery with its attempts, as the delivery log shows it. */
export interface DeliveryWithAttempts extends DeliveryRow {
  attemptLog: Array<{
    at: number;
    status_code: number | null;
    duration_ms: number;
    error: string | null;
    response_body: string | null;
  }>;
}

/** The endpoint's deliveries, newest first, from `before` (created_at, id) on. */
export async function listDeliveries(
  db: Kysely<Database>,
  webhookId: string,
  options: { status?: DeliveryStatus; before?: { createdAt: number; id: string }; limit: number },
): Promise<DeliveryWithAttempts[]> {
  let query = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.status) query = query.where('status', '=', options.status);
  const { before } = options;
  if (before) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', before.createdAt),
        eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
      ]),
    );
  }
  const deliveries = await query.execute();
  if (deliveries.length === 0) return [];
  const attempts = await db
    .selectFrom('webhook_attempts')
    .select(['delivery_id', 'at', 'status_code', 'duration_ms', 'error', 'response_body'])
    .where(
      'delivery_id',
      'in',
      deliveries.map((d) => d.id),
    )
    .orderBy('at')
    .orderBy('id')
    .execute();
  return deliveries.map((delivery) => ({
    ...delivery,
    attemptLog: attempts.filter((a) => a.delivery_id === delivery.id).map(({ delivery_id: _, ...a }) => a),
  }));
}

/**
 * Leases up to `limit` enabled endpoints that are due (`next_run_at` passed) and not leased by a live worker.
 * On PostgreSQL, `for update skip locked` lets any number of workers claim at once without taking the same one.
 */
export async function claimWebhooks(
  db: Kysely<Database>,
  claim: { owner: string; now: number; leaseMs: number; limit: number },
): Promise<WebhookRow[]> {
  const pg = isPostgres(db);
  return db
    .updateTable('webhooks')
    .set({ lease_owner: claim.owner, lease_until: claim.now + claim.leaseMs })
    .where('id', 'in', (eb) => {
      let due = eb
        .selectFrom('webhooks as due')
        .select('due.id')
        .where('due.enabled', '=', 1)
        .where('due.next_run_at', '<=', claim.now)
        .where((w) => w.or([w('due.lease_until', 'is', null), w('due.lease_until', '<', claim.now)]))
        .orderBy('due.next_run_at')
        .limit(claim.limit);
      if (pg) due = due.forUpdate().skipLocked();
      return due;
    })
    .returningAll()
    .execute();
}

/**
 * Fans events out to a leased endpoint: one `event` delivery each (once, whatever happens), and moves the
 * endpoint's cursor past them, in one transaction. False when the lease was lost.
 */
export async function fanOut(
  db: Kysely<Database>,
  webhook: { id: string; owner: string },
  events: ReadonlyArray<{ id: string; type: string; tx: number; seq: number; payload: string }>,
  to: LogPosition,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable('webhooks')
      .set({ cursor_tx: to.tx, cursor_seq: to.seq })
      .where('id', '=', webhook.id)
      .where('lease_owner', '=', webhook.owner)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return false;
    if (events.length === 0) return true;
    await trx
      .insertInto('webhook_deliveries')
      .values(
        events.map((event) => ({
          id: randomUUID(),
          webhook_id: webhook.id,
          event_id: event.id,
          event_type: event.type,
          kind: 'event',
          event_tx: event.tx,
          event_seq: event.seq,
          payload: event.payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          created_at: now,
          finished_at: null,
        })),
      )
      // A literal, not a parameter: SQLite matches this WHERE against the partial unique index's.
      .onConflict((oc) =>
        oc.columns(['webhook_id', 'kind', 'event_id']).where(sql<boolean>`kind = 'event'`).doNothing(),
      )
      .execute();
    return true;
  });
}

/**
 * What an endpoint has to send now. `ordered`: its oldest pending `event` deliveries, in the log's order, up to
 * `limit` — when the oldest is due (while it waits for a retry, nothing behind it goes first). `loose`: due
 * `test`/`replay` deliveries, which keep no order. `nextDueAt`: when something pending falls due, if not now.
 */
export async function dueDeliveries(
  db: Kysely<Database>,
  webhookId: string,
  now: number,
  limit: number,
): Promise<{ ordered: DeliveryRow[]; loose: DeliveryRow[]; nextDueAt: number | null }> {
  const lane = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .where('kind', '=', 'event')
    .orderBy('event_tx')
    .orderBy('event_seq')
    .limit(limit)
    .execute();
  const loose = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .where('kind', '!=', 'event')
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  const head = lane[0];
  const waiting = [head, ...loose].filter((d) => d !== undefined && d.next_attempt_at > now);
  return {
    ordered: head && head.next_attempt_at <= now ? lane : [],
    loose: loose.filter((d) => d.next_attempt_at <= now),
    nextDueAt:
      waiting.length > 0 ? Math.min(...waiting.map((d) => (d as DeliveryRow).next_attempt_at)) : null,
  };
}

/** What an attempt changes: the attempt's log line, the delivery's state, and maybe the endpoint's. */
export interface AttemptRecord {
  deliveryId: string;
  webhookId: string;
  owner: string;
  attempt: {
    at: number;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
    responseBody: string | null;
  };
  delivery: { status: DeliveryStatus; attempts: number; nextAttemptAt: number; finishedAt: number | null };
  /** Renews the endpoint's lease to this time. */
  leaseUntil: number;
  /** Disables the endpoint, recording `webhook.disabled` in the same transaction. */
  disable?: { reason: string; event: NewEvent; now: number };
}

/**
 * Records one attempt in one transaction, fenced by the endpoint's lease: false (nothing written) when another
 * worker has taken the endpoint meanwhile. The attempt then went out twice at most, with the same `webhook-id`.
 */
export async function recordAttempt(db: Kysely<Database>, record: AttemptRecord): Promise<boolean> {
  if (!record.disable && isPostgres(db)) return recordAttemptPg(db, record);
  return db.transaction().execute(async (trx) => {
    const leased = await trx
      .updateTable('webhooks')
      .set({
        lease_until: record.leaseUntil,
        ...(record.disable && {
          enabled: 0,
          disabled_reason: record.disable.reason,
          updated_at: record.disable.now,
        }),
      })
      .where('id', '=', record.webhookId)
      .where('lease_owner', '=', record.owner)
      .executeTakeFirst();
    if (Number(leased.numUpdatedRows) === 0) return false;
    await trx
      .insertInto('webhook_attempts')
      .values({
        id: randomUUID(),
        delivery_id: record.deliveryId,
        at: record.attempt.at,
        status_code: record.attempt.statusCode,
        duration_ms: record.attempt.durationMs,
        error: record.attempt.error,
        response_body: record.attempt.responseBody,
      })
      .execute();
    await trx
      .updateTable('webhook_deliveries')
      .set({
        status: record.delivery.status,
        attempts: record.delivery.attempts,
        next_attempt_at: record.delivery.nextAttemptAt,
        finished_at: record.delivery.finishedAt,
      })
      .where('id', '=', record.deliveryId)
      .execute();
    if (record.disable) await appendEvents(trx, [record.disable.event]);
    return true;
  });
}

/**
 * PostgreSQL: the same writes as {@link recordAttempt} in one statement (one round trip instead of five: a
 * delivery's bookkeeping must not cost more than the delivery).
 */
async function recordAttemptPg(db: Kysely<Database>, record: AttemptRecord): Promise<boolean> {
  const { attempt, delivery } = record;
  const result = await sql<{ n: number }>`
    with lease as (
      update webhooks set lease_until = ${record.leaseUntil}::bigint
      where id = ${record.webhookId}::text and lease_owner = ${record.owner}::text
      returning id
    ), logged as (
      insert into webhook_attempts (id, delivery_id, at, status_code, duration_ms, error, response_body)
      select ${randomUUID()}::text, ${record.deliveryId}::text, ${attempt.at}::bigint,
        ${attempt.statusCode}::integer, ${attempt.durationMs}::integer, ${attempt.error}::text,
        ${attempt.responseBody}::text
      from lease
    ), settled as (
      update webhook_deliveries set status = ${delivery.status}::text, attempts = ${delivery.attempts}::integer,
        next_attempt_at = ${delivery.nextAttemptAt}::bigint, finished_at = ${delivery.finishedAt}::bigint
      where id = ${record.deliveryId}::text and exists (select 1 from lease)
    )
    select count(*)::integer as n from lease`.execute(db);
  return Number(result.rows[0]?.n ?? 0) > 0;
}

/** Lets go of a leased endpoint until `nextRunAt`. */
export async function releaseWebhook(
  db: Kysely<Database>,
  webhook: { id: string; owner: string },
  nextRunAt: number,
): Promise<void> {
  await db
    .updateTable('webhooks')
    .set({ lease_owner: null, lease_until: null, next_run_at: nextRunAt })
    .where('id', '=', webhook.id)
    .where('lease_owner', '=', webhook.owner)
    .execute();
}

/** Deletes finished deliveries (and their attempts) older than `before`; returns how many. */
export async function purgeDeliveries(db: Kysely<Database>, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '!=', 'pending')
        .where('finished_at', '<', before)
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Counts of an endpoint's deliveries by status, for its view. */
export async function deliveryCounts(
  db: Kysely<Database>,
  webhookIds: readonly string[],
): Promise<Map<string, { pending: number; failed: number }>> {
  const counts = new Map<string, { pending: number; failed: number }>();
  if (webhookIds.length === 0) return counts;
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['webhook_id', 'status', sql<number>`count(*)`.as('n')])
    .where('webhook_id', 'in', [...webhookIds])
    .where('status', 'in', ['pending', 'failed'])
    .groupBy(['webhook_id', 'status'])
    .execute();
  for (const row of rows) {
    const entry = counts.get(row.webhook_id) ?? { pending: 0, failed: 0 };
    entry[row.status as 'pending' | 'failed'] = Number(row.n);
    counts.set(row.webhook_id, entry);
  }
  return counts;
}
