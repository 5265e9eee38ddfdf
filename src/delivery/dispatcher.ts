import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type AccessTokens, createAccountCaller } from '../accounts/as-account.ts';
import type { Clock } from '../clock.ts';
import type { GroupCommit } from '../db/group-commit.ts';
import type { Database, DialectName } from '../db/index.ts';
import { type ClaimedPost, DeliveryRepository } from '../posts/publishing.repository.ts';
import type { WorkerLoop } from '../worker.ts';
import type { XUserApi } from '../x/index.ts';
import type { DeliveryMetrics } from './delivery.metrics.ts';
import { type MediaUploader, type PublisherSettings, publishPost } from './publisher.ts';
import type { RateLimitBook } from './rate-limit-book.ts';

/** Tuning of the dispatcher (see `defaultDispatcherSettings`). */
export interface DispatcherSettings extends PublisherSettings {
  /** Accounts published in parallel by this process (one account's posts go one at a time, in order). */
  concurrency: number;
  /** Most posts claimed by one claim statement. */
  batchSize: number;
  /** How long a claim is valid without renewal, ms. A crashed worker's posts are resumed after this. */
  leaseMs: number;
  /** Pause when nothing is due, ms. */
  pollMs: number;
  /** On stop: how long to let in-flight sends finish before leaving their leases to expire, ms. */
  stopGraceMs: number;
}

export const defaultDispatcherSettings: DispatcherSettings = {
  concurrency: 16,
  batchSize: 50,
  leaseMs: 60_000,
  pollMs: 1000,
  stopGraceMs: 10_000,
  settleMs: 30_000,
  skewMs: 5 * 60_000,
  maxAttempts: 10,
  backoffBaseMs: 5000,
  backoffMaxMs: 15 * 60_000,
  reconcilePages: 5,
};

export interface DispatcherDeps {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Commits the per-item writes of posts in flight together (see `src/db/group-commit.ts`). */
  writes: GroupCommit;
  clock: Clock;
  log: Logger;
  metrics: DeliveryMetrics;
  forToken: (accessToken: string, context: { xUserId: string }) => XUserApi;
  tokens: AccessTokens;
  uploadMedia: MediaUploader;
  rateLimits: RateLimitBook;
  /** True while X refuses the whole app (credits depleted, not enrolled): nothing is claimed meanwhile. */
  paused?: () => Promise<boolean>;
  settings?: Partial<DispatcherSettings>;
  /** `lease_owner` of this process (default: host, pid and a random suffix). */
  owner?: string;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Remembers each account's access token for a short while (one `runOnce`, at most `ttlMs`): the vault only hands
 * out tokens valid for minutes, so reading and unsealing the row again for every post of a burst is wasted work.
 * A 401 still goes through the vault (`forceRefresh`), which replaces the remembered token.
 */
function cachedTokens(tokens: AccessTokens, clock: Clock, ttlMs = 30_000): AccessTokens {
  const cache = new Map<string, { token: string; until: number }>();
  const remember = (accountId: string, token: string) => {
    cache.set(accountId, { token, until: clock.now() + ttlMs });
    return token;
  };
  return {
    async getAccessToken(accountId) {
      const hit = cache.get(accountId);
      if (hit && hit.until > clock.now()) return hit.token;
      return remember(accountId, await tokens.getAccessToken(accountId));
    },
    async forceRefresh(accountId) {
      cache.delete(accountId);
      return remember(accountId, await tokens.forceRefresh(accountId));
    },
    markNeedsReconnect(accountId, reason) {
      cache.delete(accountId);
      return tokens.markNeedsReconnect(accountId, reason);
    },
  };
}

/** The dispatcher as a worker loop, plus what tests and the stop path look at. */
export interface Dispatcher extends WorkerLoop {
  readonly owner: string;
}

/**
 * The claim loop: claims due posts with a lease, publishes them (accounts in parallel up to `concurrency`,
 * one account's posts in order), renews the leases while it works, and releases what it has not started when
 * it stops.
 *
 * Invariant: a claimed post is always released — it reaches a final status (`published`, `failed`,
 * `needs_review`), or goes back to waiting (`scheduled`, or `publishing` with no owner once part of it may be
 * on X) with `next_attempt_at` — or its lease expires (this process died or lost the database) and another
 * worker claims and resumes it, reconciling any item found in `sending` before sending anything.
 *
 * `runOnce` keeps going while posts are due and returns when nothing is due and nothing is in flight (or when
 * the worker stops), so the worker's idle pause is the poll interval.
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const settings: DispatcherSettings = { ...defaultDispatcherSettings, ...deps.settings };
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const repo = new DeliveryRepository(deps.db, deps.dialect, owner, settings.leaseMs, deps.writes);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const base = {
    repo,
    uploadMedia: deps.uploadMedia,
    rateLimits: deps.rateLimits,
    clock: deps.clock,
    log: deps.log,
    metrics: deps.metrics,
    settings,
    random: deps.random ?? Math.random,
    sleep,
  };
  const maxHeld = settings.concurrency + settings.batchSize;
  /** The worker's pause after a run that found nothing due: until the next post is due, at most `pollMs`. */
  let idleMs = settings.pollMs;

