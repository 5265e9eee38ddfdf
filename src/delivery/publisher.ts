import type { Logger } from 'pino';
import { AccountUnusableError } from '../accounts/accounts.errors.ts';
import type { AccountCaller, AccountSession } from '../accounts/as-account.ts';
import type { Clock } from '../clock.ts';
import type { PostStatus } from '../db/schema.ts';
import type { NewEvent } from '../events/index.ts';
import { MediaMissingError } from '../media/x-upload.ts';
import { postEvent, publishedItems } from '../posts/post-events.ts';
import type {
  ClaimedItem,
  ClaimedPost,
  DeliveryRepository,
  Finish,
  Release,
} from '../posts/publishing.repository.ts';
import { XError, type XUserApi } from '../x/index.ts';
import type { DeliveryMetrics } from './delivery.metrics.ts';
import { itemLabel, refusalMessage } from './messages.ts';
import type { RateLimitBook } from './rate-limit-book.ts';
import { type SearchResult, searchTimeline } from './reconcile.ts';

/** The token vault as the dispatcher uses it (implemented by `src/accounts/`). */

/** Uploads an item's stored media to X for one attempt; returns X media ids in the same order. */
export type MediaUploader = (api: XUserApi, mediaIds: readonly string[]) => Promise<string[]>;

/** Tuning of the publisher; defaults in `dispatcher.ts`. */
export interface PublisherSettings {
  /**
   * How long after an attempt whose answer was lost xgate waits before trusting "not on X" and sending again,
   * in ms: long enough for a request still in flight at X to land and show in the timeline.
   */
  settleMs: number;
  /** Margin subtracted from the attempt's start when reading the timeline by time (clock skew with X), ms. */
  skewMs: number;
  /** Claims after which temporary failures (X unreachable, 5xx) end the post as `failed`. */
  maxAttempts: number;
  /** First retry delay after a temporary failure, ms; doubles per attempt (with jitter) up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Pages of 100 tweets the reconciliation reads at most. */
  reconcilePages: number;
}

