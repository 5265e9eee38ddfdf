import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/index.ts';
import { type Database, isPostgres } from '../db/index.ts';
import { UnprocessableError } from '../errors/index.ts';
import { scheduledCost } from '../posts/posts.repository.ts';
import { findSpendSettings, type SpendSettings, spendByDay } from './spend.repository.ts';

const DAY_MS = 86_400_000;

/** The UTC month of `at`: [start, end) in epoch ms. */
export function utcMonth(at: number): { start: number; end: number } {
  const date = new Date(at);
  return {
    start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
    end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
  };
}

function utcDayRange(at: number): { start: number; end: number } {
  const start = Math.floor(at / DAY_MS) * DAY_MS;
  return { start, end: start + DAY_MS };
}

const usd = (value: number) => Math.round(value * 1e4) / 1e4;

interface CappedPost {
  accountId: string;
  xUserId: string;
  at: number;
  costUsd: number;
  excludePostId?: string;
}

interface Cap {
  scope: 'account' | 'app';
  period: 'monthly' | 'daily';
  limitUsd: number;
}

/**
 * The spending caps: per account (`PUT /api/v1/accounts/:id/spend-settings`) and for the app
 * (XGATE_MONTHLY_SPEND_CAP_USD, XGATE_DAILY_SPEND_CAP_USD), monthly and daily, UTC. A post fits when what was
 * spent in its period (the ledger) plus what is scheduled then (the posts' estimates) plus its own estimate stays
 * within every cap. Checked inside the create or edit transaction, under a lock per cap and period on
 * PostgreSQL, so concurrent creates never overshoot together.
 */
export class SpendCaps {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      clock: Clock;
      config: Pick<Config, 'monthlySpendCapUsd' | 'dailySpendCapUsd'>;
    },
  ) {}

  /**
   * The check of the caps that apply to the account (its `settings`, read before the transaction), to run inside
   * the storing transaction, or null when none does (a post without caps costs the transaction nothing).
   */
  guard(settings: SpendSettings, post: CappedPost): ((trx: Transaction<Database>) => Promise<void>) | null {
    const caps = this.#caps(settings);
    return caps.length === 0 ? null : (trx) => this.#check(trx, caps, post);
  }

  /**
   * How much of its tightest monthly cap (the account's or the app's) is spent or scheduled this month, as a
   * fraction (1 = reached), or null when no monthly cap applies. The metrics collector slows down near 1.
   */
  async usedFraction(account: { id: string; xUserId: string }, now: number): Promise<number | null> {
    const caps = (await this.#capsOf(account.id)).filter((cap) => cap.period === 'monthly');
    if (caps.length === 0) return null;
    const month = utcMonth(now);
    let used = 0;
    for (const cap of caps) {
      const spent = (
        await spendByDay(
          this.deps.db,
          cap.scope === 'app' ? null : [account.xUserId],
          Math.floor(month.start / DAY_MS),
          Math.floor((month.end - 1) / DAY_MS),
        )
      ).reduce((sum, row) => sum + row.usd, 0);
      const scheduled = await scheduledCost(this.deps.db, {
        accountId: cap.scope === 'app' ? null : account.id,
        from: now,
        to: month.end,
      });
      used = Math.max(used, cap.limitUsd === 0 ? 1 : (spent + scheduled) / cap.limitUsd);
    }
    return used;
  }

  async #capsOf(accountId: string): Promise<Cap[]> {
    return this.#caps(await findSpendSettings(this.deps.db, accountId));
  }

  #caps(settings: SpendSettings): Cap[] {
    const caps: Cap[] = [];
    if (settings.monthlyCapUsd !== null)
      caps.push({ scope: 'account', period: 'monthly', limitUsd: settings.monthlyCapUsd });
    if (settings.dailyCapUsd !== null)
      caps.push({ scope: 'account', period: 'daily', limitUsd: settings.dailyCapUsd });
    const { monthlySpendCapUsd, dailySpendCapUsd } = this.deps.config;
    if (monthlySpendCapUsd !== null)
      caps.push({ scope: 'app', period: 'monthly', limitUsd: monthlySpendCapUsd });
    if (dailySpendCapUsd !== null) caps.push({ scope: 'app', period: 'daily', limitUsd: dailySpendCapUsd });
    return caps;
  }

  /** Throws 422 `spend_cap_exceeded` (amounts and when the cap resets in `details`) when the post does not fit. */
  async #check(trx: Transaction<Database>, caps: readonly Cap[], post: CappedPost): Promise<void> {
    for (const cap of caps) {
      const range = cap.period === 'monthly' ? utcMonth(post.at) : utcDayRange(post.at);
      if (isPostgres(trx)) {
        const key = `xgate spend ${cap.scope === 'app' ? 'app' : post.accountId} ${cap.period} ${range.start}`;
        await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
      }
      const spent = (
        await spendByDay(
          trx,
          cap.scope === 'app' ? null : [post.xUserId],
          Math.floor(range.start / DAY_MS),
          Math.floor((range.end - 1) / DAY_MS),
        )
      ).reduce((sum, row) => sum + row.usd, 0);
      const scheduled = await scheduledCost(trx, {
        accountId: cap.scope === 'app' ? null : post.accountId,
        from: range.start,
        to: range.end,
        ...(post.excludePostId !== undefined && { excludePostId: post.excludePostId }),
      });
      if (spent + scheduled + post.costUsd > cap.limitUsd + 1e-9) {
        const whose = cap.scope === 'app' ? 'the app’s' : 'this account’s';
        throw new UnprocessableError(
          `This post would cost about $${usd(post.costUsd)} at X, and ${whose} ${cap.period} cap of $${usd(cap.limitUsd)} would be passed: $${usd(spent)} spent and $${usd(scheduled)} scheduled in that ${cap.period === 'monthly' ? 'month' : 'day'} (UTC). Schedule it after ${new Date(range.end).toISOString()}, when the cap resets, or raise the cap.`,
          'spend_cap_exceeded',
          {
            cap: `${cap.scope}_${cap.period}`,
            capUsd: cap.limitUsd,
            spentUsd: usd(spent),
            scheduledUsd: usd(scheduled),
            postUsd: post.costUsd,
            resetsAt: new Date(range.end).toISOString(),
          },
        );
      }
    }
  }
}
