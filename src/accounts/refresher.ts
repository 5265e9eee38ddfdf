import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import type { WorkerLoop } from '../worker.ts';
import type { TokenVault } from './vault.ts';

/** Knobs of the refresher. */
export interface RefresherOptions {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  vault: TokenVault;
  /** Refresh tokens expiring within this many ms (the vault's margin; default 5 minutes). */
  marginMs?: number;
  /** Refresh ahead of posts due within this many ms (default 15 minutes). */
  lookaheadMs?: number;
  /** Refresh idle accounts not refreshed for this long, so refresh tokens never age out (default 24 h). */
  keepAliveMs?: number;
  /** Refreshes in flight at once (default 8). */
  concurrency?: number;
  /** Pause after a round with nothing to do, in ms (default 5 s). */
  idleMs?: number;
}

interface Candidate {
  id: string;
  postDue: boolean;
}

/**
 * The refresher loop: refreshes accounts whose token expires within the margin, accounts with posts due soon
 * (so publishing never waits on a refresh), and keep-alives for idle accounts. Several workers share the work:
 * each picks a shuffled batch of due accounts and refreshes them through the vault, whose lease (taken by
 * compare-and-set, with a re-read) makes sure an account is refreshed once even when two workers pick it.
 */
export function createRefresher(options: RefresherOptions): WorkerLoop {
  const { db, clock, log, vault } = options;
  const marginMs = options.marginMs ?? 5 * 60_000;
  const lookaheadMs = options.lookaheadMs ?? 15 * 60_000;
  const keepAliveMs = options.keepAliveMs ?? 24 * 60 * 60_000;
  const concurrency = options.concurrency ?? 8;

  /** Active accounts with a refresh token whose lease is free and whose backoff is over. */
  function refreshable(now: number) {
    return db
      .selectFrom('accounts')
      .select('accounts.id')
      .where('accounts.status', '=', 'active')
      .where('accounts.refresh_token_sealed', 'is not', null)
      .where((eb) => eb.or([eb('refresh_lease_until', 'is', null), eb('refresh_lease_until', '<=', now)]))
      .where((eb) => eb.or([eb('next_refresh_at', 'is', null), eb('next_refresh_at', '<=', now)]));
  }

  /**
   * Due accounts, soonest expiry first: three index-friendly queries (expiring; with posts due soon; idle
   * for the keep-alive) rather than one OR that would scan every account on every round.
   */
  async function candidates(now: number, limit: number): Promise<Candidate[]> {
    const [expiring, withPosts, idle] = await Promise.all([
      refreshable(now)
        .where('token_expires_at', '<=', now + marginMs)
        .orderBy('token_expires_at')
        .limit(limit)
        .execute(),
      refreshable(now)
        .where('token_expires_at', '<=', now + lookaheadMs + marginMs)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('posts')
              .select(sql`1`.as('one'))
              .whereRef('posts.account_id', '=', 'accounts.id')
              .where('posts.status', '=', 'scheduled')
              .where('posts.next_attempt_at', '<=', now + lookaheadMs),
          ),
        )
        .orderBy('token_expires_at')
        .limit(limit)
        .execute(),
      refreshable(now)
        .where('last_refreshed_at', '<=', now - keepAliveMs)
        .orderBy('last_refreshed_at')
        .limit(limit)
        .execute(),
    ]);
    const picked = new Map<string, Candidate>();
    for (const row of withPosts) picked.set(row.id, { id: row.id, postDue: true });
    for (const row of [...expiring, ...idle])
      if (!picked.has(row.id)) picked.set(row.id, { id: row.id, postDue: false });
    return [...picked.values()].slice(0, limit);
  }

  return {
    name: 'refresher',
    idleMs: options.idleMs ?? 5000,
    async runOnce(signal) {
      // Lanes pull from one queue that is refilled when it runs dry, so a slow refresh holds up only its own
      // lane (no round barrier). `seen` keeps one run from picking an account twice; `budget` bounds the run.
      const batch = concurrency * 8;
      const budget = concurrency * 64;
      const seen = new Set<string>();
      const queue: Candidate[] = [];
      let exhausted = false;
      let refilling: Promise<void> | null = null;
      let refreshed = 0;

      async function refill(): Promise<void> {
        const picked = (await candidates(clock.now(), batch + seen.size))
          .filter((candidate) => !seen.has(candidate.id))
          .slice(0, Math.min(batch, budget - seen.size));
        // Shuffled, so workers picking at the same moment mostly take different accounts.
        for (let i = picked.length - 1; i > 0; i -= 1) {
          const j = Math.floor(Math.random() * (i + 1));
          [picked[i], picked[j]] = [picked[j]!, picked[i]!];
        }
        if (picked.length === 0) exhausted = true;
        for (const candidate of picked) {
          seen.add(candidate.id);
          queue.push(candidate);
        }
      }

      const lane = async () => {
        while (!signal.aborted) {
          const candidate = queue.shift();
          if (!candidate) {
            if (exhausted || seen.size >= budget) return;
            refilling ??= refill().finally(() => {
              refilling = null;
            });
            await refilling;
            continue;
          }
          const now = clock.now();
          try {
            const outcome = await vault.refreshIfNeeded(candidate.id, {
              validUntil: now + marginMs + (candidate.postDue ? lookaheadMs : 0),
              refreshedAfter: now - keepAliveMs,
            });
            if (outcome === 'refreshed') refreshed += 1;
          } catch (error) {
            // The vault already recorded the failure on the account (backoff or needs_reconnect).
            log.debug(
              { accountId: candidate.id, code: (error as { code?: string }).code },
              'refresh skipped',
            );
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      return refreshed;
    },
  };
}
