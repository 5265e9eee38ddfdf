import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/index.ts';
import { batched } from '../db/batched.ts';
import { isPostgres, isUniqueViolation } from '../db/index.ts';
import type { Database, PostStatus } from '../db/schema.ts';
import type { KnownLimit, RateLimitBook } from '../delivery/rate-limit-book.ts';
import { AppError, ConflictError, NotFoundError, ServiceUnavailableError } from '../errors/index.ts';
import { appendEvents, type NewEvent } from '../events/index.ts';
import { findMediaByIds } from '../media/media.repository.ts';
import type { CreateOptions } from '../media/media.service.ts';
import { type PostingSchedule, slotTimes } from '../schedule/slots.ts';
import {
  type BudgetConstraint,
  CREATE_TWEET_ENDPOINT,
  countIn,
  findSlot,
  fits,
  heaviestRun,
  insertSorted,
  tierWindows,
} from './budget.ts';
import { moveLinksToReply } from './link-in-reply.ts';
import { postEvent } from './post-events.ts';
import { DELETABLE_STATUSES, FINAL_STATUSES } from './post-status.ts';
import { PostRuleError, ReferenceNotFoundError } from './posts.errors.ts';
import {
  BUDGET_HOUR_MS,
  type BudgetLimit,
  type BudgetRange,
  cancelScheduledPost,
  type DraftItem,
  findAccountIdByUsername,
  findPost,
  findPostingAccount,
  findPostStatus,
  insertPosts,
  insertPostsLocked,
  insertPostsWithinBudget,
  type ListPosition,
  listPosts,
  listQueue,
  lockBudget,
  markItemDeleted,
  markPostDeleted,
  type NewPost,
  type Post,
  type PostingAccount,
  pullQueueForward,
  reorderQueue,
  scheduledTimesOfAccount,
  tweetCountsByPiece,
  tweetTimes,
  updateScheduledPost,
} from './posts.repository.ts';
import { itemText, validateItems } from './posts.validation.ts';
import type { SplitItem } from './split.ts';
import { maxWeightedLengthFor, STANDARD_MAX_WEIGHTED_LENGTH } from './text.ts';
import type { TextWorkers } from './text-workers.ts';

/** A scheduled time this far in the past is still accepted (clock skew between client and server). */
export const SCHEDULE_SKEW_MS = 30_000;
/** How far past the requested time the budget looks for the next free slot. */
const SLOT_SEARCH_MS = 7 * 24 * 60 * 60 * 1000;
/** How often `?wait` re-reads the post while holding the answer. */
const WAIT_POLL_MS = 200;

/** A post as the API receives it. `scheduledAt` in epoch ms; absent = now; `next_slot` = the queue's next free slot. */
export interface PostInput {
  accountId: string;
  items: ReadonlyArray<{ text: string; mediaIds?: readonly string[] | undefined }>;
  scheduledAt?: number | 'next_slot' | undefined;
  /** Move the first item's URLs into a reply (cheaper at X); absent: the account's default. */
  linkInReply?: boolean | undefined;
}

/** What posting costs at X, and the caps on it (src/spend). */
export interface PostSpending {
  /** The estimated cost (USD) of publishing these texts as a thread. */
  estimate(texts: readonly string[]): number;
  /** The account's spending settings (read once per request). */
  ofAccount(accountId: string): Promise<AccountSpending>;
}

/** One account's spending settings, as a create or an edit uses them. */
export interface AccountSpending {
  /** Whether the account moves links into a reply by default. */
  linkInReply: boolean;
  /**
   * The cap check to run inside the storing transaction (422 `spend_cap_exceeded` when the post does not fit),
   * or null when no cap applies to the account (then the transaction reads nothing more).
   */
  capGuard(post: {
    accountId: string;
    xUserId: string;
    at: number;
    costUsd: number;
    excludePostId?: string;
  }): ((trx: Transaction<Database>) => Promise<void>) | null;
}

/** A row of an import that was not (or would not be) created, and why. */
export interface ImportProblem {
  /** The row's position in the import, from 0. */
  row: number;
  code: string;
  message: string;
  details?: unknown;
}

const DAY_MS = 86_400_000;
/** Posts of an import inserted per statement (within SQLite's limit on bound values, with long threads). */
const IMPORT_INSERT_CHUNK = 50;
/** How often "add to queue" tries again when another request took the slot it chose at the same moment. */
const QUEUE_ATTEMPTS = 30;

/** Deletes one tweet from X for an account (built from the token vault and the X client); 404 counts as done. */
export type TweetDeleter = (account: { id: string; xUserId: string }, tweetId: string) => Promise<void>;

export interface PostsServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  config: Pick<Config, 'xTier' | 'maxThreadItems' | 'scheduleHorizonDays'>;
  /** Where text is measured and split (worker threads with a time limit). */
  text: TextWorkers;
  /** X's last known budgets (the dispatcher's rate-limit book, shared through the database). */
  rateLimits: Pick<RateLimitBook, 'known'>;
  /** Absent until the accounts module provides it: deleting a published post then answers 503. */
  deleteTweet?: TweetDeleter;
  /** An account's posting schedule (its queue slots), or null when it has none. */
  schedules: (accountId: string) => Promise<PostingSchedule | null>;
  spending: PostSpending;
}

/** X's budget over a stretch of time, with the tweets planned meanwhile (see `#budgetPlan`). */
interface BudgetPlan {
  constraints(xUserId: string): BudgetConstraint[];
  fits(xUserId: string, at: number, tweets: number): boolean;
  record(xUserId: string, at: number, tweets: number): void;
}

