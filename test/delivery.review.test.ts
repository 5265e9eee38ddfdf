import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DeliveryHarness, startDeliveryHarness } from './delivery.harness.ts';
import {
  createHttpClient,
  describeEachDialect,
  makeApiKey,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

describeEachDialect('dispatcher: resume, needs_review, retry and resolve', (ctx) => {
  let h: DeliveryHarness;
  let service: TestService;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx, { xTimeoutMs: 300 });
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      emulatorUrl: h.emu.url,
      clock: h.clock,
      // A second process of the same deployment: the same secret key.
      env: { XGATE_SECRET_KEY: h.secretKey },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await h?.close();
  });

  function texts(xUserId: string): string[] {
    return h.emu.control
      .tweets()
      .filter((t) => t.authorId === xUserId)
      .map((t) => t.text);
  }

  async function apiFor(userId: string): Promise<TestHttpClient> {
    const { key } = await makeApiKey(service.app.deps, userId);
    return createHttpClient(service.url, { bearer: key });
  }

  /** What a worker that died right after committing item `position` as `sending` leaves behind. */
  async function leaveAsCrashed(postId: string, position: number): Promise<void> {
    const now = h.clock.now();
    await h.handle.db
      .updateTable('posts')
      .set({ status: 'publishing', lease_owner: 'dead-worker', lease_until: now - 1, attempts: 1 })
      .where('id', '=', postId)
      .execute();
    await h.handle.db
      .updateTable('post_items')
      .set({ status: 'sending', attempt_started_at: now })
      .where('post_id', '=', postId)
      .where('position', '=', position)
      .execute();
  }

  it('an item found sending after a crash, and on X, is recorded, not sent again', async () => {
    const account = await h.makeAccount();
    const id = await h.makePost(account, [{ text: 'Crash one' }, { text: 'Crash two' }]);
    await leaveAsCrashed(id, 0);
    // The dead worker's request did reach X.
    const token = await h.vault.getAccessToken(account.accountId);
    const onX = await h.x.forToken(token, { xUserId: account.xUserId }).createTweet({ text: 'Crash one' });
    await h.drain();
    const post = await h.post(id);
    expect(post.status).toBe('published');
    expect(post.items[0]!.tweetId).toBe(onX.id);
    expect(texts(account.xUserId)).toEqual(['Crash one', 'Crash two']);
  });

  it('an item found sending after a crash, and not on X, is sent once the settle time has passed', async () => {
    const account = await h.makeAccount();
    const id = await h.makePost(account, [{ text: 'Lost in flight' }]);
    await leaveAsCrashed(id, 0);
    await h.drain();
    const waiting = await h.post(id);
    expect(waiting.status).toBe('publishing');
    expect(waiting.errorCode).toBe('publish_outcome_pending');
    expect(texts(account.xUserId)).toEqual([]);
    h.clock.advance(10_000);
    await h.drain();
    expect((await h.post(id)).status).toBe('published');
    expect(texts(account.xUserId)).toEqual(['Lost in flight']);
  });

  it('needs_review when X cannot be read after a lost answer; retry then publishes exactly once', async () => {
    const account = await h.makeAccount();
    const api = await apiFor(account.userId);
    const id = await h.makePost(account, [{ text: 'Unknowable' }]);
    h.emu.control.setFaults([
      { method: 'POST', path: '/2/tweets', kind: 'timeout', count: 1 },
      { method: 'GET', path: '/2/users/:id/tweets', kind: 'error', status: 503 },
    ]);
    await h.drain();
    h.emu.control.clearFaults();
    const post = await h.post(id);
    expect(post.status).toBe('needs_review');
    expect(post.errorCode).toBe('publish_outcome_unknown');
    expect(post.errorMessage).toMatch(/cannot tell whether X published it/);
    expect(post.items[0]!.status).toBe('unknown');
    expect(texts(account.xUserId)).toEqual([]);

    const retried = await api.post(`/api/v1/posts/${id}/retry`, {});
    expect(retried.status).toBe(200);
    expect(retried.json.status).toBe('publishing');
    h.clock.advance(10_000);
    await h.drain();
    expect((await h.post(id)).status).toBe('published');
    expect(texts(account.xUserId)).toEqual(['Unknowable']);
  });

  it('resolve records the tweet the user found and continues with the rest of the thread', async () => {
    const account = await h.makeAccount();
    const api = await apiFor(account.userId);
    const id = await h.makePost(account, [{ text: 'Review first' }, { text: 'Review second' }]);
    h.emu.control.setFaults([
      { method: 'POST', path: '/2/tweets', kind: 'drop_after_commit', count: 1 },
      { method: 'GET', path: '/2/users/:id/tweets', kind: 'error', status: 503 },
    ]);
    await h.drain();
    h.emu.control.clearFaults();
    expect((await h.post(id)).status).toBe('needs_review');
    const onX = h.emu.control.tweets().find((t) => t.authorId === account.xUserId);
    expect(onX?.text).toBe('Review first');

    const bad = await api.post(`/api/v1/posts/${id}/resolve`, { itemTweetIds: { 0: 'not-an-id' } });
    expect(bad.status).toBe(400);
    const empty = await api.post(`/api/v1/posts/${id}/resolve`, {});
    expect(empty.status).toBe(400);
    const other = await apiFor((await h.makeAccount()).userId);
    expect((await other.post(`/api/v1/posts/${id}/resolve`, { status: 'failed' })).status).toBe(404);
    expect((await h.post(id)).status).toBe('needs_review');

    const resolved = await api.post(`/api/v1/posts/${id}/resolve`, { itemTweetIds: { 0: onX!.id } });
    expect(resolved.status).toBe(200);
    expect(resolved.json.items[0].tweetId).toBe(onX!.id);
    await h.drain();
    const post = await h.post(id);
    expect(post.status).toBe('published');
    expect(texts(account.xUserId)).toEqual(['Review first', 'Review second']);
    const tweets = h.emu.control.tweets().filter((t) => t.authorId === account.xUserId);
    expect(tweets[1]!.inReplyToTweetId).toBe(onX!.id);
  });

  it('answers 409 to retry or resolve of a post that is not failed or in review', async () => {
    const account = await h.makeAccount();
    const api = await apiFor(account.userId);
    const id = await h.makePost(account, [{ text: 'Fine as it is' }]);
    await h.drain();
    const retry = await api.post(`/api/v1/posts/${id}/retry`, {});
    expect(retry.status).toBe(409);
    expect(retry.json.error.code).toBe('post_not_retryable');
    const resolve = await api.post(`/api/v1/posts/${id}/resolve`, { status: 'failed' });
    expect(resolve.status).toBe(409);
    expect(resolve.json.error.code).toBe('post_not_in_review');
    expect((await h.post(id)).status).toBe('published');
  });

  it('resolve as failed gives the post up', async () => {
    const account = await h.makeAccount();
    const api = await apiFor(account.userId);
    const id = await h.makePost(account, [{ text: 'Give it up' }]);
    h.emu.control.setFaults([
      { method: 'POST', path: '/2/tweets', kind: 'error', status: 503, count: 1 },
      { method: 'GET', path: '/2/users/:id/tweets', kind: 'error', status: 503 },
    ]);
    await h.drain();
    h.emu.control.clearFaults();
    expect((await h.post(id)).status).toBe('needs_review');
    const resolved = await api.post(`/api/v1/posts/${id}/resolve`, { status: 'failed' });
    expect(resolved.status).toBe(200);
    expect(resolved.json.status).toBe('failed');
    expect(resolved.json.error.code).toBe('resolved_as_failed');
  });
});

describeEachDialect('dispatcher: graceful stop', (ctx) => {
  let h: DeliveryHarness;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx, { settings: { concurrency: 1 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets the send in flight finish and gives back the posts not started', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1)
      ids.push(await h.makePost(await h.makeAccount(), [{ text: `Stopping ${i}` }]));
    h.emu.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'latency', latencyMs: 400 }]);
    const controller = new AbortController();
    const running = h.dispatcher.runOnce(controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 150));
    controller.abort();
    await running;
    h.emu.control.clearFaults();
    const posts = await Promise.all(ids.map((id) => h.post(id)));
    expect(posts.filter((p) => p.status === 'published')).toHaveLength(1);
    expect(posts.filter((p) => p.status === 'scheduled')).toHaveLength(2);
    const held = await h.handle.db
      .selectFrom('posts')
      .select('id')
      .where('lease_owner', 'is not', null)
      .execute();
    expect(held).toEqual([]);
    expect(h.emu.control.tweets()).toHaveLength(1);
  });
});
