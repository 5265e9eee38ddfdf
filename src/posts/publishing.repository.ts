import {
  CompiledQuery,
  type Kysely,
  type QueryCreator,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import { batched } from '../db/batched.ts';
import { atomically, type GroupCommit } from '../db/group-commit.ts';
import type { Database, DialectName } from '../db/index.ts';
import type { PostItemStatus, PostItemsTable, PostStatus, PostsTable } from '../db/schema.ts';
import { appendEvents, type NewEvent, pgEventArrays, pgEventBatch } from '../events/index.ts';

/** One item of a claimed post, as the publisher needs it. */
export interface ClaimedItem {
  position: number;
  text: string;
  /** xgate media ids (the `media` table), uploaded to X at each attempt. */
  mediaIds: string[];
  status: PostItemStatus;
  tweetId: string | null;
  attemptStartedAt: number | null;
}

/** A post this worker holds a lease on, with its items (by position) and its account. */
export interface ClaimedPost {
  id: string;
  userId: string;
  accountId: string;
  scheduledAt: number;
  createdAt: number;
  /** Claims so far, this one included. */
  attempts: number;
  /** What the post's status was before this claim (`scheduled`, or `publishing` when resuming). */
  resumed: boolean;
  account: { xUserId: string; username: string; status: string } | null;
  items: ClaimedItem[];
}

/** How a post leaves this worker's hands without a final status: it is picked up again at `nextAttemptAt`. */
export interface Release {
  nextAttemptAt: number;
  /** Why it is waiting (shown on the post while it waits), or null to clear a previous reason. */
  errorCode: string | null;
  errorMessage: string | null;
  /** An item status change made by the same fenced write (e.g. an item back to `pending` after a 429). */
  item?: { position: number; status: PostItemStatus; errorMessage?: string | null };
}

/** A final status for a post, written together with the item that decided it. */
export interface Finish {
  status: Extract<PostStatus, 'failed' | 'needs_review'>;
  errorCode: string;
  errorMessage: string;
  item?: { position: number; status: PostItemStatus; errorMessage: string };
}

type Executor = Kysely<Database> | Transaction<Database>;

/** A claimed post's account and items as the claim returns them (JSON: parsed by pg, text from SQLite). */
type ClaimedAccountJson = NonNullable<ClaimedPost['account']>;
type ClaimedItemJson = Omit<ClaimedItem, 'mediaIds'> & { mediaIds: string };

function parsedJson<T>(value: string | T | null): T | null {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

/**
 * The publishing half of the posts state machine: every write the dispatcher makes to `posts` and `post_items`
 * (the posts domain owns both tables; delivery orchestrates through this class). After the claim, each write is *fenced*: it only happens while
 * `posts.lease_owner` is still this worker and the post is still `publishing`, and returns false otherwise
 * (the lease was lost to another worker, which now owns the post). A fenced write also renews the lease.
 *
 * On PostgreSQL a fenced write is one statement (a data-modifying CTE that updates and locks the post row
 * first); on SQLite, which has a single writer, the item update carries the fence as an EXISTS condition.
 */
export class DeliveryRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    /** This worker's identity in `lease_owner`. */
    readonly owner: string,
    private readonly leaseMs: number,
    /** The per-item writes (begin, commit) go through it: on SQLite, posts in flight share commits. */
    private readonly writes: GroupCommit,
  ) {}

  /** PostgreSQL: the attempts begun while the previous statement was in flight, as one statement. */
  readonly #begins = batched(async (inputs: readonly { postId: string; position: number; now: number }[]) => {
    const result = await this.db.executeQuery<{ post_id: string }>(
      CompiledQuery.raw(PG_BEGIN_SEND_BATCH, [
        inputs.map((i) => i.postId),
        inputs.map((i) => i.position),
        inputs.map((i) => i.now),
        this.owner,
        this.leaseMs,
      ]),
    );
    const begun = new Set(result.rows.map((row) => row.post_id));
    return inputs.map((i) => begun.has(i.postId));
  });

  /** PostgreSQL: the posts published (last item's tweet id, status, event) while the previous statement was in flight. */
  readonly #finals = batched(
    async (
      inputs: readonly { postId: string; position: number; tweetId: string; now: number; event?: NewEvent }[],
    ) => {
      const result = await this.db.executeQuery<{ post_id: string }>(
        CompiledQuery.raw(PG_COMMIT_FINAL_BATCH, [
          inputs.map((i) => i.postId),
          inputs.map((i) => i.position),
          inputs.map((i) => i.tweetId),
          inputs.map((i) => i.now),
          this.owner,
          ...pgEventArrays(inputs.map((i) => i.event)),
        ]),
      );
      const committed = new Set(result.rows.map((row) => row.post_id));
      return inputs.map((i) => committed.has(i.postId));
    },
  );

  /** When the next `scheduled` post comes due (epoch ms), or null when none is scheduled: one index lookup. */
  async nextDueAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('posts')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('status', '=', 'scheduled')
      .executeTakeFirst();
    return row?.at === null || row?.at === undefined ? null : Number(row.at);
  }

  /**
   * Claims up to `limit` due posts: `scheduled` ones whose `next_attempt_at` has come, and `publishing` ones
   * whose lease expired (a worker died, or the post waits to resume). Skips accounts that already have a post
   * being published under a live lease, so one account's posts go out one at a time and in order.
   */
  async claim(now: number, limit: number): Promise<ClaimedPost[]> {
    if (limit <= 0) return [];
    const pg = this.dialect === 'postgres';
    const json = pg
      ? { object: sql.raw('json_build_object'), array: sql.raw('json_agg') }
      : { object: sql.raw('json_object'), array: sql.raw('json_group_array') };
    // Each kind of due post in the order of an index (status, next_attempt_at, created_at), so a claim reads about
    // `limit` rows however many are due: one `or` over both kinds made PostgreSQL read and sort every due post.
    const due =
      (kind: 'scheduled' | 'expired') => (db: QueryCreator<Database & { busy: { account_id: string } }>) => {
        let query = db
          .selectFrom('posts')
          .select(['id', 'next_attempt_at', 'created_at'])
          .$call((q) =>
            kind === 'scheduled'
              ? q.where('status', '=', 'scheduled').where('next_attempt_at', '<=', now)
              : q.where('status', '=', 'publishing').where('lease_until', '<', now),
          )
          .where('account_id', 'not in', (eb) => eb.selectFrom('busy').select('account_id'))
          .orderBy('next_attempt_at')
          .orderBy('created_at')
          .limit(limit);
        if (pg) query = query.forUpdate().skipLocked();
        return query;
      };
    const rows = await this.db
      .with('busy', (db) =>
        db
          .selectFrom('posts')
          .select('account_id')
          .where('status', '=', 'publishing')
          .where('lease_until', '>=', now),
      )
      .with('scheduled', due('scheduled'))
      .with('expired', due('expired'))
      .updateTable('posts')
      .set((eb) => ({
        status: 'publishing',
        lease_owner: this.owner,
        lease_until: now + this.leaseMs,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where((eb) => {
        const chosen = eb
          .selectFrom((from) =>
            from
              .selectFrom('scheduled')
              .selectAll()
              .unionAll(from.selectFrom('expired').selectAll())
              .as('due'),
          )
          .select('due.id')
          .orderBy('due.next_attempt_at')
          .orderBy('due.created_at')
          .limit(limit);
        // PostgreSQL joins `in (…)` to a scan of the whole table; the ids as an array are looked up by key.
        return pg ? eb('id', '=', sql<string>`any(array(${chosen}))`) : eb('id', 'in', chosen);
      })
      .returning([
        'id',
        'user_id',
        'account_id',
        'scheduled_at',
        'created_at',
        'attempts',
        // What the publisher needs of the account and the items comes back with the claim: one round trip.
        sql<string | ClaimedAccountJson | null>`(select ${json.object}('xUserId', "a"."x_user_id",
          'username', "a"."username", 'status', "a"."status") from "accounts" as "a"
          where "a"."id" = "posts"."account_id")`.as('account'),
        sql<
          string | ClaimedItemJson[] | null
        >`(select ${json.array}(${json.object}('position', "i"."position",
          'text', "i"."text", 'mediaIds', "i"."media_ids", 'status', "i"."status", 'tweetId', "i"."tweet_id",
          'attemptStartedAt', "i"."attempt_started_at")) from "post_items" as "i"
          where "i"."post_id" = "posts"."id")`.as('items'),
      ])
      .execute();
    return rows
      .map((row): ClaimedPost => {
        const account = parsedJson(row.account);
        const items = (parsedJson(row.items) ?? [])
          .map((item): ClaimedItem => ({ ...item, mediaIds: JSON.parse(item.mediaIds) as string[] }))
          .sort((a, b) => a.position - b.position);
        return {
          id: row.id,
          userId: row.user_id,
          accountId: row.account_id,
          scheduledAt: row.scheduled_at,
          createdAt: row.created_at,
          attempts: row.attempts,
          resumed: items.some((i) => i.status !== 'pending'),
          account,
          items,
        };
      })
      .sort((a, b) => a.scheduledAt - b.scheduledAt || a.createdAt - b.createdAt);
  }

  /** Extends the lease of every post this worker holds. Returns how many it still holds. */
  async renewLeases(now: number): Promise<number> {
    const mine = this.db
      .updateTable('posts')
      .set({ lease_until: now + this.leaseMs })
      .where('lease_owner', '=', this.owner)
      .where('status', '=', 'publishing');
    // PostgreSQL: rows locked in id order, as the batched writes lock them, so the two never deadlock.
    const result = await (this.dialect === 'postgres'
      ? mine.where('id', 'in', (eb) =>
          eb
            .selectFrom('posts')
            .select('id')
            .where('lease_owner', '=', this.owner)
            .where('status', '=', 'publishing')
            .orderBy('id')
            .forUpdate(),
        )
      : mine
    ).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Commits the attempt of one item before it is sent: `sending` with `attempt_started_at`.
   * False when the lease is lost (then the item must not be sent).
   */
  beginSend(postId: string, position: number, now: number): Promise<boolean> {
    if (this.dialect === 'postgres') return this.#begins({ postId, position, now });
    return this.writes.run((db) =>
      this.hot(db, SQLITE_BEGIN_SEND, [now, postId, position, postId, this.owner]),
    );
  }

  /**
   * Records the tweet id of a published item. With `final`, the post becomes `published` in the same write.
   * With `next` (a thread's next item, about to be sent), that item's attempt is committed in the same write
   * (`sending`, `attempt_started_at = now`), so a thread costs one commit per item instead of two.
   * False when the lease is lost (then nothing is written and the next item must not be sent). A final commit
   * records `event` (`post.published`) in the same transaction as the post's new status.
   */
  commitPublished(
    postId: string,
    position: number,
    tweetId: string,
    now: number,
    final: boolean,
    next?: number,
    event?: NewEvent,
  ): Promise<boolean> {
    if (this.dialect === 'postgres' && final && next === undefined) {
      return this.#finals({ postId, position, tweetId, now, ...(event && { event }) });
    }
    return this.writes.run((db) =>
      this.#commitPublished(db, postId, position, tweetId, now, final, next, event),
    );
  }

  async #commitPublished(
    db: Executor,
    postId: string,
    position: number,
    tweetId: string,
    now: number,
    final: boolean,
    next: number | undefined,
    event: NewEvent | undefined,
  ): Promise<boolean> {
    if (next !== undefined) {
      const changed = await this.hotRows(
        db,
        this.dialect === 'postgres' ? PG_COMMIT_AND_BEGIN : SQLITE_COMMIT_AND_BEGIN,
        this.dialect === 'postgres'
          ? [now + this.leaseMs, now, postId, this.owner, tweetId, position, next]
          : [position, position, tweetId, position, now, postId, position, next, postId, this.owner],
      );
      return changed === 2;
    }
    if (this.dialect === 'postgres') {
      if (!final)
        return this.hot(db, PG_COMMIT, [now + this.leaseMs, now, postId, this.owner, tweetId, position]);
    }
    const commit = (on: Executor) =>
      this.hot(on, SQLITE_COMMIT, [tweetId, postId, position, postId, this.owner]);
    if (!final) return commit(db);
    // The item's tweet id, the post's new status and its event: one transaction, so one commit.
    return this.withEvent(
      db,
      event,
      async (trx) =>
        (await commit(trx)) && this.hot(trx, SQLITE_FINISH_PUBLISHED, [now, now, postId, this.owner]),
    );
  }

  /** Runs a fenced write and, when it happened and there is an event, records the event in the same transaction. */
  private async withEvent(
    db: Executor,
    event: NewEvent | undefined,
    write: (db: Executor) => Promise<boolean>,
  ): Promise<boolean> {
    if (!event) return write(db);
    return atomically(db, async (trx) => {
      const written = await write(trx);
      if (written) await appendEvents(trx, [event]);
      return written;
    });
  }

  /**
   * The two writes made for every item (begin and commit) as fixed SQL, sent without building and compiling a
   * query each time: they are most of the dispatcher's database work. Same fences as `fenced` below.
   */
  private async hot(db: Executor, query: string, parameters: unknown[]): Promise<boolean> {
    return (await this.hotRows(db, query, parameters)) > 0;
  }

  /** Rows a hot write changed (PostgreSQL: rows it returned). */
  private async hotRows(db: Executor, query: string, parameters: unknown[]): Promise<number> {
    const result = await db.executeQuery(CompiledQuery.raw(query, parameters));
    return this.dialect === 'postgres' ? result.rows.length : Number(result.numAffectedRows ?? 0);
  }

  /** Marks the post `published` (every item already was), with its `post.published` event. */
  finishPublished(postId: string, now: number, event: NewEvent): Promise<boolean> {
    return this.withEvent(this.db, event, (db) =>
      this.fenced(db, postId, now, publishedChanges(now), undefined, true),
    );
  }

  /** Sets one item's status without touching the post (e.g. `unknown` after an ambiguous answer). */
  setItemStatus(
    postId: string,
    position: number,
    status: PostItemStatus,
    now: number,
    errorMessage: string | null,
  ): Promise<boolean> {
    return this.fenced(
      this.db,
      postId,
      now,
      {},
      { position, changes: { status, error_message: errorMessage } },
    );
  }

  /**
   * Gives the post back without a final status: `scheduled` when nothing of it reached X yet, otherwise it stays
   * `publishing` with no owner and `lease_until = nextAttemptAt`, so that nobody edits a half-published thread
   * and any worker resumes it at that time.
   */
  release(postId: string, now: number, release: Release, startedOnX: boolean): Promise<boolean> {
    const status = startedOnX ? ('publishing' as const) : ('scheduled' as const);
    return this.fenced(
      this.db,
      postId,
      now,
      {
        status,
        lease_until: startedOnX ? release.nextAttemptAt : null,
        next_attempt_at: release.nextAttemptAt,
        error_code: release.errorCode,
        error_message: release.errorMessage,
      },
      release.item && {
        position: release.item.position,
        changes: {
          status: release.item.status,
          ...(release.item.errorMessage !== undefined && { error_message: release.item.errorMessage }),
        },
      },
      true,
    );
  }

  /** Ends the post as `failed` or `needs_review`, with the item that decided it and the event that says so. */
  finish(postId: string, now: number, finish: Finish, event: NewEvent): Promise<boolean> {
    return this.withEvent(this.db, event, (db) =>
      this.fenced(
        db,
        postId,
        now,
        { status: finish.status, error_code: finish.errorCode, error_message: finish.errorMessage },
        finish.item && {
          position: finish.item.position,
          changes: { status: finish.item.status, error_message: finish.item.errorMessage },
        },
        true,
      ),
    );
  }

  /**
   * The fence: updates the post row only while this worker holds it (renewing the lease, or letting go of it
   * with `letGo`), and the item change in the same atomic write. On PostgreSQL this is one statement whose CTE
   * updates, and so row-locks, the post first: a concurrent claim either waits for this write or sees its result.
   */
  private async fenced(
    db: Executor,
    postId: string,
    now: number,
    postChanges: PostChanges,
    item: ItemChange | undefined,
    letGo = false,
  ): Promise<boolean> {
    const changes: PostChanges = {
      lease_until: now + this.leaseMs,
      ...(letGo && { lease_owner: null, lease_until: null }),
      ...postChanges,
      updated_at: now,
    };
    const fence = (on: Executor) =>
      on
        .updateTable('posts')
        .set(changes)
        .where('id', '=', postId)
        .where('lease_owner', '=', this.owner)
        .where('status', '=', 'publishing');

    if (!item) {
      const result = await fence(db).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    }
    if (this.dialect === 'postgres') {
      const rows = await db
        .with('fence', (on) => fence(on as Executor).returning('id'))
        .updateTable('post_items')
        .set(item.changes)
        .where('post_id', 'in', (eb) => eb.selectFrom('fence').select('fence.id'))
        .where('position', '=', item.position)
        .returning('post_id')
        .execute();
      return rows.length > 0;
    }
    // SQLite has one writer and runs each statement atomically, so the fence can be a condition of the item
    // update itself (no transaction held across awaits). Item first: should the process die before the post
    // update, the item's outcome is already recorded and the next owner finishes the post from it.
    const updated = await db
      .updateTable('post_items')
      .set(item.changes)
      .where('post_id', '=', postId)
      .where('position', '=', item.position)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('posts')
            .select('posts.id')
            .where('posts.id', '=', postId)
            .where('posts.lease_owner', '=', this.owner)
            .where('posts.status', '=', 'publishing'),
        ),
      )
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    if (Object.keys(postChanges).length === 0 && !letGo) return true;
    const result = await fence(db).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

type PostChanges = Updateable<PostsTable>;

interface ItemChange {
  position: number;
  changes: Updateable<PostItemsTable>;
}

function publishedChanges(now: number): PostChanges {
  return { status: 'published', published_at: now, error_code: null, error_message: null };
}

const SQLITE_ITEM_FENCE = `exists (select 1 from "posts" where "id" = ? and "lease_owner" = ? and "status" = 'publishing')`;
const SQLITE_BEGIN_SEND = `update "post_items" set "status" = 'sending', "attempt_started_at" = ?, "error_message" = null
  where "post_id" = ? and "position" = ? and ${SQLITE_ITEM_FENCE}`;
const SQLITE_COMMIT = `update "post_items" set "status" = 'published', "tweet_id" = ?, "error_message" = null
  where "post_id" = ? and "position" = ? and ${SQLITE_ITEM_FENCE}`;
/** One item `published` with its tweet id and the next one `sending`, in one statement (both rows or neither). */
const SQLITE_COMMIT_AND_BEGIN = `update "post_items" set
  "status" = case when "position" = ? then 'published' else 'sending' end,
  "tweet_id" = case when "position" = ? then ? else "tweet_id" end,
  "attempt_started_at" = case when "position" = ? then "attempt_started_at" else ? end,
  "error_message" = null
  where "post_id" = ? and "position" in (?, ?) and ${SQLITE_ITEM_FENCE}`;
const SQLITE_FINISH_PUBLISHED = `update "posts" set "status" = 'published', "published_at" = ?, "error_code" = null,
  "error_message" = null, "lease_owner" = null, "lease_until" = null, "updated_at" = ?
  where "id" = ? and "lease_owner" = ? and "status" = 'publishing'`;

/** PostgreSQL: `$1` lease_until, `$2` updated_at, `$3` post id, `$4` owner. */
const PG_FENCE_RENEW = `with "fence" as (update "posts" set "lease_until" = $1, "updated_at" = $2
  where "id" = $3 and "lease_owner" = $4 and "status" = 'publishing' returning "id")`;
const PG_ITEM_PUBLISHED = `update "post_items" set "status" = 'published', "tweet_id" = $5, "error_message" = null
  where "post_id" in (select "id" from "fence") and "position" = $6 returning "post_id"`;
const PG_COMMIT = `${PG_FENCE_RENEW} ${PG_ITEM_PUBLISHED}`;
/** PostgreSQL: `$5` tweet id of item `$6`; item `$7` begins its attempt at `$2`. */
const PG_COMMIT_AND_BEGIN = `${PG_FENCE_RENEW} update "post_items" set
  "status" = case when "position" = $6 then 'published' else 'sending' end,
  "tweet_id" = case when "position" = $6 then $5 else "tweet_id" end,
  "attempt_started_at" = case when "position" = $6 then "attempt_started_at" else $2 end,
  "error_message" = null
  where "post_id" in (select "id" from "fence") and "position" in ($6, $7) returning "post_id"`;

/**
 * Attempts begun, many posts at once: `$1` post ids, `$2` positions, `$3` times (arrays, one entry per post), `$4`
 * owner, `$5` lease length. The posts are locked in id order first, so two batches never wait on each other for
 * them in a circle (PG_COMMIT_FINAL_BATCH likewise).
 */
const PG_BEGIN_SEND_BATCH = `with "input" as (
  select * from unnest($1::text[], $2::int[], $3::bigint[]) as "input"("post_id", "position", "now")
), "locked" as (
  select "id" from "posts" where "id" = any($1::text[]) and "lease_owner" = $4 and "status" = 'publishing'
  order by "id" for update
), "fence" as (
  update "posts" set "lease_until" = "input"."now" + $5, "updated_at" = "input"."now" from "input"
  where "posts"."id" = "input"."post_id" and "posts"."id" in (select "id" from "locked")
    and "posts"."lease_owner" = $4 and "posts"."status" = 'publishing'
  returning "posts"."id"
)
update "post_items" set "status" = 'sending', "attempt_started_at" = "input"."now", "error_message" = null
from "input" where "post_items"."post_id" = "input"."post_id" and "post_items"."position" = "input"."position"
  and "post_items"."post_id" in (select "id" from "fence")
returning "post_items"."post_id"`;
/**
 * Posts published, each with its last item's tweet id and its `post.published` event: `$1` post ids, `$2`
 * positions, `$3` tweet ids, `$4` times, `$5` owner, `$6`…`$11` the events' columns (pgEventParameters).
 */
const PG_COMMIT_FINAL_BATCH = `with "input" as (
  select * from unnest($1::text[], $2::int[], $3::text[], $4::bigint[], ${pgEventBatch.unnestArguments(6)})
    as "input"("post_id", "position", "tweet_id", "now", ${pgEventBatch.columns})
), "locked" as (
  select "id" from "posts" where "id" = any($1::text[]) and "lease_owner" = $5 and "status" = 'publishing'
  order by "id" for update
), "fence" as (
  update "posts" set "status" = 'published', "published_at" = "input"."now", "error_code" = null,
    "error_message" = null, "lease_owner" = null, "lease_until" = null, "updated_at" = "input"."now"
  from "input" where "posts"."id" = "input"."post_id" and "posts"."id" in (select "id" from "locked")
    and "posts"."lease_owner" = $5 and "posts"."status" = 'publishing'
  returning "posts"."id"
), ${pgEventBatch.cte('event', '"input"', '"post_id" in (select "id" from "fence")')}
update "post_items" set "status" = 'published', "tweet_id" = "input"."tweet_id", "error_message" = null
from "input" where "post_items"."post_id" = "input"."post_id" and "post_items"."position" = "input"."position"
  and "post_items"."post_id" in (select "id" from "fence")
returning "post_items"."post_id"`;