/** Pieces each budget window's neighbourhood is cut into by the quick check of `#budgetCheck`. */
const PARTS = 8;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;

/** A check a create or an edit runs inside its transaction (a spending cap): throws when the post does not fit. */
type Guard = (trx: Transaction<Database>) => Promise<void>;

/** A create's or an edit's budget check (see `#budgetCheck`): the limits to lock and count, and the exact check. */
interface BudgetCheck {
  /** Each over a stretch of time whose tweets decide it: locked, then counted piece by piece. */
  limits: BudgetLimit[];
  /** The post's tweets. */
  tweets: number;
  /** The exact check, when the counts leave no room: throws `rate_budget_exceeded` naming the next free slot. */
  exact(trx: Executor): Promise<void>;
}

/** Whether counts (per limit, piece by piece: an upper bound of the tweets planned) leave room for the post. */
function within(check: BudgetCheck, counts: number[][]): boolean {
  return check.limits.every(
    (limit, i) => heaviestRun(counts[i] ?? [], limit.run) + check.tweets <= limit.allowed,
  );
}

/** The stretches of time a budget check locks and counts. */
function rangesOf(check: BudgetCheck | null): BudgetRange[] {
  return check?.limits.map((limit) => limit.range) ?? [];
}

/** Runs `check` inside `trx`, leaving the post `excludePostId` (being edited) out of the counts. */
async function runBudgetCheck(trx: Executor, check: BudgetCheck, excludePostId: string): Promise<void> {
  await lockBudget(trx, rangesOf(check));
  await checkLockedBudget(trx, check, excludePostId);
}

/** `check` once its ranges are locked: the quick count, and the exact check when the count does not fit. */
async function checkLockedBudget(trx: Executor, check: BudgetCheck, excludePostId?: string): Promise<void> {
  if (!within(check, await tweetCountsByPiece(trx, rangesOf(check), excludePostId))) await check.exact(trx);
}

/** A new post on its way into the database (see `#store`). */
interface PendingPost {
  account: PostingAccount;
  post: NewPost & { items: DraftItem[] };
  options: CreateOptions<Pick<Post, 'id'>>;
  budget: BudgetCheck | null;
  guards: readonly Guard[];
}

/** New posts as the repository inserts them, with their `post.scheduled` events. */
function scheduledInserts(batch: readonly PendingPost[]) {
  return {
    posts: batch.map(({ post, account }) => ({ post, username: account.username })),
    events: batch.map(({ post }) => scheduledEvent(post)),
  };
}

/**
 * The limits of a batch's budget checks, each leaving room for the tweets of the batch's posts in its range and scope
 * (and for its own post's, wherever it falls).
 */
function batchLimits(batch: readonly PendingPost[]): BudgetLimit[] {
  return batch.flatMap(
    (pending) =>
      pending.budget?.limits.map(({ range, run, allowed }) => {
        const shares = (other: PendingPost) =>
          other === pending ||
          ((range.xUserId === undefined || range.xUserId === other.account.xUserId) &&
            other.post.scheduledAt >= range.from &&
            other.post.scheduledAt < range.to);
        const reserved = sum(batch.filter(shares).map((other) => other.post.items.length));
        return { range, run, allowed: allowed - reserved };
      }) ?? [],
  );
}

/** What is left of a create's transaction once its budget fits: its guards, then its request's own rows. */
async function finishPending(
  trx: Transaction<Database>,
  { guards, options, post }: PendingPost,
): Promise<void> {
  for (const guard of guards) await guard(trx);
  await options.inTransaction?.(trx, { id: post.id });
}

/** Stored, or refused (a rule's error, answered to its request alone). */
type Stored = { post: Post } | { error: unknown };

/** A stored post, or its request's error thrown. */
function unwrap(stored: Stored): Post {
  if ('error' in stored) throw stored.error;
  return stored.post;
}

type Executor = Kysely<Database> | Transaction<Database>;

/** Composing and scheduling posts: validation and budget at create/edit time, listing, cancel and delete. */
export class PostsService {
  constructor(private readonly deps: PostsServiceDeps) {}

