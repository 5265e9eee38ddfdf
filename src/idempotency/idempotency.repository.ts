import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../db/schema.ts';

/** The first final answer given under a key, as it went out. */
export interface StoredAnswer {
  status: number;
  contentType: string | null;
  /** The body exactly as sent. */
  body: string;
}

/** A remembered Idempotency-Key. */
export interface IdempotencyRecord {
  userId: string;
  key: string;
  fingerprint: string;
  status: 'in_progress' | 'done';
  /** Set when the first request created a resource (written in the create transaction). */
  resourceId: string | null;
  /** The request holding an `in_progress` key, and until when its claim counts (epoch ms). */
  leaseOwner: string | null;
  leaseUntil: number;
  /** Set once `done`. */
  answer: StoredAnswer | null;
  createdAt: number;
  expiresAt: number;
}

function toRecord(row: Selectable<IdempotencyKeysTable>): IdempotencyRecord {
  return {
    userId: row.user_id,
    key: row.key,
    fingerprint: row.fingerprint,
    status: row.status,
    resourceId: row.resource_id,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    answer:
      row.response_status === null || row.response_body === null
        ? null
        : { status: row.response_status, contentType: row.response_content_type, body: row.response_body },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** The user's key, or null when it was never used or has expired (an expired row awaiting the purge counts as absent). */
export async function findIdempotencyKey(
  db: Kysely<Database>,
  userId: string,
  key: string,
  now: number,
): Promise<IdempotencyRecord | null> {
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

/** A key row to write: an in-progress claim, or a final answer given without one. */
export interface NewIdempotencyKey {
  userId: string;
  key: string;
  fingerprint: string;
  now: number;
  /** When the key is forgotten: `now` + the configured TTL. */
  expiresAt: number;
  /** For an in-progress claim: who holds it and until when. */
  lease?: { owner: string; until: number };
  /** For a claim written in a create transaction: the created resource. */
  resourceId?: string;
  /** For a final answer written directly (no claim was taken). */
  answer?: StoredAnswer;
}

/**
 * Writes the key unless a live one holds its place: inserts it, or replaces a row that has expired or
 * that an earlier attempt of the same request abandoned (in progress, nothing created, lease run out).
 * True when written. On PostgreSQL a concurrent writer of the same key waits here for the other
 * transaction to end, so at most one of them gets true: that insert is the cross-process reservation.
 */
export async function insertIdempotencyKey(db: Kysely<Database>, input: NewIdempotencyKey): Promise<boolean> {
  const values = {
    user_id: input.userId,
    key: input.key,
    fingerprint: input.fingerprint,
    status: input.answer ? ('done' as const) : ('in_progress' as const),
    resource_id: input.resourceId ?? null,
    lease_owner: input.lease?.owner ?? null,
    lease_until: input.lease?.until ?? 0,
    response_status: input.answer?.status ?? null,
    response_content_type: input.answer?.contentType ?? null,
    response_body: input.answer?.body ?? null,
    created_at: input.now,
    expires_at: input.expiresAt,
  };
  const result = await db
    .insertInto('idempotency_keys')
    .values(values)
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'key'])
        .doUpdateSet({
          fingerprint: (eb) => eb.ref('excluded.fingerprint'),
          status: (eb) => eb.ref('excluded.status'),
          resource_id: (eb) => eb.ref('excluded.resource_id'),
          lease_owner: (eb) => eb.ref('excluded.lease_owner'),
          lease_until: (eb) => eb.ref('excluded.lease_until'),
          response_status: (eb) => eb.ref('excluded.response_status'),
          response_content_type: (eb) => eb.ref('excluded.response_content_type'),
          response_body: (eb) => eb.ref('excluded.response_body'),
          created_at: (eb) => eb.ref('excluded.created_at'),
          expires_at: (eb) => eb.ref('excluded.expires_at'),
        })
        .where((eb) =>
          eb.or([
            eb('idempotency_keys.expires_at', '<=', input.now),
            eb.and([
              eb('idempotency_keys.status', '=', 'in_progress'),
              eb('idempotency_keys.resource_id', 'is', null),
              eb('idempotency_keys.lease_until', '<=', input.now),
              eb('idempotency_keys.fingerprint', '=', input.fingerprint),
            ]),
          ]),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The key's row while `owner` holds it in progress: every write of a claim is fenced on this. */
function heldBy(claim: { userId: string; key: string; owner: string }) {
  return (eb: ExpressionBuilder<Database, 'idempotency_keys'>) =>
    eb.and([
      eb('user_id', '=', claim.userId),
      eb('key', '=', claim.key),
      eb('lease_owner', '=', claim.owner),
      eb('status', '=', 'in_progress'),
    ]);
}

/** Keeps `owner`'s claim alive until `until`. False when the claim is no longer `owner`'s. */
export async function renewIdempotencyLease(
  db: Kysely<Database>,
  claim: { userId: string; key: string; owner: string; until: number },
): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ lease_until: claim.until })
    .where(heldBy(claim))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Takes over an in-progress key whose holder stopped renewing its lease (it crashed, or gave up after a
 * 5xx) — to answer from the resource it already created. True when `owner` now holds it.
 */
export async function takeOverIdempotencyKey(
  db: Kysely<Database>,
  claim: { userId: string; key: string; owner: string; now: number; until: number },
): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ lease_owner: claim.owner, lease_until: claim.until })
    .where('user_id', '=', claim.userId)
    .where('key', '=', claim.key)
    .where('status', '=', 'in_progress')
    .where('lease_until', '<=', claim.now)
    .where('expires_at', '>', claim.now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Stores the final answer of `owner`'s claim; from now on the key replays it. False when `owner` no
 * longer holds the key (another request took it over after the lease ran out) or holds no row yet.
 * Touches no indexed column.
 */
export async function completeIdempotencyKey(
  db: Kysely<Database>,
  claim: { userId: string; key: string; owner: string; answer: StoredAnswer },
): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({
      status: 'done',
      lease_owner: null,
      lease_until: 0,
      response_status: claim.answer.status,
      response_content_type: claim.answer.contentType,
      response_body: claim.answer.body,
    })
    .where(heldBy(claim))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Lets go of `owner`'s claim after an answer that is not kept (5xx): forgotten when nothing was created,
 * so a retry runs again; when a resource was created, kept with its lease ended, so a retry answers from
 * the resource at once instead of creating it again.
 */
export async function releaseIdempotencyKey(
  db: Kysely<Database>,
  claim: { userId: string; key: string; owner: string },
): Promise<void> {
  await db.deleteFrom('idempotency_keys').where(heldBy(claim)).where('resource_id', 'is', null).execute();
  await db
    .updateTable('idempotency_keys')
    .set({ lease_owner: null, lease_until: 0 })
    .where(heldBy(claim))
    .execute();
}

/** How many expired keys one purge statement deletes at most. */
const PURGE_BATCH = 1000;

/** Deletes up to 1000 keys that expired at or before `now`; returns how many (call again while > 0). */
export async function purgeExpiredIdempotencyKeys(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where((eb) =>
      eb(
        eb.refTuple('user_id', 'key'),
        'in',
        eb
          .selectFrom('idempotency_keys')
          .select(['user_id', 'key'])
          .where('expires_at', '<=', now)
          .limit(PURGE_BATCH)
          .$asTuple('user_id', 'key'),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Forgets every remembered request (their sealed answers no longer open after the key was lost). */
export async function forgetAllIdempotencyKeys(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').executeTakeFirst();
  return Number(result.numDeletedRows);
}
