import { type Kysely, sql, type Transaction } from 'kysely';
import { batchedRowByKey } from '../db/batched.ts';
import { atomically, type GroupedExecutor } from '../db/group-commit.ts';
import type { Database } from '../db/index.ts';
import type { Operation } from './prices.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** One priced charge to record. */
export interface PricedCharge {
  operation: Operation;
  resourceId: string;
  perDay: boolean;
  usd: number;
}

/** The charges of one call X answered, for an X account on a UTC day. */
export interface CallCharges {
  xUserId: string;
  day: number;
  charges: readonly PricedCharge[];
}

/**
 * Records the charges of calls (in the order they were made) atomically: a per-day read only when its
 * resource was not billed yet that day (app-wide). Returns what was recorded.
 */
export async function recordCharges(
  db: GroupedExecutor,
  calls: readonly CallCharges[],
): Promise<PricedCharge[]> {
  if (calls.every((call) => call.charges.length === 0)) return [];
  const perDayReads = calls.some((call) => call.charges.some((charge) => charge.perDay));
  const record = async (trx: GroupedExecutor): Promise<PricedCharge[]> => {
    const readKey = (day: number, resourceId: string) => `${day} ${resourceId}`;
    const reads = new Map<string, { day: number; resource_id: string }>();
    for (const { day, charges } of calls)
      for (const charge of charges)
        if (charge.perDay)
          reads.set(readKey(day, charge.resourceId), { day, resource_id: charge.resourceId });
    let firstReads = new Set<string>();
    if (reads.size > 0) {
      const inserted = await trx
        .insertInto('spend_read_days')
        .values([...reads.values()])
        .onConflict((conflict) => conflict.columns(['day', 'resource_id']).doNothing())
        .returning(['day', 'resource_id'])
        .execute();
      firstReads = new Set(inserted.map((row) => readKey(Number(row.day), row.resource_id)));
    }
    const billed: PricedCharge[] = [];
    const totals = new Map<
      string,
      { x_user_id: string; day: number; operation: Operation; calls: number; usd: number }
    >();
    for (const { xUserId, day, charges } of calls) {
      for (const charge of charges) {
        if (charge.perDay && !firstReads.delete(readKey(day, charge.resourceId))) continue;
        billed.push(charge);
        const key = `${xUserId} ${day} ${charge.operation}`;
        const total = totals.get(key) ?? {
          x_user_id: xUserId,
          day,
          operation: charge.operation,
          calls: 0,
          usd: 0,
        };
        total.calls += 1;
        total.usd += charge.usd;
        totals.set(key, total);
      }
    }
    if (totals.size > 0) {
      await trx
        .insertInto('spend_daily')
        .values([...totals.values()])
        .onConflict((conflict) =>
          conflict.columns(['x_user_id', 'day', 'operation']).doUpdateSet({
            calls: sql`spend_daily.calls + excluded.calls`,
            usd: sql`spend_daily.usd + excluded.usd`,
          }),
        )
        .execute();
    }
    return billed;
  };
  // Without per-day reads it is one statement, atomic by itself: no transaction (two round trips on PostgreSQL).
  return perDayReads ? atomically(db, record) : record(db);
}

export interface SpendRow {
  xUserId: string;
  day: number;
  calls: number;
  usd: number;
}

/** The recorded spend of these X accounts between two UTC days (inclusive), per account and day. */
export async function spendByDay(
  db: Executor,
  xUserIds: readonly string[] | null,
  fromDay: number,
  toDay: number,
): Promise<SpendRow[]> {
  if (xUserIds !== null && xUserIds.length === 0) return [];
  let query = db
    .selectFrom('spend_daily')
    .select((eb) => [
      'x_user_id',
      'day',
      eb.fn.sum<number>('calls').as('calls'),
      eb.fn.sum<number>('usd').as('usd'),
    ])
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .groupBy(['x_user_id', 'day'])
    .orderBy('day');
  if (xUserIds !== null) query = query.where('x_user_id', 'in', [...xUserIds]);
  const rows = await query.execute();
  return rows.map((row) => ({
    xUserId: row.x_user_id,
    day: Number(row.day),
    calls: Number(row.calls),
    usd: Number(row.usd),
  }));
}

/** Forgets which resources were billed on days before `beforeDay` (only today's matter). */
export async function purgeReadDays(db: Kysely<Database>, beforeDay: number): Promise<number> {
  const result = await db.deleteFrom('spend_read_days').where('day', '<', beforeDay).executeTakeFirst();
  return Number(result.numDeletedRows);
}

// --- per-account settings ---

export interface SpendSettings {
  monthlyCapUsd: number | null;
  dailyCapUsd: number | null;
  linkInReply: boolean;
}

export async function findSpendSettings(db: Executor, accountId: string): Promise<SpendSettings> {
  const row = await spendSettingsRows(db, accountId);
  return {
    monthlyCapUsd: row?.monthly_cap_usd == null ? null : Number(row.monthly_cap_usd),
    dailyCapUsd: row?.daily_cap_usd == null ? null : Number(row.daily_cap_usd),
    linkInReply: Number(row?.link_in_reply ?? 0) === 1,
  };
}

/** Every create reads its account's settings: the reads of one moment share a statement. */
const spendSettingsRows = batchedRowByKey(
  (db, accountIds: readonly string[]) =>
    db.selectFrom('spend_settings').selectAll().where('account_id', 'in', accountIds).execute(),
  (row) => row.account_id,
);

export async function saveSpendSettings(
  db: Executor,
  accountId: string,
  settings: SpendSettings,
): Promise<void> {
  const values = {
    monthly_cap_usd: settings.monthlyCapUsd,
    daily_cap_usd: settings.dailyCapUsd,
    link_in_reply: settings.linkInReply ? 1 : 0,
  };
  await db
    .insertInto('spend_settings')
    .values({ account_id: accountId, ...values })
    .onConflict((conflict) => conflict.column('account_id').doUpdateSet(values))
    .execute();
}

// --- the app-wide pause ---

export interface AppPause {
  code: string;
  detail: string;
  since: number;
  nextProbeAt: number;
  probeIntervalMs: number;
}

export async function findPause(db: Executor): Promise<AppPause | null> {
  const row = await db.selectFrom('app_pause').selectAll().where('id', '=', 1).executeTakeFirst();
  return row
    ? {
        code: row.code,
        detail: row.detail,
        since: Number(row.since),
        nextProbeAt: Number(row.next_probe_at),
        probeIntervalMs: Number(row.probe_interval_ms),
      }
    : null;
}

/** Starts the pause; false when it was already paused (then nothing changes). */
export async function insertPause(trx: Transaction<Database>, pause: AppPause): Promise<boolean> {
  const inserted = await trx
    .insertInto('app_pause')
    .values({
      id: 1,
      code: pause.code,
      detail: pause.detail,
      since: pause.since,
      next_probe_at: pause.nextProbeAt,
      probe_interval_ms: pause.probeIntervalMs,
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function scheduleProbe(
  db: Executor,
  nextProbeAt: number,
  probeIntervalMs: number,
): Promise<void> {
  await db
    .updateTable('app_pause')
    .set({ next_probe_at: nextProbeAt, probe_interval_ms: probeIntervalMs })
    .where('id', '=', 1)
    .execute();
}

/** Ends the pause; false when it was not paused. */
export async function deletePause(trx: Transaction<Database>): Promise<boolean> {
  const deleted = await trx.deleteFrom('app_pause').where('id', '=', 1).executeTakeFirst();
  return Number(deleted.numDeletedRows) > 0;
}