export interface PublisherDeps {
  repo: DeliveryRepository;
  /** Calls X as the post's account (tokens, one refresh after a 401, needs_reconnect after a second). */
  accounts: AccountCaller;
  uploadMedia: MediaUploader;
  rateLimits: RateLimitBook;
  clock: Clock;
  log: Logger;
  metrics: DeliveryMetrics;
  settings: PublisherSettings;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

const CREATE = 'POST /2/tweets';
const TIMELINE = 'GET /2/users/:id/tweets';

/** The lease was lost: another worker owns the post now; this run stops touching it. */
class LeaseLost extends Error {}

/** The account cannot give a token right now. */
class NoToken extends Error {
  constructor(
    readonly reconnect: boolean,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Publishes one claimed post, item by item: each item's attempt is committed (`sending`) before it is sent,
 * and its tweet id is committed before the next item is sent. Every outcome is one of: the post is published,
 * failed, needs review, or released to be resumed later — or the lease was lost, and the new owner carries on.
 */
export async function publishPost(
  deps: PublisherDeps,
  post: ClaimedPost,
  stopping: () => boolean,
): Promise<void> {
  const run = new PostRun(deps, post, stopping);
  try {
    await run.run();
  } catch (error) {
    if (error instanceof LeaseLost) {
      deps.log.warn(
        { postId: post.id, accountId: post.accountId },
        'lost the lease on a post; its new owner resumes it',
      );
      return;
    }
    throw error;
  }
}

class PostRun {
  private api: XUserApi | null = null;
  private accountSession: AccountSession | null = null;
  /** The item whose attempt was committed together with the previous item's tweet id, to be sent next. */
  private begun: number | null = null;
  private readonly items: ClaimedItem[];

  constructor(
    private readonly deps: PublisherDeps,
    private readonly post: ClaimedPost,
    private readonly stopping: () => boolean,
  ) {
    this.items = [...post.items].sort((a, b) => a.position - b.position);
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  private get xUserId(): string {
    return this.post.account!.xUserId;
  }

  private label(index: number): string {
    return itemLabel(index, this.items.length);
  }

  /** True when something of this post may be on X: it then stays `publishing` while it waits. */
  private get startedOnX(): boolean {
    return this.items.some((item) => item.status !== 'pending' && item.status !== 'failed');
  }

  async run(): Promise<void> {
    const account = this.post.account;
    if (account?.status !== 'active') {
      const disconnected = !account || account.status === 'disconnected';
      await this.fail(
        disconnected ? 'account_disconnected' : 'account_needs_reconnect',
        disconnected
          ? 'The X account was disconnected before the post went out; connect it again and retry the post.'
          : 'The X account needs to be reconnected before the post can go out; reconnect it and retry the post.',
      );
      return;
    }
    if (this.items.length === 0) {
      await this.fail('invalid_post', 'The post has no items to publish.');
      return;
    }
    let previousTweetId: string | undefined;
    for (let index = 0; index < this.items.length; index += 1) {
      const item = this.items[index]!;
      if (item.status === 'published' && item.tweetId) {
        previousTweetId = item.tweetId;
        continue;
      }
      const tweetId = await this.publishItem(index, previousTweetId);
      if (tweetId === null) return;
      previousTweetId = tweetId;
    }
    if (this.items.at(-1)?.status === 'published' && !this.finalCommitted) {
      const event = this.publishedEvent(
        this.items.map((i) => ({ position: i.position, tweetId: i.tweetId })),
      );
      if (!(await this.deps.repo.finishPublished(this.post.id, this.now, event))) throw new LeaseLost();
      this.published();
    }
  }

  private finalCommitted = false;

  /**
   * Gets one item onto X: reconciles first if an earlier attempt's outcome is unknown, then sends.
   * Returns its tweet id, or null when the post left this worker (released, finished or lost).
   */
  private async publishItem(index: number, previousTweetId: string | undefined): Promise<string | null> {
    const item = this.items[index]!;
    // Each pass either settles the item or sends it once; a few passes cover "reconciled absent → resend".
    for (let pass = 0; pass < 4; pass += 1) {
      if (this.begun === index) {
        // Its attempt was committed a moment ago with the previous item's tweet id: send it, nothing to look for.
        this.begun = null;
        const sent = await this.create(index, previousTweetId, this.api!, undefined);
        if (sent.kind === 'published') return sent.tweetId;
        if (sent.kind === 'stop') return null;
        continue;
      }
      if (item.status === 'sending' || item.status === 'unknown') {
        const found = await this.reconcile(index, previousTweetId, 'lost_answer');
        if (found.kind === 'found') return this.commit(index, found.tweetId);
        if (found.kind === 'undecidable') return this.needsReview(index, found.reason);
        const settledAt = (item.attemptStartedAt ?? 0) + this.deps.settings.settleMs;
        if (this.now < settledAt) {
          await this.release(
            settledAt,
            'publish_outcome_pending',
            `X's answer to ${this.label(index)} was lost; xgate checks again at ${iso(settledAt)} before sending it again.`,
            { position: item.position, status: 'unknown' },
          );
          return null;
        }
        this.deps.log.info(
          { postId: this.post.id, accountId: this.post.accountId, position: item.position },
          'an attempt whose answer was lost is not on X; sending the item again',
        );
      }
      if (this.stopping()) {
        await this.release(this.now, null, null);
        return null;
      }
      const sent = await this.send(index, previousTweetId);
      if (sent.kind === 'published') return sent.tweetId;
      if (sent.kind === 'stop') return null;
      // 'again': refreshed after a 401, or the answer was lost and the item is to be reconciled.
    }
    await this.release(
      this.now + this.backoff(),
      'publish_retry',
      `${capitalize(this.label(index))} could not be confirmed after several tries; xgate tries again later.`,
      item.status === 'pending' ? undefined : { position: item.position, status: 'unknown' },
    );
    return null;
  }

  private async send(
    index: number,
    previousTweetId: string | undefined,
  ): Promise<{ kind: 'published'; tweetId: string } | { kind: 'stop' } | { kind: 'again' }> {
    const item = this.items[index]!;
    const blocked = this.deps.rateLimits.blockedUntil(this.xUserId, CREATE, this.now);
    if (blocked !== null) {
      this.deps.metrics.deferred.inc({ reason: 'rate_limit' });
      await this.release(
        blocked + this.jitter(2000),
        'rate_limited',
        `X's posting limit for this account is used up until ${iso(blocked)}; the post goes out after that.`,
      );
      return { kind: 'stop' };
    }
    let xMediaIds: string[] | undefined;
    let api: XUserApi;
    try {
      api = await this.userApi();
      if (item.mediaIds.length > 0) xMediaIds = await this.deps.uploadMedia(api, item.mediaIds);
    } catch (error) {
      return (await this.beforeSendFailure(index, error)) ? { kind: 'again' } : { kind: 'stop' };
    }

    const startedAt = this.now;
    if (!(await this.deps.repo.beginSend(this.post.id, item.position, startedAt))) throw new LeaseLost();
    item.status = 'sending';
    item.attemptStartedAt = startedAt;
    return this.create(index, previousTweetId, api, xMediaIds);
  }

  /** Sends an item whose attempt (`sending`) is committed, and commits its tweet id. */
  private async create(
    index: number,
    previousTweetId: string | undefined,
    api: XUserApi,
    xMediaIds: string[] | undefined,
  ): Promise<{ kind: 'published'; tweetId: string } | { kind: 'stop' } | { kind: 'again' }> {
    const item = this.items[index]!;
    this.changed('publishing', `sending ${this.label(index)}`, 'debug');
    let created: { id: string };
    try {
      created = await api.createTweet({
        text: item.text,
        ...(previousTweetId !== undefined && { replyToTweetId: previousTweetId }),
        ...(xMediaIds !== undefined && { mediaIds: xMediaIds }),
      });
    } catch (error) {
      return this.sendFailure(index, previousTweetId, error);
    }
    const tweetId = await this.commit(index, created.id, this.nextToBegin(index));
    return tweetId === null ? { kind: 'stop' } : { kind: 'published', tweetId };
  }

  /**
   * The thread's next item when it can be sent straight after this one without any other step: pending, no
   * media to upload, a token at hand, X's last headers leave room, and the worker is not stopping. Its attempt
   * is then committed in the same write as this item's tweet id.
   */
  private nextToBegin(index: number): number | undefined {
    const next = this.items[index + 1];
    if (next?.status !== 'pending' || next.mediaIds.length > 0 || !this.api || this.stopping()) {
      return undefined;
    }
    if (this.deps.rateLimits.blockedUntil(this.xUserId, CREATE, this.now) !== null) return undefined;
    return index + 1;
  }

  /**
   * Records an item's tweet id (and the post as published with its last item). With `next`, that item's attempt
   * is committed in the same write and it is sent next.
   */
  private async commit(index: number, tweetId: string, next?: number): Promise<string> {
    const item = this.items[index]!;
    const final = this.items.every((other, i) => i === index || other.status === 'published');
    const now = this.now;
    const nextItem = next === undefined ? undefined : this.items[next];
    const event = final
      ? this.publishedEvent(
          this.items.map((other, i) => ({
            position: other.position,
            tweetId: i === index ? tweetId : other.tweetId,
          })),
        )
      : undefined;
    if (
      !(await this.deps.repo.commitPublished(
        this.post.id,
        item.position,
        tweetId,
        now,
        final,
        nextItem?.position,
        event,
      ))
    ) {
      throw new LeaseLost();
    }
    item.status = 'published';
    item.tweetId = tweetId;
    if (nextItem) {
      nextItem.status = 'sending';
      nextItem.attemptStartedAt = now;
      this.begun = next!;
    }
    if (final) {
      this.finalCommitted = true;
      this.published();
    }
    return tweetId;
  }

  /** A failure before anything was sent (token, media upload): nothing reached X's create endpoint. */
  private async beforeSendFailure(index: number, error: unknown): Promise<boolean> {
    if (error instanceof NoToken) {
      if (error.reconnect) {
        await this.failItem(index, 'account_needs_reconnect', error.message);
        return false;
      }
      await this.retryLater(index, error.message, error.retryAfterMs);
      return false;
    }
    if (error instanceof XError) {
      if (error.failureClass === 'auth') return this.afterUnauthorized(index, error);
      if (error.failureClass === 'app') {
        await this.refusedApp(index, error);
        return false;
      }
      if (error.failureClass === 'terminal') {
        await this.failItem(index, error.code, refusalMessage(error, this.label(index), 'media'));
        return false;
      }
      await this.retryLater(
        index,
        `Uploading the media of ${this.label(index)} failed: ${error.message}`,
        error.retryAfterMs,
      );
      return false;
    }
    if (error instanceof MediaMissingError) {
      await this.failItem(index, error.code, error.message);
      return false;
    }
    throw error;
  }

  /** What to do after `POST /2/tweets` failed, by the failure table. */
  private async sendFailure(
    index: number,
    previousTweetId: string | undefined,
    error: unknown,
  ): Promise<{ kind: 'stop' } | { kind: 'again' } | { kind: 'published'; tweetId: string }> {
    const item = this.items[index]!;
    const failureClass = error instanceof XError ? error.failureClass : 'ambiguous';
    const why = error instanceof Error ? error.message : String(error);
    switch (failureClass) {
      case 'retryable': {
        item.status = 'pending';
        await this.retryLater(index, why, error instanceof XError ? error.retryAfterMs : undefined, true);
        return { kind: 'stop' };
      }
      case 'app': {
        item.status = 'pending';
        await this.refusedApp(index, error as XError);
        return { kind: 'stop' };
      }
      case 'auth': {
        item.status = 'pending';
        if (!(await this.deps.repo.setItemStatus(this.post.id, item.position, 'pending', this.now, null))) {
          throw new LeaseLost();
        }
        return (await this.afterUnauthorized(index, error as XError)) ? { kind: 'again' } : { kind: 'stop' };
      }
      case 'terminal': {
        const xError = error as XError;
        if (xError.code === 'x_duplicate_content') {
          // X says it already has this text: it may be this very item, sent by an attempt whose answer was lost.
          const found = await this.reconcile(index, previousTweetId, 'duplicate');
          if (found.kind === 'found') {
            const tweetId = await this.commit(index, found.tweetId);
            return { kind: 'published', tweetId };
          }
        }
        await this.failItem(index, xError.code, refusalMessage(xError, this.label(index), 'tweet'));
        return { kind: 'stop' };
      }
      default: {
        // Ambiguous: X may have created the tweet. Never resend blindly: look for it first.
        item.status = 'unknown';
        if (!(await this.deps.repo.setItemStatus(this.post.id, item.position, 'unknown', this.now, why))) {
          throw new LeaseLost();
        }
        this.deps.metrics.ambiguous.inc();
        this.deps.log.warn(
          { postId: this.post.id, accountId: this.post.accountId, position: item.position, err: why },
          'the outcome of a create is unknown; reconciling',
        );
        return { kind: 'again' };
      }
    }
  }

  /** One forced refresh after a 401; a second 401 means X no longer accepts the account. */
  private async afterUnauthorized(index: number, error: XError): Promise<boolean> {
    let outcome: 'again' | 'reconnect';
    try {
      outcome = await this.session().unauthorized(error);
    } catch (refreshError) {
      return this.beforeSendFailure(index, this.toNoToken(refreshError));
    }
    if (outcome === 'again') {
      this.api = await this.session().api();
      return true;
    }
    await this.failItem(
      index,
      'account_needs_reconnect',
      `X no longer accepts this account's authorization, so ${this.label(index)} was not published. Reconnect the account and retry the post.`,
    );
    return false;
  }

  /**
   * Looks for the item on X. `lost_answer`: an attempt's answer was lost (search from the attempt's start);
   * `duplicate`: X called the text a duplicate (search from the post's creation).
   */
  private async reconcile(
    index: number,
    previousTweetId: string | undefined,
    why: 'lost_answer' | 'duplicate',
  ): Promise<SearchResult> {
    const item = this.items[index]!;
    const label = this.label(index);
    const blocked = this.deps.rateLimits.blockedUntil(this.xUserId, TIMELINE, this.now);
    if (blocked !== null) {
      return {
        kind: 'undecidable',
        reason: `X's limit for reading this account's tweets is used up until ${iso(blocked)}, so xgate could not check whether ${label} was published.`,
      };
    }
    let api: XUserApi;
    try {
      api = await this.userApi();
    } catch (error) {
      return {
        kind: 'undecidable',
        reason: `xgate could not check whether ${label} was published: ${(error as Error).message}`,
      };
    }
    const since = why === 'duplicate' ? this.post.createdAt : (item.attemptStartedAt ?? this.post.createdAt);
    const result = await searchTimeline(
      { authorId: this.xUserId, text: item.text, inReplyToTweetId: previousTweetId },
      {
        read: (query) => api.getUserTweets(this.xUserId, query),
        from:
          previousTweetId !== undefined
            ? { sinceId: previousTweetId }
            : { startTime: since - this.deps.settings.skewMs },
        maxPages: this.deps.settings.reconcilePages,
        readAttempts: 3,
        sleep: this.deps.sleep,
        maxWaitMs: 5000,
        label,
      },
    );
    this.deps.metrics.reconciled.inc({ result: result.kind });
    if (result.kind === 'undecidable' && why === 'lost_answer') {
      return {
        kind: 'undecidable',
        reason: `X's answer to ${label} was lost and xgate cannot tell whether X published it. ${result.reason}`,
      };
    }
    return result;
  }

  private async userApi(): Promise<XUserApi> {
    if (this.api) return this.api;
    try {
      this.api = await this.session().api();
    } catch (error) {
      throw this.toNoToken(error);
    }
    return this.api;
  }

  private session(): AccountSession {
    this.accountSession ??= this.deps.accounts.session({ id: this.post.accountId, xUserId: this.xUserId });
    return this.accountSession;
  }

  private toNoToken(error: unknown): NoToken {
    if (error instanceof NoToken) return error;
    const message = error instanceof Error ? error.message : String(error);
    const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    return new NoToken(
      error instanceof AccountUnusableError,
      message,
      typeof retryAfterMs === 'number' ? retryAfterMs : undefined,
    );
  }

  // ---- leaving this worker's hands ----

  /** Backs off after a temporary failure; gives up as `failed` after `maxAttempts` claims. */
  /**
   * X refused the app itself (credits depleted, not enrolled): nothing was sent, nothing is this post's fault. It
   * goes back to `scheduled` at its own time (so the queue keeps its order) without failing; the app is paused
   * (src/spend/pause.ts) and nothing is claimed until X accepts the app again.
   */
  private async refusedApp(index: number, error: XError): Promise<void> {
    const item = this.items[index]!;
    await this.release(
      this.post.scheduledAt,
      'x_app_paused',
      `X refused the app (${error.code === 'x_credits_depleted' ? 'credits depleted' : 'client not enrolled'}): publishing is paused for the whole app and this post goes out when X accepts calls again.`,
      { position: item.position, status: 'pending', errorMessage: error.message },
    );
  }

  private async retryLater(
    index: number,
    why: string,
    retryAfterMs?: number,
    itemBackToPending = false,
  ): Promise<void> {
    const item = this.items[index]!;
    const rateLimited = retryAfterMs !== undefined;
    if (!rateLimited && this.post.attempts >= this.deps.settings.maxAttempts) {
      await this.failItem(
        index,
        'x_unavailable',
        `X could not be reached for ${this.label(index)} after ${this.post.attempts} attempts (last: ${why}).`,
      );
      return;
    }
    const at = rateLimited ? this.now + retryAfterMs + this.jitter(2000) : this.now + this.backoff();
    if (rateLimited) this.deps.metrics.deferred.inc({ reason: 'rate_limit' });
    else this.deps.metrics.deferred.inc({ reason: 'x_unavailable' });
    await this.release(
      at,
      rateLimited ? 'rate_limited' : 'publish_retry',
      rateLimited
        ? `X asked to wait (rate limit); the post goes out after ${iso(at)}.`
        : `${capitalize(this.label(index))} could not be sent (${why}); xgate tries again at ${iso(at)}.`,
      itemBackToPending ? { position: item.position, status: 'pending', errorMessage: why } : undefined,
    );
  }

  private async release(
    nextAttemptAt: number,
    errorCode: string | null,
    errorMessage: string | null,
    item?: Release['item'],
  ): Promise<void> {
    const startedOnX = this.startedOnX;
    const ok = await this.deps.repo.release(
      this.post.id,
      this.now,
      { nextAttemptAt, errorCode, errorMessage, ...(item && { item }) },
      startedOnX,
    );
    if (!ok) throw new LeaseLost();
    this.changed(startedOnX ? 'publishing' : 'scheduled', errorMessage ?? 'released');
  }

  private async failItem(index: number, code: string, message: string): Promise<void> {
    const item = this.items[index]!;
    const published = this.items.filter((i) => i.status === 'published').length;
    const full =
      published > 0
        ? `${message} (${published} earlier item${published === 1 ? ' is' : 's are'} published.)`
        : message;
    await this.end({
      status: 'failed',
      errorCode: code,
      errorMessage: full,
      item: { position: item.position, status: 'failed', errorMessage: message },
    });
  }

  private async fail(code: string, message: string): Promise<void> {
    await this.end({ status: 'failed', errorCode: code, errorMessage: message });
  }

  private async needsReview(index: number, reason: string): Promise<null> {
    const item = this.items[index]!;
    await this.end({
      status: 'needs_review',
      errorCode: 'publish_outcome_unknown',
      errorMessage: reason,
      item: { position: item.position, status: 'unknown', errorMessage: reason },
    });
    return null;
  }

  private async end(finish: Finish): Promise<void> {
    const event = postEvent(
      finish.status === 'failed' ? 'post.failed' : 'post.needs_review',
      this.post,
      this.now,
      { status: finish.status, error: { code: finish.errorCode, message: finish.errorMessage } },
    );
    if (!(await this.deps.repo.finish(this.post.id, this.now, finish, event))) throw new LeaseLost();
    if (finish.status === 'failed') this.deps.metrics.failed.inc({ code: finish.errorCode });
    else this.deps.metrics.needsReview.inc();
    this.changed(finish.status, finish.errorMessage, finish.status === 'failed' ? 'warn' : 'error');
  }

  private publishedEvent(items: ReadonlyArray<{ position: number; tweetId: string | null }>): NewEvent {
    return postEvent('post.published', this.post, this.now, {
      status: 'published',
      items: publishedItems(this.post.account?.username ?? null, items),
    });
  }

  private published(): void {
    this.deps.metrics.published.inc();
    this.deps.metrics.lateness.observe(Math.max(0, this.now - this.post.scheduledAt) / 1000);
    this.changed('published', null);
  }

  private changed(
    to: PostStatus,
    reason: string | null,
    level: 'debug' | 'info' | 'warn' | 'error' = 'info',
  ): void {
    this.deps.log[level](
      { postId: this.post.id, accountId: this.post.accountId, from: 'publishing', to, reason },
      `post ${to}`,
    );
  }

  private backoff(): number {
    const { backoffBaseMs, backoffMaxMs } = this.deps.settings;
    const exp = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, this.post.attempts - 1));
    return Math.round(exp / 2 + this.deps.random() * (exp / 2));
  }

  private jitter(maxMs: number): number {
    return Math.round(this.deps.random() * maxMs);
  }
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
