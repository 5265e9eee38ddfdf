import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { heaviestRun } from '../src/posts/budget.ts';
import {
  type BudgetLimit,
  type BudgetRange,
  insertPost,
  insertPostsWithinBudget,
  tweetCountsByPiece,
} from '../src/posts/posts.repository.ts';
import { makeAccount } from './fixtures/accounts.ts';
import {
  budgetHoursDrift,
  describeEachDialect,
  makeApiClient,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const HOUR = 3_600_000;

// The app-wide budget is checked against hourly counts kept by triggers on `posts` (budget_hours): they must follow
// every write, and the check built on them must refuse exactly what the tweet-by-tweet count refuses.
describeEachDialect('the budget’s hourly counts', (ctx) => {
  let service: TestService;
  let client: TestHttpClient;
  let userId: string;
  const accounts: { id: string; xUserId: string }[] = [];

  beforeAll(async () => {
    // The free tier: 17 tweets per 24 hours per X account and for the whole app.
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      env: { X_TIER: 'free', XGATE_RATE_LIMIT_API_PER_MINUTE: '0' },
    });
    const made = await makeApiClient(service);
    client = made.client;
    userId = made.user.id;
    for (let i = 0; i < 3; i++) accounts.push(await makeAccount(service.app.deps, userId));
  });
  afterAll(async () => {
    await service?.stop();
  });

  const create = (
    account: number,
    at: number,
    texts: string[] = [`post at ${at}`],
    headers: Record<string, string> = {},
  ) =>
    client.post(
      '/api/v1/posts',
      { accountId: accounts[account]!.id, items: texts.map((text) => ({ text })), scheduledAt: at },
      { headers },
    );
  const drift = () => budgetHoursDrift(service.app.deps.db);

  it('follow creates, edits, cancels, failures and deleted accounts', async () => {
    const base = Math.ceil(Date.now() / HOUR) * HOUR + 30 * 24 * HOUR;
    const single = await create(0, base + 10 * 60_000);
    const thread = await create(1, base + 2 * HOUR, ['one', 'two', 'three']);
    const moved = await create(0, base + 3 * HOUR);
    const canceled = await create(2, base + 4 * HOUR);
    for (const answer of [single, thread, moved, canceled]) expect(answer.status).toBe(201);
    expect(await drift()).toEqual([]);

    // To another hour, then to another day; a thread gets shorter; a single post becomes a thread.
    expect(
      (await client.patch(`/api/v1/posts/${moved.json.id}`, { scheduledAt: base + 5 * HOUR })).status,
    ).toBe(200);
    expect(
      (await client.patch(`/api/v1/posts/${moved.json.id}`, { scheduledAt: base + 50 * HOUR })).status,
    ).toBe(200);
    expect(
      (await client.patch(`/api/v1/posts/${thread.json.id}`, { items: [{ text: 'only' }] })).status,
    ).toBe(200);
    expect(
      (await client.patch(`/api/v1/posts/${single.json.id}`, { items: [{ text: 'a' }, { text: 'b' }] }))
        .status,
    ).toBe(200);
    expect(await drift()).toEqual([]);

    expect((await client.delete(`/api/v1/posts/${canceled.json.id}`)).status).toBe(204);
    expect(await drift()).toEqual([]);

    // The dispatcher's own writes: claimed, then failed.
    const { db } = service.app.deps;
    await db.updateTable('posts').set({ status: 'publishing' }).where('id', '=', single.json.id).execute();
    expect(await drift()).toEqual([]);
    await db.updateTable('posts').set({ status: 'failed' }).where('id', '=', single.json.id).execute();
    expect(await drift()).toEqual([]);

    // An account removed with its posts (a cascade).
    await db.deleteFrom('accounts').where('id', '=', accounts[1]!.id).execute();
    expect(await drift()).toEqual([]);
    accounts.splice(1, 1, await makeAccount(service.app.deps, userId));
  });

  it('refuse the app’s 18th tweet in 24 hours from any account, with the next free slot, as before', async () => {
    const base = Math.ceil(Date.now() / HOUR) * HOUR + 60 * 24 * HOUR;
    // 17 tweets over two X accounts inside one day: the app's window is full, neither account's is.
    const ids: string[] = [];
    for (let n = 0; n < 17; n++) {
      const answer = await create(n % 2, base + n * 60_000);
      expect(answer.status).toBe(201);
      ids.push(answer.json.id);
    }
    // An edit inside the full window keeps its place (its own tweet is not counted twice).
    expect((await client.patch(`/api/v1/posts/${ids[0]}`, { scheduledAt: base + 30_000 })).status).toBe(200);

    const refused = await create(2, base + 20 * 60_000);
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('rate_budget_exceeded');
    const nextSlotAt = base + 30_000 + 24 * HOUR;
    expect(refused.json.error.details).toMatchObject({ scope: 'app', limit: 17, nextSlotAt });
    // A moment before the next slot is still refused; at it, accepted: the exact count decides near the limit.
    expect((await create(2, nextSlotAt - 1)).status).toBe(422);
    expect((await create(2, nextSlotAt)).status).toBe(201);
    expect(await drift()).toEqual([]);
  });
  it('store the creates sent at once together, and still refuse exactly at the limit', async () => {
    const { db } = service.app.deps;
    // Far from any limit: 12 creates on 12 different days, all at once. All are stored, each with its event; on
    // PostgreSQL creates that arrive while another is being stored share its statement (their events' `tx`).
    const far = Math.ceil(Date.now() / HOUR) * HOUR + 90 * 24 * HOUR;
    const spread = await Promise.all(
      Array.from({ length: 12 }, (_, n) => create(n % 3, far + n * 24 * HOUR)),
    );
    expect(spread.map((answer) => answer.status)).toEqual(new Array(12).fill(201));
    const events = await db
      .selectFrom('events')
      .select(['subject_id', 'tx'])
      .where('type', '=', 'post.scheduled')
      .where(
        'subject_id',
        'in',
        spread.map((answer) => answer.json.id as string),
      )
      .execute();
    expect(events).toHaveLength(12);
    if (ctx.dialect === 'postgres') expect(new Set(events.map((e) => e.tx)).size).toBeLessThan(12);

    // Near the limit: 30 creates at once into one day of the free tier. A batch that would pass the limit is
    // stored one post at a time instead, so exactly the app's 17 are accepted, and each of the others is told the
    // next free slot.
    const day = far + 200 * 24 * HOUR;
    const burst = await Promise.all(Array.from({ length: 30 }, (_, n) => create(n % 3, day + n * 60_000)));
    const accepted = burst.filter((answer) => answer.status === 201);
    const refused = burst.filter((answer) => answer.status === 422);
    expect(accepted).toHaveLength(17);
    expect(refused).toHaveLength(13);
    for (const answer of refused) {
      expect(answer.json.error.code).toBe('rate_budget_exceeded');
      expect(answer.json.error.details.nextSlotAt).toBeGreaterThan(day + 24 * HOUR - 1);
    }
    const stored = await db
      .selectFrom('posts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('next_attempt_at', '>=', day)
      .where('next_attempt_at', '<', day + 24 * HOUR)
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(17);
    expect(await drift()).toEqual([]);

    // The same with an Idempotency-Key on each request: its key is recorded in the create's transaction once,
    // also when the post is stored alone after all.
    const keyed = day + 2 * 24 * HOUR;
    const withKeys = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        create(n % 3, keyed + n * 60_000, undefined, { 'idempotency-key': `burst-${n}` }),
      ),
    );
    expect(withKeys.filter((answer) => answer.status === 201)).toHaveLength(17);
    expect(withKeys.filter((answer) => answer.status === 422)).toHaveLength(13);
  });

  // The batch's decision is made by the database (PostgreSQL, under the budget locks, in the statement that stores
  // the posts): it must be the one the application makes from the same counts, limit by limit.
  it.runIf(ctx.dialect === 'postgres')(
    'decide in the database exactly as in the application from the same counts',
    async () => {
      const { db } = service.app.deps;
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % n;
      };
      const start = Math.ceil(Date.now() / HOUR) * HOUR + 400 * 24 * HOUR;
      for (let n = 0; n < 150; n++) {
        const account = accounts[random(3)]!;
        await insertPost(db, {
          id: randomUUID(),
          userId,
          accountId: account.id,
          scheduledAt: start + random(48 * HOUR),
          now: Date.now(),
          items: Array.from({ length: 1 + random(3) }, (_, i) => ({
            text: `seeded ${n}.${i}`,
            mediaIds: [],
          })),
        });
      }
      const randomLimit = (): BudgetLimit => {
        const pieces = 1 + random(40);
        const app = random(3) === 0;
        const pieceMs = app ? HOUR * (1 + random(2)) : 60_000 * (1 + random(180));
        const from = app ? start + HOUR * random(24) : start + random(24 * HOUR);
        const range: BudgetRange = {
          ...(!app && { xUserId: accounts[random(3)]!.xUserId }),
          from,
          to: from + pieces * pieceMs,
          pieceMs,
        };
        return { range, run: 1 + random(pieces + 1), allowed: 0 };
      };
      let fits = 0;
      for (let trial = 0; trial < 120; trial++) {
        const limits = Array.from({ length: 1 + random(4) }, randomLimit);
        const counts = await tweetCountsByPiece(
          db,
          limits.map((limit) => limit.range),
        );
        for (const [i, limit] of limits.entries()) {
          limit.allowed = Math.max(0, heaviestRun(counts[i]!, limit.run) + random(5) - 2);
        }
        const expected = limits.every((limit, i) => heaviestRun(counts[i]!, limit.run) <= limit.allowed);
        const post = {
          id: randomUUID(),
          userId,
          accountId: accounts[0]!.id,
          scheduledAt: start + 900 * 24 * HOUR,
          now: Date.now(),
          items: [{ text: `trial ${trial}`, mediaIds: [] }],
        };
        const stored = await insertPostsWithinBudget(db, [{ post, username: null }], [], limits);
        expect({ trial, stored: stored !== null }).toEqual({ trial, stored: expected });
        if (stored) {
          fits += 1;
          await db.deleteFrom('post_items').where('post_id', '=', post.id).execute();
          await db.deleteFrom('posts').where('id', '=', post.id).execute();
        }
      }
      // Both answers were tried many times.
      expect(fits).toBeGreaterThan(20);
      expect(fits).toBeLessThan(100);
      expect(await drift()).toEqual([]);
    },
  );
});
