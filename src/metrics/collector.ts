import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { AccountCaller } from '../accounts/as-account.ts';
import { AccountUnusableError } from '../accounts/index.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/index.ts';
import type { RateLimitBook } from '../delivery/rate-limit-book.ts';
import { listLogEvents, type PostEventData } from '../events/index.ts';
import type { AppPauses } from '../spend/pause.ts';
import { XError, type XTweetMetrics } from '../x/index.ts';
import {
  accountsWithDueReads,
  claimTargets,
  claimTimelines,
  deferDueReads,
  insertTargets,
  lockIntakeCursor,
  type MetricTarget,
  type NewTarget,
  type ReadOutcome,
  recordReads,
  recordTimelineRead,
  releaseTargets,
  reserveReads,
  returnReads,
  saveIntakeCursor,
  stopTargetsOfPosts,
  type TweetCounts,
  timelinePolled,
} from './metrics.repository.ts';
import { accountSlot, DAY_MS, nextReadAt, readsPrivate, utcDay } from './schedule.ts';

/** X's `GET /2/tweets` takes 1–100 ids. */
export const MAX_IDS_PER_CALL = 100;
/** Events taken from the log per intake round. */
const INTAKE_BATCH = 500;
/** Timelines looked at per round, how often each, and after a failure. */
const TIMELINES_PER_ROUND = 16;
const TIMELINE_EVERY_MS = 3_600_000;
const TIMELINE_RETRY_MS = 5 * 60_000;
/** Pages of 100 tweets read per look: at most 500 new tweets an hour are taken from a timeline. */
const TIMELINE_PAGES = 5;

export interface CollectorSettings {
  /** Weekly public reads continue to this age (days), then collection stops. */
  maxAgeDays: number;
  /** Tweets read per account per UTC day, at most. */
  readsPerAccountPerDay: number;
  /** Tweets read by the whole app per UTC day, at most. */
  readsPerDay: number;
  /** How long a claimed batch is held before another worker may take it. */
  leaseMs: number;
  /** Reads due this soon join a call made now (fuller batches, never another billed day). */
  batchAheadMs: number;
  /** Accounts served per round. */
  accountsPerRound: number;
  /** Calls to X in flight at once. */
  concurrency: number;
}

export interface CollectorDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  accountCaller: AccountCaller;
  rateLimits: RateLimitBook;
  metrics: Registry;
  /** While X refuses the whole app (credits depleted, not enrolled), nothing is read. */
  pauses: AppPauses;
  /** How much of the account's tightest monthly spending cap is used (1 = reached), or null without a cap. */
  capUsed: (account: { id: string; xUserId: string }, now: number) => Promise<number | null>;
}

/** Past this share of a monthly spending cap, metric reads slow down to weekly (reads are billed too). */
export const SLOW_DOWN_AT = 0.9;

/**
 * The metrics collector (worker loop `metrics`): takes published tweets from the event log (and stops deleted
 * ones), then reads due tweets per account in batches of up to 100 with the account's token, under the read caps
 * and X's rate limits. Any number of workers may run it: intake is serialized on the cursor row, batches are
 * leased, and reads are reserved against the caps before the call.
 */
export class MetricsCollector {
  readonly #deps: CollectorDeps;
  readonly #settings: CollectorSettings;
  readonly #reads: Counter<'kind'>;

  constructor(deps: CollectorDeps, settings: CollectorSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#reads =
      (deps.metrics.getSingleMetric('xgate_metrics_reads_total') as Counter<'kind'> | undefined) ??
      new Counter({
        name: 'xgate_metrics_reads_total',
        help: 'Tweet metric reads, by kind: read (a tweet read), billed (its first read that UTC day), request (a call to X).',
        labelNames: ['kind'],
        registers: [deps.metrics],
      });
  }