  /**
   * How long to wait before claiming again, after a claim made at `claimedAt` (null: none was made this round): until the next scheduled post is due,
   * at most `pollMs` (another process may schedule one sooner); no wait when one came due since the claim; `pollMs`
   * when one was due then but not claimed (its account is busy: a runner that finishes wakes the loop anyway).
   */
  async function untilNextDue(claimedAt: number | null): Promise<number> {
    const next = await repo.nextDueAt();
    const now = deps.clock.now();
    if (next === null) return settings.pollMs;
    if (next > now) return Math.min(settings.pollMs, next - now);
    return claimedAt !== null && next > claimedAt ? 0 : settings.pollMs;
  }

  async function runOnce(signal: AbortSignal): Promise<number> {
    idleMs = settings.pollMs;
    const publisher = {
      ...base,
      accounts: createAccountCaller({
        tokens: cachedTokens(deps.tokens, deps.clock),
        forToken: deps.forToken,
      }),
    };
    /** Claimed posts not started yet, per account, in order. */
    const queues = new Map<string, ClaimedPost[]>();
    const runners = new Map<string, Promise<void>>();
    let held = 0;
    let handled = 0;
    let wake: (() => void) | null = null;
    const nudge = () => {
      wake?.();
      wake = null;
    };
    const waitForChange = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });

    const runAccount = async (accountId: string): Promise<void> => {
      const queue = queues.get(accountId)!;
      for (let post = queue.shift(); post && !signal.aborted; post = queue.shift()) {
        try {
          await publishPost(publisher, post, () => signal.aborted);
        } catch (error) {
          deps.log.error({ err: error, postId: post.id, accountId }, 'publishing a post failed unexpectedly');
          await giveBack(
            post,
            'internal_error',
            'xgate hit an internal error while publishing; it tries again.',
          );
        } finally {
          held -= 1;
        }
      }
      runners.delete(accountId);
      if (queue.length === 0) queues.delete(accountId);
      startRunners();
      nudge();
    };

    const startRunners = () => {
      if (signal.aborted) return;
      for (const accountId of queues.keys()) {
        if (runners.size >= settings.concurrency) return;
        if (!runners.has(accountId)) runners.set(accountId, runAccount(accountId));
      }
    };

    /** Lets go of a post this run will not finish; if even that fails, its lease runs out. */
    const giveBack = async (post: ClaimedPost, code: string | null, message: string | null, delayMs = 0) => {
      const now = deps.clock.now();
      const startedOnX = post.items.some((item) => item.status !== 'pending' && item.status !== 'failed');
      try {
        await repo.release(
          post.id,
          now,
          {
            nextAttemptAt: now + delayMs + (code ? settings.backoffBaseMs : 0),
            errorCode: code,
            errorMessage: message,
          },
          startedOnX,
        );
      } catch (error) {
        deps.log.warn({ err: error, postId: post.id }, 'could not release a post; its lease will expire');
      }
    };

    const renewal = setInterval(
      () => {
        repo
          .renewLeases(deps.clock.now())
          .catch((error) => deps.log.warn({ err: error }, 'lease renewal failed'));
      },
      Math.max(50, Math.floor(settings.leaseMs / 3)),
    );
    const flushing = setInterval(() => void deps.rateLimits.flush(), 1000);
    try {
      while (!signal.aborted) {
        const room = Math.min(settings.batchSize, maxHeld - held);
        let claimed: ClaimedPost[] = [];
        let claimedAt: number | null = null;
        // Claim in batches, not per freed slot: each claim is a query over every due post.
        if (room > 0 && (room >= settings.batchSize / 2 || runners.size === 0) && !(await deps.paused?.())) {
          claimedAt = deps.clock.now();
          claimed = await repo.claim(claimedAt, room);
          if (claimed.length > 0) {
            await deps.rateLimits.refresh(claimed.flatMap((p) => (p.account ? [p.account.xUserId] : [])));
          }
          for (const post of claimed) {
            deps.log.info(
              {
                postId: post.id,
                accountId: post.accountId,
                from: post.resumed ? 'publishing' : 'scheduled',
                to: 'publishing',
                reason: 'claimed',
              },
              'post claimed',
            );
            const queue = queues.get(post.accountId) ?? [];
            queue.push(post);
            queues.set(post.accountId, queue);
          }
          held += claimed.length;
          handled += claimed.length;
          deps.metrics.claimed.inc(claimed.length);
          startRunners();
        }
        if (claimed.length === 0 && runners.size === 0) {
          idleMs = await untilNextDue(claimedAt);
          break;
        }
        // No claim this round (no room): a runner that finishes wakes the loop. A full batch may mean more is due:
        // claim again once there is room; otherwise wait for the next due post.
        if (claimedAt === null) await waitForChange(settings.pollMs);
        else if (claimed.length < room) await waitForChange(await untilNextDue(claimedAt));
      }
    } finally {
      if (signal.aborted) {
        // Graceful stop: posts not started go back at once; in-flight ones finish their current send.
        const notStarted = [...queues.values()].flatMap((queue) => queue.splice(0));
        held -= notStarted.length;
        await Promise.all(notStarted.map((post) => giveBack(post, null, null)));
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(runners.values()),
          new Promise((resolve) => {
            grace = setTimeout(resolve, settings.stopGraceMs);
          }),
        ]);
        clearTimeout(grace);
      } else {
        await Promise.all(runners.values());
      }
      clearInterval(renewal);
      clearInterval(flushing);
      await deps.rateLimits.flush();
      deps.rateLimits.prune(deps.clock.now());
    }
    return handled;
  }

  return {
    name: 'dispatcher',
    get idleMs() {
      return idleMs;
    },
    owner,
    runOnce,
  };
}
