import { type Kysely, sql, type Transaction } from 'kysely';
import { type Database, isPostgres } from '../db/index.ts';
import type { LogPosition } from '../events/index.ts';
import type { XTweetMetrics } from '../x/index.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** The counts of one read of a tweet (the private ones when X gave them). */
export type TweetCounts = Omit<XTweetMetrics, 'id'>;

/** A tweet whose metrics are collected. */
export interface MetricTarget {
  tweetId: string;
  /** Null for a timeline tweet xgate did not publish. */
  postId: string | null;
  position: number;
  accountId: string;
  publishedAt: number;
  lastReadAt: number | null;
  lastReadDay: number | null;
  lastCounts: TweetCounts | null;
}

export interface NewTarget {
  tweetId: string;
  postId: string | null;
  position: number;
  accountId: string;
  userId: string;
  publishedAt: number;
  nextReadAt: number;
}

/** The engagements counted for an account's daily totals: the public counts, the same whatever was read. */
export const publicEngagements = (counts: TweetCounts): number =>
  counts.likes + counts.replies + counts.reposts + counts.quotes + counts.bookmarks;

// --- intake: the event log ---

/** Where the intake stands in the event log, locked for this transaction on PostgreSQL (one intake at a time). */
export async function lockIntakeCursor(trx: Transaction<Database>): Promise<LogPosition> {
  let query = trx.selectFrom('metric_intake').select(['cursor_tx', 'cursor_seq']).where('id', '=', 1);
  if (isPostgres(trx)) query = query.forUpdate();
  const row = await query.executeTakeFirstOrThrow();
  return { tx: Number(row.cursor_tx), seq: Number(row.cursor_seq) };
}

export async function saveIntakeCursor(trx: Transaction<Database>, position: LogPosition): Promise<void> {
  await trx
    .updateTable('metric_intake')
    .set({ cursor_tx: position.tx, cursor_seq: position.seq })
    .where('id', '=', 1)
    .execute();
}

/**
 * Adds tweets to collect; one already known keeps its schedule, but learns its post when a published post's
 * event names it after the timeline found it first.
 */
export async function insertTargets(db: Executor, targets: readonly NewTarget[]): Promise<void> {
  if (targets.length === 0) return;
  await db
    .insertInto('metric_targets')
    .values(
      targets.map((target) => ({
        tweet_id: target.tweetId,
        post_id: target.postId,
        position: target.position,
        account_id: target.accountId,
        user_id: target.userId,
        published_at: target.publishedAt,
        next_read_at: target.nextReadAt,
      })),
    )
    .onConflict((conflict) =>
      conflict.column('tweet_id').doUpdateSet({
        post_id: sql`coalesce(metric_targets.post_id, excluded.post_id)`,
        position: sql`case when metric_targets.post_id is null then excluded.position else metric_targets.position end`,
      }),
    )
    .execute();
}

/**
 * Counts a look at the account's timeline in its reads of the day: every tweet X returned is a read, billed
 * unless the tweet was already read that UTC day; the tweets collected are marked as read today.
 */
export async function recordTimelineRead(
  db: Kysely<Database>,
  options: { accountId: string; day: number; tweetIds: readonly string[]; newTargets: readonly NewTarget[] },
): Promise<void> {
  const { accountId, day, tweetIds, newTargets } = options;
  await db.transaction().execute(async (trx) => {
    const readToday =
      tweetIds.length === 0
        ? []
        : await trx
            .selectFrom('metric_targets')
            .select('tweet_id')
            .where('tweet_id', 'in', [...tweetIds])
            .where('last_read_day', '=', day)
            .execute();
    await insertTargets(trx, newTargets);
    if (tweetIds.length > 0) {
      await trx
        .updateTable('metric_targets')
        .set({ last_read_day: day })
        .where('tweet_id', 'in', [...tweetIds])
        .execute();
    }
    const billed = tweetIds.length - readToday.length;
    await trx
      .insertInto('metric_reads')
      .values({ account_id: accountId, day, requests: 1, reads: tweetIds.length, billed })
      .onConflict((conflict) =>
        conflict.columns(['account_id', 'day']).doUpdateSet({
          requests: sql`metric_reads.requests + 1`,
          reads: sql`metric_reads.reads + excluded.reads`,
          billed: sql`metric_reads.billed + excluded.billed`,
        }),
      )
      .execute();
  });
}

