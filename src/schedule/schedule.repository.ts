import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { PostingSchedule } from './slots.ts';

/** The schedule of an account with none yet: no slots, so "add to queue" asks for some. */
export const EMPTY_SCHEDULE: PostingSchedule = {
  timezone: 'UTC',
  slots: [],
  blackout: [],
  spacingMinutes: 5,
  pullForward: false,
};

/** The account's posting schedule, or null when it has none. */
export async function findSchedule(db: Kysely<Database>, accountId: string): Promise<PostingSchedule | null> {
  const row = await db
    .selectFrom('posting_schedules')
    .selectAll()
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    timezone: row.timezone,
    slots: JSON.parse(row.slots),
    blackout: JSON.parse(row.blackout),
    spacingMinutes: Number(row.spacing_minutes),
    pullForward: Number(row.pull_forward) === 1,
  };
}

/** Replaces the account's posting schedule. */
export async function saveSchedule(
  db: Kysely<Database>,
  accountId: string,
  schedule: PostingSchedule,
  now: number,
): Promise<void> {
  const values = {
    timezone: schedule.timezone,
    slots: JSON.stringify(schedule.slots),
    blackout: JSON.stringify(schedule.blackout),
    spacing_minutes: schedule.spacingMinutes,
    pull_forward: schedule.pullForward ? 1 : 0,
    updated_at: now,
  };
  await db
    .insertInto('posting_schedules')
    .values({ account_id: accountId, ...values })
    .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
    .execute();
}
