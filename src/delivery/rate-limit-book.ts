import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { batchedRead } from '../db/batched.ts';
import type { Database } from '../db/index.ts';
import type { XCallContext, XRateLimitInfo, XRateWindow } from '../x/index.ts';

type WindowName = '15m' | '24h';

interface Entry {
  scope: string;
  endpoint: string;
  window: WindowName;
  limit: number;
  remaining: number;
  resetAt: number;
  updatedAt: number;
}

function keyOf(scope: string, endpoint: string, window: WindowName): string {
  return `${scope}\u0000${endpoint}\u0000${window}`;
}

/** The `rate_limits` scope of an X user's own budget. */
export function userScope(xUserId: string): string {
  return `user:${xUserId}`;
}

/** What X last said about one budget (as stored, shared by every process). */
export interface KnownLimit {
  /** `app` or `user:<xUserId>`. */
  scope: 'app' | 'user';
  remaining: number;
  resetAt: number;
  updatedAt: number;
}

/** Every create reads what X said of its budgets: the reads of one moment share a statement. */
const knownLimits = batchedRead(async (db, keys: ReadonlyArray<{ xUserId: string; endpoint: string }>) => {
  const rows = await db
    .selectFrom('rate_limits')
    .select(['scope', 'endpoint', 'remaining', 'reset_at', 'updated_at'])
    .where('endpoint', 'in', [...new Set(keys.map((key) => key.endpoint))])
    .where('scope', 'in', ['app', ...new Set(keys.map((key) => userScope(key.xUserId)))])
    .execute();
  return keys.map(({ xUserId, endpoint }) =>
    rows
      .filter((r) => r.endpoint === endpoint && (r.scope === 'app' || r.scope === userScope(xUserId)))
      .map(
        (r): KnownLimit => ({
          scope: r.scope === 'app' ? 'app' : 'user',
          remaining: Number(r.remaining),
          resetAt: Number(r.reset_at),
          updatedAt: Number(r.updated_at),
        }),
      ),
  );
});

/**
 * What X last said about its budgets, per account (`user:<xUserId>`) and per app (`app`), for each endpoint
 * and window (`15m` = `x-rate-limit-*`, `24h` = `x-user-limit-24hour-*` / `x-app-limit-24hour-*`).
 *
 * `record` is the X client's `onRateLimit` hook: it updates memory at once and the `rate_limits` table at the
 * next `flush` (the dispatcher flushes every second), so posting a tweet costs no extra database write.
 * `refresh` reads what other processes recorded. `blockedUntil` answers "would X refuse this now?".
 */
export class RateLimitBook {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /**
   * What X last said about an endpoint's budget for this X user and for the app, as stored by every process
   * (the budget check at schedule time reads it; only this book writes `rate_limits`).
   */
  async known(xUserId: string, endpoint: string): Promise<KnownLimit[]> {
    return knownLimits(this.db, { xUserId, endpoint });
  }

  /** Remembers the windows one X response reported. Never throws. */
  record(info: XRateLimitInfo, context: XCallContext): void {
    const now = this.clock.now();
    const user = context.xUserId === undefined ? undefined : userScope(context.xUserId);
    if (user && info.window15m) this.put(user, info.endpoint, '15m', info.window15m, now);
    if (user && info.user24h) this.put(user, info.endpoint, '24h', info.user24h, now);
    if (info.app24h) this.put('app', info.endpoint, '24h', info.app24h, now);
  }

  private put(scope: string, endpoint: string, window: WindowName, w: XRateWindow, now: number): void {
    const key = keyOf(scope, endpoint, window);
    this.entries.set(key, { scope, endpoint, window, ...w, updatedAt: now });
    this.dirty.add(key);
  }

  /**
   * The time until which X is known to refuse `endpoint` for this account (a window with nothing remaining
   * whose reset is still ahead, for the account or for the app), or null when nothing is known to block it.
   */
  blockedUntil(xUserId: string, endpoint: string, now: number): number | null {
    let until: number | null = null;
    const candidates = [
      keyOf(userScope(xUserId), endpoint, '15m'),
      keyOf(userScope(xUserId), endpoint, '24h'),
      keyOf('app', endpoint, '24h'),
    ];
    for (const key of candidates) {
      const entry = this.entries.get(key);
      if (entry && entry.remaining <= 0 && entry.resetAt > now) until = Math.max(until ?? 0, entry.resetAt);
    }
    return until;
  }

  /** Loads what is stored for these accounts (and the app), keeping whichever observation is newer. */
  async refresh(xUserIds: readonly string[]): Promise<void> {
    const scopes = ['app', ...new Set(xUserIds.map(userScope))];
    const rows = await this.db.selectFrom('rate_limits').selectAll().where('scope', 'in', scopes).execute();
    for (const row of rows) {
      const key = keyOf(row.scope, row.endpoint, row.window);
      const known = this.entries.get(key);
      if (known && known.updatedAt >= row.updated_at) continue;
      this.entries.set(key, {
        scope: row.scope,
        endpoint: row.endpoint,
        window: row.window,
        limit: row.limit,
        remaining: row.remaining,
        resetAt: row.reset_at,
        updatedAt: row.updated_at,
      });
      this.dirty.delete(key);
    }
  }

  /** Writes the observations recorded since the last flush into `rate_limits` (newest wins). */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const rows = [...this.dirty].flatMap((key) => {
      const e = this.entries.get(key);
      return e
        ? [
            {
              scope: e.scope,
              endpoint: e.endpoint,
              window: e.window,
              limit: e.limit,
              remaining: e.remaining,
              reset_at: e.resetAt,
              updated_at: e.updatedAt,
            },
          ]
        : [];
    });
    this.dirty.clear();
    try {
      for (let i = 0; i < rows.length; i += 500) {
        await this.db
          .insertInto('rate_limits')
          .values(rows.slice(i, i + 500))
          .onConflict((oc) =>
            oc
              .columns(['scope', 'endpoint', 'window'])
              .doUpdateSet((eb) => ({
                limit: eb.ref('excluded.limit'),
                remaining: eb.ref('excluded.remaining'),
                reset_at: eb.ref('excluded.reset_at'),
                updated_at: eb.ref('excluded.updated_at'),
              }))
              .where('rate_limits.updated_at', '<=', (eb) => eb.ref('excluded.updated_at')),
          )
          .execute();
      }
    } catch (error) {
      // Losing one flush only loses advice: X's own answers still hold. Keep going.
      this.log.warn({ err: error }, 'could not store rate-limit observations');
    }
  }

  /** Forgets memory of windows whose reset has passed (keeps the map small on long runs). */
  prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.resetAt <= now && !this.dirty.has(key)) this.entries.delete(key);
    }
  }
}