/** Ends collection of these posts' tweets (deleted through xgate). */
export async function stopTargetsOfPosts(
  db: Executor,
  postIds: readonly string[],
  reason: string,
): Promise<void> {
  if (postIds.length === 0) return;
  await db
    .updateTable('metric_targets')
    .set({ next_read_at: null, stopped_reason: reason })
    .where('post_id', 'in', [...postIds])
    .execute();
}

// --- timelines: the account's own tweets not posted through xgate (opt-in) ---

/** Turns timeline collection on (from now, looking back `lookBackMs`) or off for an account. */
export async function setTimelineCollection(
  db: Kysely<Database>,
  accountId: string,
  enabled: boolean,
  now: number,
): Promise<void> {
  if (!enabled) {
    await db.deleteFrom('metric_timelines').where('account_id', '=', accountId).execute();
    return;
  }
  await db
    .insertInto('metric_timelines')
    .values({ account_id: accountId, enabled_at: now, since_id: null, next_poll_at: now })
    .onConflict((conflict) => conflict.column('account_id').doNothing())
    .execute();
}

export async function timelineCollection(
  db: Kysely<Database>,
  accountId: string,
): Promise<{ enabledAt: number } | null> {
  const row = await db
    .selectFrom('metric_timelines')
    .select('enabled_at')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row ? { enabledAt: Number(row.enabled_at) } : null;
}

/** Leases up to `limit` active accounts whose timeline is due for a look. */
export async function claimTimelines(
  db: Kysely<Database>,
  options: { now: number; limit: number; leaseMs: number },
): Promise<
  { accountId: string; userId: string; xUserId: string; sinceId: string | null; enabledAt: number }[]
> {
  const { now, limit, leaseMs } = options;
  const due = await db
    .selectFrom('metric_timelines as t')
    .innerJoin('accounts as a', 'a.id', 't.account_id')
    .select(['t.account_id', 'a.user_id', 'a.x_user_id', 't.since_id', 't.enabled_at'])
    .where('t.next_poll_at', '<=', now)
    .where('t.lease_until', '<=', now)
    .where('a.status', '=', 'active')
    .orderBy('t.next_poll_at')
    .limit(limit)
    .execute();
  const claimed = [];
  for (const row of due) {
    const leased = await db
      .updateTable('metric_timelines')
      .set({ lease_until: now + leaseMs })
      .where('account_id', '=', row.account_id)
      .where('lease_until', '<=', now)
      .executeTakeFirst();
    if (Number(leased.numUpdatedRows) === 0) continue;
    claimed.push({
      accountId: row.account_id,
      userId: row.user_id,
      xUserId: row.x_user_id,
      sinceId: row.since_id,
      enabledAt: Number(row.enabled_at),
    });
  }
  return claimed;
}

/** After a look at the timeline: the newest id seen, and when to look again (the lease ends). */
export async function timelinePolled(
  db: Kysely<Database>,
  accountId: string,
  sinceId: string | null,
  nextPollAt: number,
): Promise<void> {
  await db
    .updateTable('metric_timelines')
    .set({ since_id: sinceId, next_poll_at: nextPollAt, lease_until: 0 })
    .where('account_id', '=', accountId)
    .execute();
}

// --- claiming due reads ---

/** Active accounts with tweets due by `now` and not leased, most overdue first. */
export async function accountsWithDueReads(
  db: Kysely<Database>,
  now: number,
  limit: number,
): Promise<{ accountId: string; xUserId: string }[]> {
  const rows = await db
    .selectFrom('metric_targets as t')
    .innerJoin('accounts as a', 'a.id', 't.account_id')
    .select(['t.account_id', 'a.x_user_id'])
    .select((eb) => eb.fn.min('t.next_read_at').as('due'))
    .where('t.next_read_at', '<=', now)
    .where('t.lease_until', '<=', now)
    .where('a.status', '=', 'active')
    .groupBy(['t.account_id', 'a.x_user_id'])
    .orderBy('due')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ accountId: row.account_id, xUserId: row.x_user_id }));
}

/**
 * Leases up to `limit` of the account's tweets due by `until` (a little ahead of now, so that reads due soon
 * share the call), most overdue first; rows leased by another worker are skipped (PostgreSQL: `skip locked`).
 */