  /**
   * One round: intake, a look at the timelines due (accounts that opted in), then one batch for each of up to
   * `accountsPerRound` accounts with due reads.
   */
  async runOnce(signal?: AbortSignal): Promise<number> {
    let work = await this.intake();
    if (await this.#deps.pauses.isPaused()) return work;
    work += await this.#lookAtTimelines();
    const now = this.#deps.clock.now();
    const accounts = await accountsWithDueReads(this.#deps.db, now, this.#settings.accountsPerRound);
    const queue = [...accounts];
    const lanes = Array.from({ length: Math.min(this.#settings.concurrency, queue.length) }, async () => {
      for (let account = queue.shift(); account && !signal?.aborted; account = queue.shift()) {
        work += await this.#collectAccount(account);
      }
    });
    await Promise.all(lanes);
    return work;
  }

  /** Takes new `post.published` and `post.deleted` events from the log; returns how many were taken. */
  async intake(): Promise<number> {
    const { db } = this.#deps;
    return db.transaction().execute(async (trx) => {
      const after = await lockIntakeCursor(trx);
      const events = await listLogEvents(trx, {
        after,
        types: ['post.published', 'post.deleted'],
        limit: INTAKE_BATCH,
      });
      if (events.length === 0) return 0;
      const targets: NewTarget[] = [];
      const deleted: string[] = [];
      for (const event of events) {
        const data = event.data as PostEventData;
        if (event.type === 'post.deleted') {
          deleted.push(data.postId);
          continue;
        }
        const slot = accountSlot(data.accountId);
        for (const item of data.items ?? []) {
          const next = nextReadAt(event.at, null, slot, this.#settings.maxAgeDays);
          if (next === null) continue;
          targets.push({
            tweetId: item.tweetId,
            postId: data.postId,
            position: item.position,
            accountId: data.accountId,
            userId: event.userId,
            publishedAt: event.at,
            nextReadAt: next,
          });
        }
      }
      await insertTargets(trx, targets);
      await stopTargetsOfPosts(trx, deleted, 'deleted');
      const last = events.at(-1)!;
      await saveIntakeCursor(trx, { tx: last.tx, seq: last.seq });
      return events.length;
    });
  }

  /** New tweets on the timelines due for a look (hourly) become targets, xgate's own included only once. */
  async #lookAtTimelines(): Promise<number> {
    const { db, clock, log, accountCaller } = this.#deps;
    const now = clock.now();
    const day = utcDay(now);
    const accounts = await claimTimelines(db, {
      now,
      limit: TIMELINES_PER_ROUND,
      leaseMs: this.#settings.leaseMs,
    });
    let found = 0;
    for (const account of accounts) {
      let newest = account.sinceId;
      try {
        const slot = accountSlot(account.accountId);
        let paginationToken: string | undefined;
        for (let page = 0; page < TIMELINE_PAGES; page++) {
          const answer = await accountCaller.call(
            { id: account.accountId, xUserId: account.xUserId },
            (api) =>
              api.getUserTweets(account.xUserId, {
                ...(account.sinceId ? { sinceId: account.sinceId } : { startTime: account.enabledAt }),
                maxResults: 100,
                ...(paginationToken !== undefined && { paginationToken }),
              }),
          );
          const targets: NewTarget[] = [];
          for (const tweet of answer.tweets) {
            if (newest === null || BigInt(tweet.id) > BigInt(newest)) newest = tweet.id;
            const publishedAt = tweet.createdAt ? Date.parse(tweet.createdAt) : now;
            const next = nextReadAt(publishedAt, null, slot, this.#settings.maxAgeDays);
            if (next === null) continue;
            targets.push({
              tweetId: tweet.id,
              postId: null,
              position: 0,
              accountId: account.accountId,
              userId: account.userId,
              publishedAt,
              nextReadAt: next,
            });
          }
          await recordTimelineRead(db, {
            accountId: account.accountId,
            day,
            tweetIds: answer.tweets.map((tweet) => tweet.id),
            newTargets: targets,
          });
          this.#reads.inc({ kind: 'request' });
          found += targets.length;
          paginationToken = answer.nextToken;
          if (paginationToken === undefined) break;
        }
        await timelinePolled(db, account.accountId, newest, now + TIMELINE_EVERY_MS);
      } catch (error) {
        await timelinePolled(db, account.accountId, newest, now + TIMELINE_RETRY_MS);
        if (!(error instanceof AccountUnusableError)) {
          log.warn(
            { err: error, accountId: account.accountId },
            'Metrics: reading the account’s timeline from X failed; xgate looks again in a few minutes.',
          );
        }
      }
    }
    return found;
  }

  async #collectAccount(account: { accountId: string; xUserId: string }): Promise<number> {
    const { db, clock, rateLimits, log } = this.#deps;
    const settings = this.#settings;
    const now = clock.now();
    const day = utcDay(now);
    const blocked = rateLimits.blockedUntil(account.xUserId, 'GET /2/tweets', now);
    if (blocked !== null) {
      await deferDueReads(db, account.accountId, now, blocked);
      return 0;
    }
    // Near a spending cap: fewer snapshots (weekly) so that posts, which the cap is for, keep their room.
    const used = await this.#deps.capUsed({ id: account.accountId, xUserId: account.xUserId }, now);
    if (used !== null && used >= SLOW_DOWN_AT) {
      log.warn(
        { accountId: account.accountId, capUsedPercent: Math.round(used * 100) },
        'Metrics: the account is near its monthly spending cap; its metrics are read weekly until the cap resets or is raised.',
      );
      await deferDueReads(db, account.accountId, now, now + 7 * DAY_MS);
      return 0;
    }
    const granted = await reserveReads(db, {
      accountId: account.accountId,
      day,
      wanted: MAX_IDS_PER_CALL,
      accountCap: settings.readsPerAccountPerDay,
      appCap: settings.readsPerDay,
    });
    if (granted === 0) {
      // A cap is reached for today: the account's due reads wait for the next UTC day.
      log.info(
        { accountId: account.accountId },
        'Metrics: the daily read cap is reached (XGATE_METRICS_READS_PER_ACCOUNT_PER_DAY or XGATE_METRICS_READS_PER_DAY); reads resume tomorrow (UTC).',
      );
      await deferDueReads(
        db,
        account.accountId,
        now,
        (day + 1) * DAY_MS + accountSlot(account.accountId).timeOfDayMs,
      );
      return 0;
    }
    const targets = await claimTargets(db, {
      accountId: account.accountId,
      now,
      until: now + settings.batchAheadMs,
      limit: granted,
      leaseMs: settings.leaseMs,
    });
    await returnReads(db, account.accountId, day, granted - targets.length);
    if (targets.length === 0) return 0;

    // Private metrics exist only for tweets under 30 days: asking for them would drop older tweets from X's answer.
    const groups = [
      targets.filter((target) => readsPrivate(target.publishedAt, now)),
      targets.filter((target) => !readsPrivate(target.publishedAt, now)),
    ].filter((group) => group.length > 0);
    let read = 0;
    for (const [index, group] of groups.entries()) {
      try {
        const answer = await this.#deps.accountCaller.call(
          { id: account.accountId, xUserId: account.xUserId },
          (api) =>
            api.getTweetMetrics(
              group.map((target) => target.tweetId),
              readsPrivate(group[0]!.publishedAt, now),
            ),
        );
        const outcomes = this.#outcomes(group, answer.metrics, new Set(answer.gone), now);
        await recordReads(db, { accountId: account.accountId, now, day, outcomes });
        const made = outcomes.filter((outcome) => outcome.counts !== null).length;
        await returnReads(db, account.accountId, day, group.length - made);
        this.#reads.inc({ kind: 'request' });
        this.#reads.inc({ kind: 'read' }, made);
        this.#reads.inc(
          { kind: 'billed' },
          outcomes.filter((outcome) => outcome.counts !== null && outcome.target.lastReadDay !== day).length,
        );
        read += made;
      } catch (error) {
        const rest = groups.slice(index).flat();
        await releaseTargets(
          db,
          rest.map((target) => target.tweetId),
        );
        await returnReads(db, account.accountId, day, rest.length);
        if (!(error instanceof AccountUnusableError)) {
          log.warn(
            {
              err: error,
              accountId: account.accountId,
              code: error instanceof XError ? error.code : undefined,
            },
            'Metrics: reading tweet metrics from X failed; the tweets are read again on a later round.',
          );
        }
        break;
      }
    }
    return read;
  }

  #outcomes(group: MetricTarget[], metrics: XTweetMetrics[], gone: Set<string>, now: number): ReadOutcome[] {
    const byId = new Map(metrics.map((entry) => [entry.id, entry]));
    return group.map((target) => {
      const found = byId.get(target.tweetId);
      const counts: TweetCounts | null = found ? withoutId(found) : null;
      const lastReadAt = counts ? now : target.lastReadAt;
      return {
        target,
        counts,
        gone: gone.has(target.tweetId),
        // Left out of the answer without an error (X's 30-day edge for private metrics): read again soon, public.
        nextReadAt: counts
          ? nextReadAt(
              target.publishedAt,
              lastReadAt,
              accountSlot(target.accountId),
              this.#settings.maxAgeDays,
            )
          : now + 60_000,
      };
    });
  }
}

function withoutId({ id: _, ...counts }: XTweetMetrics): TweetCounts {
  return counts;
}
