import { expect, it } from 'vitest';
import { deliveryDatabase } from './helpers/delivery-db.ts';
import { createTestClock, describeEachDialect } from './helpers/index.ts';

describeEachDialect('delivery repository: one write for a thread item and the next attempt', (ctx) => {
  const clock = createTestClock();
  const database = deliveryDatabase(ctx, clock);
  const { repoOf } = database;

  /** A post due now with these items' texts, of a new user's account. */
  const duePost = (texts: readonly string[]) =>
    database.duePost(texts.map((text) => ({ text, mediaIds: [] })));

  /** A due 3-item thread, claimed by a repository owned by `owner`. */
  async function claimedThread(owner: string) {
    const { id } = await duePost(['one', 'two', 'three']);
    const repo = repoOf(owner);
    const claimed = await repo.claim(clock.now(), 10);
    expect(claimed.map((p) => p.id)).toContain(id);
    return { id, repo };
  }

  const itemsOf = (postId: string) =>
    database.db
      .selectFrom('post_items')
      .select(['position', 'status', 'tweet_id', 'attempt_started_at'])
      .where('post_id', '=', postId)
      .orderBy('position')
      .execute();

  it("records item 1's tweet id and begins item 2's attempt together", async () => {
    const { id, repo } = await claimedThread('worker-a');
    const started = clock.now();
    expect(await repo.beginSend(id, 0, started)).toBe(true);
    clock.advance(250);
    expect(await repo.commitPublished(id, 0, '1001', clock.now(), false, 1)).toBe(true);
    expect(await itemsOf(id)).toEqual([
      { position: 0, status: 'published', tweet_id: '1001', attempt_started_at: started },
      { position: 1, status: 'sending', tweet_id: null, attempt_started_at: clock.now() },
      { position: 2, status: 'pending', tweet_id: null, attempt_started_at: null },
    ]);
  });

  it('writes neither row once the lease belongs to another worker', async () => {
    const { id, repo } = await claimedThread('worker-b');
    expect(await repo.beginSend(id, 0, clock.now())).toBe(true);
    await database.db
      .updateTable('posts')
      .set({ lease_owner: 'someone-else' })
      .where('id', '=', id)
      .execute();
    expect(await repo.commitPublished(id, 0, '2001', clock.now(), false, 1)).toBe(false);
    const items = await itemsOf(id);
    expect(items.map((i) => [i.status, i.tweet_id])).toEqual([
      ['sending', null],
      ['pending', null],
      ['pending', null],
    ]);
  });

  it('begins and publishes several posts at the same moment together, each behind its own fence', async () => {
    const owner = 'worker-c';
    const repo = repoOf(owner);
    const due: Array<Awaited<ReturnType<typeof duePost>>> = [];
    for (const text of ['first', 'second', 'third']) due.push(await duePost([text]));
    const ids = due.map((p) => p.id);
    expect((await repo.claim(clock.now(), 50)).map((p) => p.id)).toEqual(expect.arrayContaining(ids));
    // The second post's lease is lost: only its writes are refused.
    await database.db
      .updateTable('posts')
      .set({ lease_owner: 'someone-else' })
      .where('id', '=', ids[1]!)
      .execute();
    const now = clock.now();
    expect(await Promise.all(ids.map((id) => repo.beginSend(id, 0, now)))).toEqual([true, false, true]);
    const event = (i: number) => ({
      type: 'post.published' as const,
      userId: due[i]!.user.id,
      at: now,
      data: { postId: ids[i]!, accountId: due[i]!.account.id, status: 'published' as const, items: [] },
    });
    expect(
      await Promise.all(
        ids.map((id, i) => repo.commitPublished(id, 0, `${9000 + i}`, now, true, undefined, event(i))),
      ),
    ).toEqual([true, false, true]);
    const posts = await database.db
      .selectFrom('posts')
      .innerJoin('post_items', 'post_items.post_id', 'posts.id')
      .select(['posts.id', 'posts.status', 'post_items.tweet_id', 'posts.lease_owner'])
      .where('posts.id', 'in', ids)
      .execute();
    expect(Object.fromEntries(posts.map((p) => [p.id, [p.status, p.tweet_id, p.lease_owner]]))).toEqual({
      [ids[0]!]: ['published', '9000', null],
      [ids[1]!]: ['publishing', null, 'someone-else'],
      [ids[2]!]: ['published', '9002', null],
    });
    const events = await database.db
      .selectFrom('events')
      .select('subject_id')
      .where('type', '=', 'post.published')
      .where('subject_id', 'in', ids)
      .execute();
    expect(events.map((e) => e.subject_id).sort()).toEqual([ids[0], ids[2]].sort());
  });
});
