import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { insertPost } from '../src/posts/posts.repository.ts';
import { makeAccount } from './fixtures/accounts.ts';
import { deliveryDatabase } from './helpers/delivery-db.ts';
import { createTestClock, describeEachDialect, makeUser } from './helpers/index.ts';

describeEachDialect('delivery repository: what a claim takes', (ctx) => {
  const clock = createTestClock();
  const database = deliveryDatabase(ctx, clock);
  const { repoOf } = database;

  async function post(accountId: string, userId: string, dueIn: number): Promise<string> {
    const id = randomUUID();
    await insertPost(database.db, {
      id,
      userId,
      accountId,
      scheduledAt: clock.now() + dueIn,
      now: clock.now(),
      items: [{ text: `post ${id}`, mediaIds: [] }],
    });
    clock.advance(1);
    return id;
  }

  const holdBy = (id: string, owner: string, leaseUntil: number, nextAttemptAt: number) =>
    database.db
      .updateTable('posts')
      .set({
        status: 'publishing',
        lease_owner: owner,
        lease_until: leaseUntil,
        next_attempt_at: nextAttemptAt,
      })
      .where('id', '=', id)
      .execute();

  it('takes scheduled posts and expired leases in due order, skips busy accounts and future posts, up to its limit', async () => {
    const deps = { db: database.db, clock };
    const user = await makeUser(deps);
    const [a, b, c, d, e] = await Promise.all(Array.from({ length: 5 }, () => makeAccount(deps, user.id)));
    const a1 = await post(a!.id, user.id, -3000);
    const a2 = await post(a!.id, user.id, -2000);
    const b1 = await post(b!.id, user.id, -1000);
    // c's post was held by a worker that died: its lease ran out, and it comes due between a1 and a2.
    const c1 = await post(c!.id, user.id, -2500);
    await holdBy(c1, 'dead-worker', clock.now() - 1, clock.now() - 2500);
    // d has a post in flight at another worker: its next post, however early, waits.
    const d1 = await post(d!.id, user.id, -5000);
    await holdBy(d1, 'live-worker', clock.now() + 30_000, clock.now() - 5000);
    const d2 = await post(d!.id, user.id, -4000);
    const e1 = await post(e!.id, user.id, 60_000);

    const repo = repoOf('worker-claim');
    const first = await repo.claim(clock.now(), 3);
    expect(first.map((p) => p.id).sort()).toEqual([a1, a2, c1].sort());
    expect(first.find((p) => p.id === c1)).toMatchObject({ attempts: 1 });
    const second = await repo.claim(clock.now(), 10);
    expect(second.map((p) => p.id)).toEqual([b1]);
    const rows = await database.db
      .selectFrom('posts')
      .select(['id', 'status', 'lease_owner'])
      .where('id', 'in', [d1, d2, e1])
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.lease_owner]]))).toEqual({
      [d1]: ['publishing', 'live-worker'],
      [d2]: ['scheduled', null],
      [e1]: ['scheduled', null],
    });
  });

  it('returns each post with its account and its items as the publisher resumes them', async () => {
    const { id, user, account } = await database.duePost(
      [
        { text: 'first', mediaIds: [] },
        { text: 'second', mediaIds: ['m-1', 'm-2'] },
        { text: 'third', mediaIds: [] },
      ],
      'claimed_one',
    );
    // A worker published the first item, began the second and died.
    const startedAt = clock.now() - 5000;
    await database.db
      .updateTable('post_items')
      .set({ status: 'published', tweet_id: '123456789012345678', attempt_started_at: startedAt - 1000 })
      .where('post_id', '=', id)
      .where('position', '=', 0)
      .execute();
    await database.db
      .updateTable('post_items')
      .set({ status: 'sending', attempt_started_at: startedAt })
      .where('post_id', '=', id)
      .where('position', '=', 1)
      .execute();
    await holdBy(id, 'dead-worker', clock.now() - 1, clock.now() - 1);

    const [claimed] = (await repoOf('worker-resume').claim(clock.now(), 10)).filter((p) => p.id === id);
    expect(claimed).toMatchObject({
      id,
      userId: user.id,
      accountId: account.id,
      resumed: true,
      account: { xUserId: account.xUserId, username: 'claimed_one', status: 'active' },
      items: [
        {
          position: 0,
          text: 'first',
          mediaIds: [],
          status: 'published',
          tweetId: '123456789012345678',
          attemptStartedAt: startedAt - 1000,
        },
        {
          position: 1,
          text: 'second',
          mediaIds: ['m-1', 'm-2'],
          status: 'sending',
          tweetId: null,
          attemptStartedAt: startedAt,
        },
        {
          position: 2,
          text: 'third',
          mediaIds: [],
          status: 'pending',
          tweetId: null,
          attemptStartedAt: null,
        },
      ],
    });
  });
});