export async function claimTargets(
  db: Kysely<Database>,
  options: { accountId: string; now: number; until: number; limit: number; leaseMs: number },
): Promise<MetricTarget[]> {
  const { accountId, now, until, limit, leaseMs } = options;
  const rows = await db
    .updateTable('metric_targets')
    .set({ lease_until: now + leaseMs })
    .where('tweet_id', 'in', (eb) => {
      let pick = eb
        .selectFrom('metric_targets')
        .select('tweet_id')
        .where('account_id', '=', accountId)
        .where('next_read_at', '<=', until)
        .where('lease_until', '<=', now)
        .orderBy('next_read_at')
        .limit(limit);
      if (isPostgres(db)) pick = pick.forUpdate().skipLocked();
      return pick;
    })
    .where('lease_until', '<=', now)
    .returning([
      'tweet_id',
      'post_id',
      'position',
      'account_id',
      'published_at',
      'last_read_at',
      'last_read_day',
      'last_counts',
    ])
    .execute();
  return rows.map((row) => ({
    tweetId: row.tweet_id,
    postId: row.post_id,
    position: Number(row.position),
    accountId: row.account_id,
    publishedAt: Number(row.published_at),
    lastReadAt: row.last_read_at === null ? null : Number(row.last_read_at),
    lastReadDay: row.last_read_day === null ? null : Number(row.last_read_day),
    lastCounts: row.last_counts === null ? null : (JSON.parse(row.last_counts) as TweetCounts),
  }));
}

/** Gives leased tweets back without reading them (rate limited, cap reached, account unusable). */
export async function releaseTargets(db: Executor, tweetIds: readonly string[]): Promise<void> {
  if (tweetIds.length === 0) return;
  await db
    .updateTable('metric_targets')
    .set({ lease_until: 0 })
    .where('tweet_id', 'in', [...tweetIds])
    .execute();
}

// --- recording a read ---

export interface ReadOutcome {
  target: MetricTarget;
  /** The counts read; null when X gave none (`gone`, or left out of the answer). */
  counts: TweetCounts | null;
  /** X said the tweet does not exist (deleted): collection ends. */
  gone: boolean;
  /** When to read it next (null: collection is over). */
  nextReadAt: number | null;
}

/**
 * Records one `GET /2/tweets` call's outcome in one transaction: a snapshot per tweet read, the growth since its
 * last read added to the account's daily totals, the next read, gone tweets stopped, and the call counted in
 * the account's day (`billed`: tweets not read before that UTC day; the reads were counted when reserved).
 */
export async function recordReads(
  db: Kysely<Database>,
  options: { accountId: string; now: number; day: number; outcomes: readonly ReadOutcome[] },
): Promise<void> {
  const { accountId, now, day, outcomes } = options;
  const read = outcomes.filter((outcome) => outcome.counts !== null);
  const growth = {
    impressions: 0,
    engagements: 0,
    likes: 0,
    replies: 0,
    reposts: 0,
    quotes: 0,
    bookmarks: 0,
  };
  for (const { target, counts } of read) {
    const last = target.lastCounts;
    const delta = (key: keyof typeof growth, value: number, before: number | undefined) => {
      growth[key] += Math.max(0, value - (before ?? 0));
    };
    delta('impressions', counts!.impressions, last?.impressions);
    delta('engagements', publicEngagements(counts!), last ? publicEngagements(last) : 0);
    delta('likes', counts!.likes, last?.likes);
    delta('replies', counts!.replies, last?.replies);
    delta('reposts', counts!.reposts, last?.reposts);
    delta('quotes', counts!.quotes, last?.quotes);
    delta('bookmarks', counts!.bookmarks, last?.bookmarks);
  }
  const billed = read.filter(({ target }) => target.lastReadDay !== day).length;

  await db.transaction().execute(async (trx) => {
    if (read.length > 0) {
      await trx
        .insertInto('metric_snapshots')
        .values(
          read.map(({ target, counts }) => ({
            tweet_id: target.tweetId,
            at: now,
            day,
            post_id: target.postId,
            account_id: accountId,
            impressions: counts!.impressions,
            likes: counts!.likes,
            replies: counts!.replies,
            reposts: counts!.reposts,
            quotes: counts!.quotes,
            bookmarks: counts!.bookmarks,
            url_clicks: counts!.urlClicks ?? null,
            profile_clicks: counts!.profileClicks ?? null,
            engagements: counts!.engagements ?? null,
          })),
        )
        .onConflict((conflict) => conflict.columns(['tweet_id', 'at']).doNothing())
        .execute();
    }
    for (const { target, counts, gone, nextReadAt } of outcomes) {
      const done = gone || nextReadAt === null;
      await trx
        .updateTable('metric_targets')
        .set({
          lease_until: 0,
          next_read_at: done ? null : nextReadAt,
          ...(done && { stopped_reason: gone ? 'deleted' : 'aged_out' }),
          ...(counts !== null && {
            last_read_at: now,
            last_read_day: day,
            last_counts: JSON.stringify(counts),
            reads: sql<number>`reads + 1`,
          }),
        })
        .where('tweet_id', '=', target.tweetId)
        .execute();
    }
    if (read.length > 0) {
      await trx
        .insertInto('account_metrics_daily')
        .values({ account_id: accountId, day, ...growth })
        .onConflict((conflict) =>
          conflict.columns(['account_id', 'day']).doUpdateSet({
            impressions: sql`account_metrics_daily.impressions + excluded.impressions`,
            engagements: sql`account_metrics_daily.engagements + excluded.engagements`,
            likes: sql`account_metrics_daily.likes + excluded.likes`,
            replies: sql`account_metrics_daily.replies + excluded.replies`,
            reposts: sql`account_metrics_daily.reposts + excluded.reposts`,
            quotes: sql`account_metrics_daily.quotes + excluded.quotes`,
            bookmarks: sql`account_metrics_daily.bookmarks + excluded.bookmarks`,
          }),
        )
        .execute();
    }
    await trx
      .insertInto('metric_reads')
      .values({ account_id: accountId, day, requests: 1, reads: 0, billed })
      .onConflict((conflict) =>
        conflict.columns(['account_id', 'day']).doUpdateSet({
          requests: sql`metric_reads.requests + 1`,
          billed: sql`metric_reads.billed + excluded.billed`,
        }),
      )
      .execute();
  });
}