  /**
   * Validates and stores a new `scheduled` post (due now when `scheduledAt` is absent). Nothing is stored
   * when a rule is broken. `options.inTransaction` runs inside the inserting transaction, given the new id.
   */
  async create(
    userId: string,
    input: PostInput,
    options: CreateOptions<Pick<Post, 'id'>> = {},
  ): Promise<Post> {
    const { clock } = this.deps;
    const now = clock.now();
    const account = await this.#postingAccount(userId, input.accountId);
    const spending = await this.deps.spending.ofAccount(account.id);
    const linkInReply = input.linkInReply ?? spending.linkInReply;
    const drafts = linkInReply ? moveLinksToReply(input.items).items : input.items;
    if (input.scheduledAt === 'next_slot') {
      const items = await this.#checkItems(userId, account, drafts);
      return this.#addToQueue(userId, account, items, now, options, { linkInReply, spending });
    }
    const scheduledAt = this.#checkSchedule(input.scheduledAt, now);
    const items = await this.#checkItems(userId, account, drafts);
    const id = randomUUID();
    const estimatedCostUsd = this.deps.spending.estimate(items.map((item) => item.text));
    return this.#store({
      account,
      post: { id, userId, accountId: account.id, scheduledAt, now, items, estimatedCostUsd, linkInReply },
      options,
      budget: await this.#budgetCheck(account, scheduledAt, items.length, id),
      guards: spendGuard(spending, account, scheduledAt, estimatedCostUsd, id),
    });
  }

  /**
   * What creating this post would do, without storing anything: its items (with `linkInReply` applied) and what
   * X would bill. The same checks as a create, but the caps.
   */
  async estimate(
    userId: string,
    input: PostInput,
  ): Promise<{ items: DraftItem[]; estimatedCostUsd: number; linkInReply: boolean }> {
    const account = await this.#postingAccount(userId, input.accountId);
    const linkInReply = input.linkInReply ?? (await this.deps.spending.ofAccount(account.id)).linkInReply;
    const items = await this.#checkItems(
      userId,
      account,
      linkInReply ? moveLinksToReply(input.items).items : input.items,
    );
    return {
      items,
      estimatedCostUsd: this.deps.spending.estimate(items.map((item) => item.text)),
      linkInReply,
    };
  }

  /**
   * Stores a new post with its `post.scheduled` event (and `options.inTransaction`) in one transaction, if its
   * budget check and guards (built to leave this post out of what they count) pass. On PostgreSQL the statement
   * that inserts the post first locks its budget's ranges until the commit (`insertPostsLocked`): concurrent creates
   * of the same ranges wait for one another holding no row, and the lock costs no round trip of its own.
   *
   * PostgreSQL, where every statement is a round trip: the posts that arrive while a store is in flight are stored
   * together, in one statement (`#storeTogether`). Not a post with guards (a spending cap, checked in its
   * transaction) or with `options.inTransaction` (an Idempotency-Key, recorded for its request once): a batch may be
   * refused as a whole and stored again post by post.
   */
  async #store(pending: PendingPost): Promise<Post> {
    const { inTransaction } = pending.options;
    if (!isPostgres(this.deps.db) || inTransaction || pending.guards.length > 0)
      return this.#storeAlone(pending);
    return unwrap(await this.#storeBatched(pending));
  }

  readonly #storeBatched = batched((batch: readonly PendingPost[]) => this.#storeTogether(batch));

  async #storeAlone(pending: PendingPost): Promise<Post> {
    return this.deps.db.transaction().execute(async (trx) => {
      const { budget } = pending;
      const { posts, events } = scheduledInserts([pending]);
      const [created] = await insertPostsLocked(trx, posts, events, rangesOf(budget));
      if (budget) await checkLockedBudget(trx, budget, pending.post.id);
      await finishPending(trx, pending);
      return created!;
    });
  }

  /**
   * New posts in one statement, its own transaction (`insertPostsWithinBudget`): it locks their budgets' ranges,
   * counts them, and stores every post if every limit holds with room for the whole batch — each limit's `allowed`
   * less the tweets of every post of the batch in its range and scope, its own too: more than any order of storing
   * them one by one would count, so when all fit, storing them one by one would have too. Otherwise (near a limit,
   * or any error) nothing of the batch is kept and each post is stored alone, exactly as without batching.
   */
  async #storeTogether(batch: readonly PendingPost[]): Promise<Stored[]> {
    try {
      const { posts, events } = scheduledInserts(batch);
      const created = await insertPostsWithinBudget(this.deps.db, posts, events, batchLimits(batch));
      if (created) return created.map((post) => ({ post }));
    } catch {
      // Stored alone below, where each post meets its own error.
    }
    return Promise.all(
      batch.map((pending) =>
        this.#storeAlone(pending).then(
          (post) => ({ post }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
  }

  /**
   * "Add to queue": the post takes the first slot of the account's schedule after now that no post of the account
   * holds (within the schedule's spacing) and that X's budget allows. Two requests choosing the same slot at once
   * (in any processes) collide on the one-post-per-slot index; the loser chooses again.
   */
  async #addToQueue(
    userId: string,
    account: PostingAccount,
    items: DraftItem[],
    now: number,
    options: CreateOptions<Pick<Post, 'id'>>,
    { linkInReply, spending }: { linkInReply: boolean; spending: AccountSpending },
  ): Promise<Post> {
    const schedule = await this.#scheduleOf(account);
    const estimatedCostUsd = this.deps.spending.estimate(items.map((item) => item.text));
    for (let attempt = 1; ; attempt++) {
      const queue = await this.#queueState(account, schedule, now);
      const at = this.#freeSlot(account, schedule, items.length, now, queue);
      const post = {
        id: randomUUID(),
        userId,
        accountId: account.id,
        scheduledAt: at,
        queueSlotAt: at,
        now,
        items,
        estimatedCostUsd,
        linkInReply,
      };
      try {
        return await this.#store({
          account,
          post,
          options,
          budget: null,
          guards: spendGuard(spending, account, at, estimatedCostUsd, post.id),
        });
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= QUEUE_ATTEMPTS) throw error;
      }
    }
  }

  /** The account's schedule, or 422 `no_schedule` when it has no slots. */
  async #scheduleOf(account: PostingAccount): Promise<PostingSchedule> {
    const schedule = await this.deps.schedules(account.id);
    if (!schedule || schedule.slots.length === 0) {
      throw new PostRuleError(
        'no_schedule',
        `@${account.username} has no posting slots, so there is no queue to add to: set them with PUT /api/v1/accounts/${account.id}/schedule, or give \`scheduledAt\` a time.`,
        { field: 'scheduledAt', accountId: account.id },
      );
    }
    return schedule;
  }

  /** What the queue needs to know now: the times the account's posts hold, and X's budget over the horizon. */
  async #queueState(account: PostingAccount, schedule: PostingSchedule, now: number, plan?: BudgetPlan) {
    const horizon = now + this.deps.config.scheduleHorizonDays * DAY_MS;
    const spacing = schedule.spacingMinutes * 60_000;
    return {
      horizon,
      taken: await scheduledTimesOfAccount(this.deps.db, account.id, now - spacing, horizon + spacing),
      plan: plan ?? (await this.#budgetPlan([account.xUserId], now, horizon)),
    };
  }

  /** The first free slot (see `#addToQueue`), or 422 `no_free_slot` saying why there is none. */
  #freeSlot(
    account: PostingAccount,
    schedule: PostingSchedule,
    tweets: number,
    now: number,
    queue: { horizon: number; taken: number[]; plan: BudgetPlan },
  ): number {
    const spacing = schedule.spacingMinutes * 60_000;
    let slots = 0;
    let taken = 0;
    let overBudget = 0;
    for (const at of slotTimes(schedule, now, queue.horizon)) {
      slots++;
      if (countIn(queue.taken, at - spacing, at + spacing + 1) > 0) taken++;
      else if (!queue.plan.fits(account.xUserId, at, tweets)) overBudget++;
      else return at;
    }
    const { scheduleHorizonDays, xTier } = this.deps.config;
    throw new PostRuleError(
      'no_free_slot',
      slots === 0
        ? `@${account.username}'s schedule has no slot in the next ${scheduleHorizonDays} days (every date is blacked out?). Add slots with PUT /api/v1/accounts/${account.id}/schedule, or give \`scheduledAt\` a time.`
        : `No free slot for @${account.username} in the next ${scheduleHorizonDays} days: of ${slots} slots, ${taken} hold another post (within ${schedule.spacingMinutes} minutes) and ${overBudget} are beyond what the ${xTier} tier lets X accept. Add slots, or give \`scheduledAt\` a time.`,
      { field: 'scheduledAt', slots, taken, overBudget, horizonDays: scheduleHorizonDays },
    );
  }

  /** The account's queued posts (added with `next_slot`, still waiting), in slot order. */
  queue(userId: string, accountId: string): Promise<Post[]> {
    return listQueue(this.deps.db, userId, accountId, this.deps.clock.now());
  }

  /** Shuffles the account's queued posts over the same slots; answers the queue in its new order. */
  async shuffleQueue(userId: string, accountId: string, random = Math.random): Promise<Post[]> {
    const account = await findPostingAccount(this.deps.db, userId, accountId);
    if (!account) throw await this.#accountNotFound(userId, accountId);
    const now = this.deps.clock.now();
    await reorderQueue(this.deps.db, accountId, now, (posts) => {
      const shuffled = [...posts];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      return shuffled;
    });
    return listQueue(this.deps.db, userId, accountId, now);
  }

  /** Moves a queued post to the queue's first slot; the posts before it move down one slot each. */
  async moveToTop(userId: string, id: string): Promise<Post> {
    const post = await this.get(userId, id);
    const now = this.deps.clock.now();
    if (post.status !== 'scheduled' || post.queueSlotAt === null || post.queueSlotAt <= now) {
      throw new ConflictError(
        'Only a post waiting in the queue (added with "scheduledAt": "next_slot") can move to the top.',
        'post_not_queued',
        { status: post.status },
      );
    }
    await reorderQueue(this.deps.db, post.accountId, now, (posts) => [
      ...posts.filter((p) => p.id === id),
      ...posts.filter((p) => p.id !== id),
    ]);
    return this.get(userId, id);
  }

  /**
   * Creates many posts at once, each with a time or `next_slot`. Every row is checked first, as one post would be,
   * counting X's budget and the queue slots of the rows before it; the rows are then created in one transaction.
   * Any bad row → 422 `import_invalid` listing every bad row and nothing created, unless `skipInvalid`, which
   * creates the good ones and answers the bad ones as skipped.
   */
  async importPosts(
    userId: string,
    rows: readonly PostInput[],
    options: { skipInvalid: boolean } & CreateOptions<{ ids: string[] }>,
  ): Promise<{ posts: Post[]; skipped: ImportProblem[] }> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const problems: ImportProblem[] = [];
    const problemOf = (row: number, error: unknown): ImportProblem => {
      if (!(error instanceof AppError)) throw error;
      return {
        row,
        code: error.code,
        message: error.message,
        ...(error.details !== undefined && { details: error.details }),
      };
    };
    const accounts = new Map<string, PostingAccount>();
    const checked: Array<{
      row: number;
      account: PostingAccount;
      items: DraftItem[];
      at: number | 'next_slot';
    }> = [];
    for (const [row, input] of rows.entries()) {
      try {
        let account = accounts.get(input.accountId);
        if (!account) {
          account = await this.#postingAccount(userId, input.accountId);
          accounts.set(input.accountId, account);
        }
        const at =
          input.scheduledAt === 'next_slot' ? 'next_slot' : this.#checkSchedule(input.scheduledAt, now);
        checked.push({ row, account, items: await this.#checkItems(userId, account, input.items), at });
      } catch (error) {
        problems.push(problemOf(row, error));
      }
    }
    const horizon = now + this.deps.config.scheduleHorizonDays * DAY_MS;
    const plan = await this.#budgetPlan(
      [...accounts.values()].map((a) => a.xUserId),
      now,
      horizon,
    );
    const queues = new Map<
      string,
      { schedule: PostingSchedule; horizon: number; taken: number[]; plan: BudgetPlan }
    >();
    const planned: Array<{
      row: number;
      account: PostingAccount;
      items: DraftItem[];
      at: number;
      queued: boolean;
    }> = [];
    for (const entry of checked) {
      const { row, account, items } = entry;
      try {
        let at: number;
        if (entry.at === 'next_slot') {
          let queue = queues.get(account.id);
          if (!queue) {
            const schedule = await this.#scheduleOf(account);
            queue = { schedule, ...(await this.#queueState(account, schedule, now, plan)) };
            queues.set(account.id, queue);
          }
          at = this.#freeSlot(account, queue.schedule, items.length, now, queue);
          insertSorted(queue.taken, at);
        } else {
          at = entry.at;
          await this.#checkBudget(account, at, items.length, now, undefined, plan);
        }
        plan.record(account.xUserId, at, items.length);
        planned.push({ row, account, items, at, queued: entry.at === 'next_slot' });
      } catch (error) {
        problems.push(problemOf(row, error));
      }
    }
    problems.sort((a, b) => a.row - b.row);
    if (problems.length > 0 && !options.skipInvalid) {
      throw new PostRuleError(
        'import_invalid',
        `${problems.length} of ${rows.length} rows cannot be posted, so nothing was imported: the first is row ${problems[0]!.row} (${problems[0]!.message}). Fix the rows listed in details, or send skipInvalid to import the others.`,
        { rows: problems },
      );
    }
    const posts: Array<NewPost & { items: DraftItem[] }> = planned.map((p) => ({
      id: randomUUID(),
      userId,
      accountId: p.account.id,
      scheduledAt: p.at,
      ...(p.queued && { queueSlotAt: p.at }),
      now,
      items: p.items,
    }));
    const ids = posts.map((post) => post.id);
    try {
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < posts.length; i += IMPORT_INSERT_CHUNK) {
          const chunk = posts.slice(i, i + IMPORT_INSERT_CHUNK);
          await insertPosts(
            trx,
            chunk.map((post) => ({ post, username: null })),
          );
        }
        await appendEvents(trx, posts.map(scheduledEvent));
        await options.inTransaction?.(trx, { ids });
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ConflictError(
        'Another request took a queue slot this import chose, while it was being checked: send the import again.',
        'conflict',
      );
    }
    return { posts: await Promise.all(ids.map((id) => this.get(userId, id))), skipped: problems };
  }

  /** The user's post, or undefined (also when it is someone else's). */
  find(userId: string, id: string): Promise<Post | undefined> {
    return findPost(this.deps.db, userId, id);
  }

  /** The user's post, or 404 `post_not_found`. */
  async get(userId: string, id: string): Promise<Post> {
    const post = await findPost(this.deps.db, userId, id);
    if (!post) throw new NotFoundError('post', 'post_not_found');
    return post;
  }

  /** A page of the user's posts, newest first, and the position after its last one (null: no more). */
  async list(
    userId: string,
    query: { status?: PostStatus; accountId?: string; after?: ListPosition; limit: number },
  ): Promise<{ posts: Post[]; next: ListPosition | null }> {
    const posts = await listPosts(this.deps.db, userId, { ...query, limit: query.limit + 1 });
    const page = posts.slice(0, query.limit);
    const last = page.at(-1);
    return {
      posts: page,
      next: posts.length > query.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
    };
  }

  /**
   * Edits items and/or the time of a post that is still `scheduled`, with the same checks as create;
   * 409 `post_not_editable` once the dispatcher has claimed it (or it is final).
   */
  async update(
    userId: string,
    id: string,
    patch: { items?: PostInput['items'] | undefined; scheduledAt?: number | undefined },
  ): Promise<Post> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const current = await this.get(userId, id);
    if (current.status !== 'scheduled') throw notEditable(current.status);
    const account = await this.#postingAccount(userId, current.accountId);
    const scheduledAt =
      patch.scheduledAt === undefined ? undefined : this.#checkSchedule(patch.scheduledAt, now);
    const items =
      patch.items === undefined
        ? undefined
        : await this.#checkItems(
            userId,
            account,
            current.linkInReply ? moveLinksToReply(patch.items).items : patch.items,
          );
    const at = scheduledAt ?? current.scheduledAt;
    const budget = await this.#budgetCheck(account, Math.max(at, now), (items ?? current.items).length, id);
    const estimatedCostUsd = this.deps.spending.estimate((items ?? current.items).map((item) => item.text));
    const spending = await this.deps.spending.ofAccount(account.id);
    const spendGuards = spendGuard(spending, account, Math.max(at, now), estimatedCostUsd, id);
    const updated = await db.transaction().execute(async (trx) => {
      if (budget) await runBudgetCheck(trx, budget, id);
      for (const guard of spendGuards) await guard(trx);
      return updateScheduledPost(trx, userId, id, { scheduledAt, items, now, estimatedCostUsd });
    });
    if (!updated) {
      const status = await findPostStatus(db, userId, id);
      if (!status) throw new NotFoundError('post', 'post_not_found');
      throw notEditable(status);
    }
    return this.get(userId, id);
  }

  /**
   * `DELETE /posts/:id`. A `scheduled` post becomes `canceled` (nothing reaches X). A `published`,
   * `failed` or `needs_review` post has each of its published tweets deleted from X, last reply first;
   * each deleted item becomes `deleted` (its `tweetId` is kept) and the post then becomes `canceled`.
   * If X fails midway the post keeps its status and a retry deletes the rest. `publishing` → 409
   * `post_publishing`; an already `canceled` post → nothing to do.
   */
  async remove(userId: string, id: string): Promise<void> {
    const { db, clock } = this.deps;
    const post = await this.get(userId, id);
    if (post.status === 'scheduled') {
      const now = clock.now();
      if (!(await cancelScheduledPost(db, userId, id, now))) return this.remove(userId, id);
      if (
        post.queueSlotAt !== null &&
        post.queueSlotAt > now &&
        (await this.deps.schedules(post.accountId))?.pullForward
      ) {
        await pullQueueForward(db, post.accountId, post.queueSlotAt, now);
      }
      return;
    }
    if (post.status === 'publishing') {
      throw new ConflictError(
        'The post is being published right now; delete it once it is published.',
        'post_publishing',
        { status: post.status },
      );
    }
    if (!DELETABLE_STATUSES.includes(post.status)) return;
    const live = post.items.filter((item) => item.status === 'published' && item.tweetId !== null).reverse();
    if (live.length > 0) {
      const { deleteTweet } = this.deps;
      if (!deleteTweet)
        throw new ServiceUnavailableError('Deleting tweets from X is not available.', 'x_unavailable');
      const account = await findPostingAccount(db, userId, post.accountId);
      if (!account)
        throw new ReferenceNotFoundError('account_not_found', 'The post’s account is gone.', {
          field: 'accountId',
        });
      for (const item of live) {
        await deleteTweet(account, item.tweetId!);
        await markItemDeleted(db, post.id, item.position);
      }
    }
    await markPostDeleted(db, userId, id, clock.now());
  }

  /**
   * Waits until the post reaches a final status or `seconds` pass, re-reading the row (so it sees a
   * dispatcher in another process), then answers the post as it is. `signal` stops waiting early.
   */
  async waitForFinal(userId: string, id: string, seconds: number, signal?: AbortSignal): Promise<Post> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline && !signal?.aborted) {
      const status = await findPostStatus(this.deps.db, userId, id);
      if (!status || FINAL_STATUSES.includes(status)) break;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now()))),
      );
    }
    return this.get(userId, id);
  }

  /** The text limit for one of the user's accounts (280, or 25,000 for long posts); 404 if not theirs. */
  async textLimitFor(userId: string, accountId: string): Promise<number> {
    const account = await findPostingAccount(this.deps.db, userId, accountId);
    if (!account) throw await this.#accountNotFound(userId, accountId);
    return maxWeightedLengthFor(account.subscriptionType);
  }

  /**
   * Cuts `text` into tweets by the limit of `accountId` (one of the user's; default 280). 422 `empty_text`,
   * `invalid_characters`, or `text_too_complex` when measuring it takes longer than the text workers allow.
   */
  async split(
    userId: string,
    text: string,
    accountId?: string,
  ): Promise<{ items: SplitItem[]; limit: number }> {
    const limit = accountId ? await this.textLimitFor(userId, accountId) : STANDARD_MAX_WEIGHTED_LENGTH;
    if (text.trim() === '')
      throw new PostRuleError('empty_text', 'There is no text to split.', { field: 'text' });
    const result = await this.deps.text.run({ kind: 'split', text, limit });
    if (result.invalidCharacters) {
      throw new PostRuleError(
        'invalid_characters',
        'The text contains characters X does not accept (U+FFFE, U+FEFF or U+FFFF).',
        { field: 'text' },
      );
    }
    return { items: result.items, limit };
  }

  async #postingAccount(userId: string, accountId: string): Promise<PostingAccount> {
    const account = await findPostingAccount(this.deps.db, userId, accountId);
    if (!account) throw await this.#accountNotFound(userId, accountId);
    if (account.status !== 'active') {
      throw new PostRuleError(
        'account_not_active',
        account.status === 'needs_reconnect'
          ? `The account @${account.username} needs to be reconnected before it can post.`
          : `The account @${account.username} is disconnected.`,
        { field: 'accountId', status: account.status },
      );
    }
    return account;
  }

  /**
   * 404 `account_not_found` that says where account ids come from, and recognises a username passed as the id
   * (`@name` or `name`), naming the right id when the user has that account.
   */
  async #accountNotFound(userId: string, accountId: string): Promise<ReferenceNotFoundError> {
    const pointer = '`accountId` takes the id of one of your X accounts, listed by `GET /api/v1/accounts`';
    const name = /^@?([A-Za-z0-9_]{1,15})$/.exec(accountId)?.[1];
    const looksLikeName =
      name !== undefined && (accountId.startsWith('@') || !/^[0-9a-f-]{32,36}$/i.test(accountId));
    if (looksLikeName) {
      const id = await findAccountIdByUsername(this.deps.db, userId, name);
      const found = id
        ? ` Your account @${name} has the id "${id}".`
        : ` None of your X accounts is @${name}; connect it first (GET /auth/x/login?connect=1).`;
      return new ReferenceNotFoundError(
        'account_not_found',
        `"${accountId}" looks like an X username, not an account id: ${pointer}.${found}`,
        { field: 'accountId', username: name, ...(id && { accountId: id }) },
      );
    }
    return new ReferenceNotFoundError(
      'account_not_found',
      `None of your X accounts has the id "${accountId}": ${pointer}.`,
      { field: 'accountId' },
    );
  }

  #checkSchedule(scheduledAt: number | undefined, now: number): number {
    if (scheduledAt === undefined) return now;
    if (scheduledAt < now - SCHEDULE_SKEW_MS) {
      // Unix time in seconds read as milliseconds lands in January 1970.
      const seconds = scheduledAt < 100_000_000_000 && scheduledAt * 1000 > now - SCHEDULE_SKEW_MS;
      throw new PostRuleError(
        'scheduled_in_past',
        seconds
          ? `The scheduled time ${iso(scheduledAt)} is in the past: ${scheduledAt} looks like Unix time in seconds, but \`scheduledAt\` takes milliseconds (${scheduledAt * 1000}, ${iso(scheduledAt * 1000)}) or an ISO 8601 date-time. To post now, leave \`scheduledAt\` out.`
          : `The scheduled time ${iso(scheduledAt)} is in the past. To post now, leave \`scheduledAt\` out; to schedule, give a later time.`,
        { field: 'scheduledAt', scheduledAt, now },
      );
    }
    const horizonDays = this.deps.config.scheduleHorizonDays;
    const latest = now + horizonDays * 24 * 60 * 60 * 1000;
    if (scheduledAt > latest) {
      throw new PostRuleError(
        'scheduled_too_far',
        `Posts can be scheduled at most ${horizonDays} days ahead (until ${iso(latest)}).`,
        { field: 'scheduledAt', scheduledAt, latest, horizonDays },
      );
    }
    return Math.max(scheduledAt, now);
  }

  async #checkItems(
    userId: string,
    account: PostingAccount,
    items: PostInput['items'],
  ): Promise<DraftItem[]> {
    const ids = [...new Set(items.flatMap((item) => item.mediaIds ?? []))];
    const owned = await findMediaByIds(this.deps.db, userId, ids);
    const { maxThreadItems } = this.deps.config;
    const inRange = items.length > 0 && items.length <= maxThreadItems;
    const checks = inRange
      ? await this.deps.text.run({
          kind: 'check',
          texts: items.map(itemText),
          limit: maxWeightedLengthFor(account.subscriptionType),
        })
      : [];
    return validateItems(items, {
      maxItems: maxThreadItems,
      media: new Map(owned.map((m) => [m.id, { mediaType: m.mediaType }])),
      checks,
    });
  }

  /**
   * What X's budget allows for the given X users' tweets between `from` and `to`, over what is already sent or
   * planned: the `X_TIER` windows per X user and for the app, and X's last known headers. `record` adds tweets
   * planned meanwhile (an import, a queue), so later checks count them.
   */
  async #budgetPlan(
    xUserIds: readonly string[],
    from: number,
    to: number,
    excludePostId?: string,
    executor: Executor = this.deps.db,
    knownLimits?: KnownLimit[],
  ): Promise<BudgetPlan> {
    const { config } = this.deps;
    const db = executor;
    const windows = tierWindows(config.xTier);
    const longest = Math.max(0, ...windows.map((w) => w.durationMs));
    const known = new Map<string, KnownLimit[]>();
    for (const xUserId of new Set(xUserIds)) {
      // Inside a transaction the caller has read them already (on SQLite the one connection is the transaction's).
      const limits = knownLimits ?? (await this.deps.rateLimits.known(xUserId, CREATE_TWEET_ENDPOINT));
      known.set(
        xUserId,
        limits.filter((k) => k.resetAt > from),
      );
    }
    const earliest = Math.min(from - longest, ...[...known.values()].flat().map((k) => k.updatedAt));
    const latest = to + longest + SLOT_SEARCH_MS;
    const appEvents = await tweetTimes(db, { from: earliest, to: latest, excludePostId });
    const userEvents = new Map<string, number[]>();
    for (const xUserId of known.keys()) {
      userEvents.set(xUserId, await tweetTimes(db, { xUserId, from: earliest, to: latest, excludePostId }));
    }
    const constraints = (xUserId: string): BudgetConstraint[] => {
      const own = userEvents.get(xUserId) ?? [];
      return [
        ...windows.map((w) => ({
          kind: 'sliding' as const,
          ...w,
          events: w.scope === 'user' ? own : appEvents,
        })),
        ...(known.get(xUserId) ?? []).map((k) => ({
          kind: 'known' as const,
          scope: k.scope,
          remaining: k.remaining,
          resetAt: k.resetAt,
          updatedAt: k.updatedAt,
          events: k.scope === 'app' ? appEvents : own,
        })),
      ];
    };
    return {
      constraints,
      fits: (xUserId: string, at: number, tweets: number) =>
        constraints(xUserId).every((c) => fits(c, at, tweets)),
      record(xUserId: string, at: number, tweets: number) {
        for (const events of [appEvents, userEvents.get(xUserId)])
          if (events) insertSorted(events, at, tweets);
      },
    };
  }

  /**
   * The budget check of one create or edit, to run inside its transaction ({@link runBudgetCheck}): it locks the
   * (scope, day)s its windows touch (PostgreSQL), so of two requests racing for the last tweet of a window one wins,
   * then checks an upper bound of the tweets planned around `at` ({@link tweetCountsByPiece}: one indexed
   * statement, however long the queue); only when that bound does not fit does it read the exact times
   * ({@link #checkBudget}), to decide and to name the next free slot. Null when no budget applies.
   */
  async #budgetCheck(
    account: PostingAccount,
    at: number,
    tweets: number,
    excludePostId?: string,
  ): Promise<BudgetCheck | null> {
    const windows = tierWindows(this.deps.config.xTier);
    const allKnown = await this.deps.rateLimits.known(account.xUserId, CREATE_TWEET_ENDPOINT);
    const known = allKnown.filter((k) => k.resetAt > at);
    if (windows.length === 0 && known.length === 0) return null;
    const scopeOf = (scope: 'user' | 'app') => (scope === 'user' ? { xUserId: account.xUserId } : {});
    const limits: BudgetLimit[] = [
      ...windows.map((w) => {
        if (w.scope === 'app') {
          // The app's counts are hourly: a window containing `at` starts in (at - D, at] and covers at most D/H + 1
          // of the whole hours around it, so their largest run bounds it (within an hour's tweets).
          const from = floorTo(at - w.durationMs + 1, BUDGET_HOUR_MS);
          const to = floorTo(at + w.durationMs - 1, BUDGET_HOUR_MS) + BUDGET_HOUR_MS;
          const run = Math.ceil(w.durationMs / BUDGET_HOUR_MS) + 1;
          return { range: { from, to, pieceMs: BUDGET_HOUR_MS }, run, allowed: w.limit };
        }
        // One X user's posts: cut (at - D, at + D) into 2·PARTS equal pieces, and every window containing `at` lies
        // within PARTS + 2 consecutive ones, so their largest sum bounds it (within a few %, not 2×).
        const pieceMs = Math.ceil(w.durationMs / PARTS);
        const range = { ...scopeOf(w.scope), from: at - w.durationMs + 1, to: at + w.durationMs, pieceMs };
        return { range, run: PARTS + 2, allowed: w.limit };
      }),
      ...known.map((k) => {
        // X's own count runs from its last answer to the reset (for the app, widened to whole hours).
        const [from, to] =
          k.scope === 'app'
            ? [
                floorTo(k.updatedAt + 1, BUDGET_HOUR_MS),
                floorTo(k.resetAt - 1, BUDGET_HOUR_MS) + BUDGET_HOUR_MS,
              ]
            : [k.updatedAt + 1, k.resetAt];
        return {
          range: { ...scopeOf(k.scope), from, to, pieceMs: Math.max(1, to - from) },
          run: 1,
          allowed: k.remaining,
        };
      }),
    ];
    return {
      limits,
      tweets,
      exact: (trx) =>
        this.#checkBudget(account, at, tweets, this.deps.clock.now(), excludePostId, undefined, {
          trx,
          known: allKnown,
        }),
    };
  }

  /**
   * Refuses a schedule X's budget cannot honour (ARCHITECTURE "Know the budget"): the `X_TIER` windows
   * over what is already sent or planned for this X user and for the app, and X's last known headers, read tweet by
   * tweet. Creates and edits run it inside their locked transaction (`#budgetCheck`), so it is exact under races;
   * "add to queue" and imports plan against a snapshot (the dispatcher still honours X's headers when it publishes).
   */
  async #checkBudget(
    account: PostingAccount,
    at: number,
    tweets: number,
    now: number,
    excludePostId?: string,
    plan?: BudgetPlan,
    inside?: { trx: Executor; known: KnownLimit[] },
  ) {
    const { config } = this.deps;
    const budget =
      plan ?? (await this.#budgetPlan([account.xUserId], at, at, excludePostId, inside?.trx, inside?.known));
    const constraints = budget.constraints(account.xUserId);
    if (constraints.length === 0) return;
    const slot = findSlot(constraints, at, tweets, at + SLOT_SEARCH_MS);
    if (!slot.binding) return;
    const binding = slot.binding;
    const what =
      binding.kind === 'sliding'
        ? `the ${config.xTier} tier allows ${binding.limit} tweets per ${binding.durationMs >= 86_400_000 ? '24 hours' : '15 minutes'} ${binding.scope === 'user' ? 'per X account' : 'for the whole app'}`
        : `X's last answer left ${binding.remaining} tweets ${binding.scope === 'user' ? 'for this X account' : 'for the app'} until ${iso(binding.resetAt)}`;
    const count = tweets === 1 ? '1 tweet' : `${tweets} tweets`;
    throw new AppError(
      422,
      'rate_budget_exceeded',
      slot.at === null
        ? `X will not accept ${count} at ${iso(at)}: ${what}, and no slot is free in the following 7 days.`
        : `X will not accept ${count} at ${iso(at)}: ${what}. The next free slot is ${iso(slot.at)}.`,
      {
        details: {
          field: 'scheduledAt',
          nextSlotAt: slot.at,
          scope: binding.scope,
          ...(binding.kind === 'sliding'
            ? { limit: binding.limit, windowMs: binding.durationMs }
            : { remaining: binding.remaining, resetAt: binding.resetAt }),
          tweets,
          now,
        },
      },
    );
  }
}

/** The account's spending-cap check for a post, as a list of guards (empty when no cap applies). */
function spendGuard(
  spending: AccountSpending,
  account: PostingAccount,
  at: number,
  costUsd: number,
  excludePostId?: string,
): Guard[] {
  const guard = spending.capGuard({
    accountId: account.id,
    xUserId: account.xUserId,
    at,
    costUsd,
    ...(excludePostId !== undefined && { excludePostId }),
  });
  return guard ? [guard] : [];
}

function notEditable(status: PostStatus): ConflictError {
  return new ConflictError(
    `Only scheduled posts can be edited; this one is ${status}.`,
    'post_not_editable',
    { status },
  );
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** The `post.scheduled` event of a new post. */
function scheduledEvent(post: NewPost): NewEvent {
  return postEvent('post.scheduled', post, post.now, { status: 'scheduled', scheduledAt: post.scheduledAt });
}