// --- caps and the reads summary ---

/**
 * Reserves up to `wanted` reads for the account on `day` under both caps (the account's, the app's), and counts
 * them at once: concurrent workers never read past a cap. Returns how many were granted (0 when a cap is reached).
 */
export async function reserveReads(
  db: Kysely<Database>,
  options: { accountId: string; day: number; wanted: number; accountCap: number; appCap: number },
): Promise<number> {
  const { accountId, day, wanted, accountCap, appCap } = options;
  return db.transaction().execute(async (trx) => {
    // One reservation at a time per day across processes (SQLite: one writer anyway).
    if (isPostgres(trx))
      await sql`select pg_advisory_xact_lock(hashtext(${`xgate-metric-reads:${day}`}))`.execute(trx);
    const row = await trx
      .selectFrom('metric_reads')
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>('reads'), eb.val(0)).as('app'),
        eb.fn
          .coalesce(
            eb.fn.sum<number>(
              eb.case().when('account_id', '=', accountId).then(eb.ref('reads')).else(0).end(),
            ),
            eb.val(0),
          )
          .as('account'),
      ])
      .where('day', '=', day)
      .executeTakeFirst();
    const granted = Math.max(
      0,
      Math.min(wanted, accountCap - Number(row?.account ?? 0), appCap - Number(row?.app ?? 0)),
    );
    if (granted > 0) {
      await trx
        .insertInto('metric_reads')
        .values({ account_id: accountId, day, requests: 0, reads: granted, billed: 0 })
        .onConflict((conflict) =>
          conflict
            .columns(['account_id', 'day'])
            .doUpdateSet({ reads: sql`metric_reads.reads + excluded.reads` }),
        )
        .execute();
    }
    return granted;
  });
}

/** Gives back reserved reads that were not made (the call failed, or fewer tweets were due). */
export async function returnReads(
  db: Executor,
  accountId: string,
  day: number,
  count: number,
): Promise<void> {
  if (count <= 0) return;
  await db
    .updateTable('metric_reads')
    .set({ reads: sql`reads - ${count}` })
    .where('account_id', '=', accountId)
    .where('day', '=', day)
    .execute();
}

/** Moves the account's due reads to `until` (a cap reached, or X's rate limit), so other accounts go first. */
export async function deferDueReads(
  db: Executor,
  accountId: string,
  now: number,
  until: number,
): Promise<void> {
  await db
    .updateTable('metric_targets')
    .set({ next_read_at: until })
    .where('account_id', '=', accountId)
    .where('next_read_at', '<=', now)
    .execute();
}

export interface ReadTotals {
  requests: number;
  reads: number;
  billed: number;
}

/** Reads made for these accounts between two UTC days (inclusive). */
export async function readTotals(
  db: Kysely<Database>,
  accountIds: readonly string[],
  fromDay: number,
  toDay: number,
): Promise<ReadTotals> {
  if (accountIds.length === 0) return { requests: 0, reads: 0, billed: 0 };
  const row = await db
    .selectFrom('metric_reads')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('requests'), eb.val(0)).as('requests'),
      eb.fn.coalesce(eb.fn.sum<number>('reads'), eb.val(0)).as('reads'),
      eb.fn.coalesce(eb.fn.sum<number>('billed'), eb.val(0)).as('billed'),
    ])
    .where('account_id', 'in', [...accountIds])
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .executeTakeFirst();
  return {
    requests: Number(row?.requests ?? 0),
    reads: Number(row?.reads ?? 0),
    billed: Number(row?.billed ?? 0),
  };
}

// --- what the API shows ---

export interface Snapshot extends TweetCounts {
  at: number;
}

/** The snapshots of a post's tweets, by tweet id, in time order. */
export async function snapshotsOfPost(
  db: Kysely<Database>,
  postId: string,
): Promise<Map<string, Snapshot[]>> {
  const rows = await db
    .selectFrom('metric_snapshots')
    .selectAll()
    .where('post_id', '=', postId)
    .orderBy('at')
    .execute();
  const byTweet = new Map<string, Snapshot[]>();
  for (const row of rows) {
    const series = byTweet.get(row.tweet_id) ?? [];
    series.push({
      at: Number(row.at),
      impressions: Number(row.impressions),
      likes: Number(row.likes),
      replies: Number(row.replies),
      reposts: Number(row.reposts),
      quotes: Number(row.quotes),
      bookmarks: Number(row.bookmarks),
      ...(row.url_clicks !== null && { urlClicks: Number(row.url_clicks) }),
      ...(row.profile_clicks !== null && { profileClicks: Number(row.profile_clicks) }),
      ...(row.engagements !== null && { engagements: Number(row.engagements) }),
    });
    byTweet.set(row.tweet_id, series);
  }
  return byTweet;
}

export interface DailyTotals {
  day: number;
  impressions: number;
  engagements: number;
  likes: number;
  replies: number;
  reposts: number;
  quotes: number;
  bookmarks: number;
}

/** The account's daily totals between two UTC days (inclusive); days without growth are absent. */
export async function accountDaily(
  db: Kysely<Database>,
  accountId: string,
  fromDay: number,
  toDay: number,
): Promise<DailyTotals[]> {
  const rows = await db
    .selectFrom('account_metrics_daily')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .orderBy('day')
    .execute();
  return rows.map((row) => ({
    day: Number(row.day),
    impressions: Number(row.impressions),
    engagements: Number(row.engagements),
    likes: Number(row.likes),
    replies: Number(row.replies),
    reposts: Number(row.reposts),
    quotes: Number(row.quotes),
    bookmarks: Number(row.bookmarks),
  }));
}

/** The account's posts with the most impressions among tweets read between two instants. */
export async function topPosts(
  db: Kysely<Database>,
  options: { accountId: string; from: number; to: number; limit: number },
): Promise<{ postId: string | null; tweetId: string; impressions: number; engagements: number }[]> {
  const perTweet = db
    .selectFrom('metric_snapshots')
    .select((eb) => [
      'post_id',
      'tweet_id',
      eb.fn.max('impressions').as('impressions'),
      eb.fn.max(sql<number>`likes + replies + reposts + quotes + bookmarks`).as('engagements'),
    ])
    .where('account_id', '=', options.accountId)
    .where('at', '>=', options.from)
    .where('at', '<=', options.to)
    .groupBy(['post_id', 'tweet_id'])
    .as('per_tweet');
  // A post's tweets count together; a timeline tweet (no post) is its own entry.
  const rows = await db
    .selectFrom(perTweet)
    .select((eb) => [
      eb.fn.max('post_id').as('post_id'),
      eb.fn.min('tweet_id').as('tweet_id'),
      eb.fn.sum<number>('impressions').as('impressions'),
      eb.fn.sum<number>('engagements').as('engagements'),
    ])
    .groupBy(sql`coalesce(post_id, tweet_id)`)
    .orderBy('impressions', 'desc')
    .limit(options.limit)
    .execute();
  return rows.map((row) => ({
    postId: row.post_id ?? null,
    tweetId: String(row.tweet_id),
    impressions: Number(row.impressions),
    engagements: Number(row.engagements),
  }));
}

/** Thins snapshots older than `before` to the last one of each tweet's UTC day; returns how many were deleted. */
export async function thinSnapshots(db: Kysely<Database>, before: number, limit: number): Promise<number> {
  const result = await sql`delete from metric_snapshots where (tweet_id, at) in (
      select s.tweet_id, s.at from metric_snapshots s
      where s.at < ${before} and exists (
        select 1 from metric_snapshots later
        where later.tweet_id = s.tweet_id and later.day = s.day and later.at > s.at)
      limit ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
