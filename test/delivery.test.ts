import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AdminTweet } from '../emulator/index.ts';
import { type DeliveryHarness, startDeliveryHarness } from './delivery.harness.ts';
import { mp4, padTo, png } from './fixtures/media.ts';
import { describeEachDialect } from './helpers/index.ts';

/** Tweets of one author in the ledger, oldest first. */
function ledgerOf(h: DeliveryHarness, xUserId: string): AdminTweet[] {
  return h.emu.control
    .tweets()
    .filter((t) => t.authorId === xUserId)
    .sort((a, b) => a.createdAt - b.createdAt || (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** Asserts the ledger holds each text exactly once, as a reply chain in order. */
function expectChain(h: DeliveryHarness, xUserId: string, texts: string[]): AdminTweet[] {
  const tweets = ledgerOf(h, xUserId);
  expect(tweets.map((t) => t.text)).toEqual(texts);
  tweets.forEach((tweet, i) => {
    expect(tweet.inReplyToTweetId).toBe(i === 0 ? null : tweets[i - 1]!.id);
  });
  return tweets;
}

describeEachDialect('dispatcher', (ctx) => {
  let h: DeliveryHarness;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx, { xTimeoutMs: 500 });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The events recorded about a post or an account, in log order. */
  async function eventsOf(subjectId: string) {
    const rows = await h.handle.db
      .selectFrom('events')
      .select(['type', 'data'])
      .where('subject_id', '=', subjectId)
      .orderBy('tx')
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({ type: row.type, data: JSON.parse(row.data) }));
  }

  it('publishes a single tweet and records its id', async () => {
    const account = await h.makeAccount();
    const id = await h.makePost(account, [{ text: 'Hello from xgate' }]);
    await h.drain();
    const post = await h.post(id);
    expect(post.status).toBe('published');
    const [tweet] = expectChain(h, account.xUserId, ['Hello from xgate']);
    expect(post.items[0]!.tweetId).toBe(tweet!.id);
    expect(await eventsOf(id)).toEqual([
      {
        type: 'post.published',
        data: {
          postId: id,
          accountId: account.accountId,
          status: 'published',
          items: [
            {
              position: 0,
              tweetId: tweet!.id,
              url: expect.stringMatching(/^https:\/\/x\.com\/.+\/status\/\d+$/),
            },
          ],
        },
      },
    ]);
  });

  it('publishes a 5-item thread with images as a reply chain, in order', async () => {
    const account = await h.makeAccount();
    const media = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => h.makeMedia(account.userId, 'image', 'image/png', png(), `picture ${i}`)),
    );
    const texts = [1, 2, 3, 4, 5].map((i) => `Thread part ${i} of 5`);
    const id = await h.makePost(
      account,
      texts.map((text, i) => ({ text, mediaIds: [media[i]!] })),
    );
    await h.drain();
    const post = await h.post(id);
    expect(post.status).toBe('published');
    const tweets = expectChain(h, account.xUserId, texts);
    expect(post.items.map((i) => i.tweetId)).toEqual(tweets.map((t) => t.id));
    for (const tweet of tweets) expect(tweet.mediaIds).toHaveLength(1);
  });

  it('uploads a video chunked, waits for processing, then posts it', async () => {
    const account = await h.makeAccount();
    const video = await h.makeMedia(account.userId, 'video', 'video/mp4', padTo(mp4(), 6 * 1024 * 1024));
    const id = await h.makePost(account, [{ text: 'A video', mediaIds: [video] }]);
    await h.drain();
    expect((await h.post(id)).status).toBe('published');
    const [tweet] = expectChain(h, account.xUserId, ['A video']);
    expect(tweet!.mediaIds).toHaveLength(1);
    const paths = h.emu.control.requests().map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('POST /2/media/upload/initialize');
    expect(paths.some((p) => p.startsWith('GET /2/media/upload'))).toBe(true);
  });

  it('publishes a scheduled post only when its time comes', async () => {
    const account = await h.makeAccount();
    const at = h.clock.now() + 3_600_000;
    const id = await h.makePost(account, [{ text: 'Later, please' }], at);
    await h.drain();
    expect((await h.post(id)).status).toBe('scheduled');
    expect(ledgerOf(h, account.xUserId)).toHaveLength(0);
    h.clock.advance(3_600_000);
    await h.drain();
    expect((await h.post(id)).status).toBe('published');
    expectChain(h, account.xUserId, ['Later, please']);
  });

  it('after a round with nothing due, pauses only until the next post is due (at most the poll interval)', async () => {
    const account = await h.makeAccount();
    const id = await h.makePost(account, [{ text: 'In four milliseconds' }], h.clock.now() + 4);
    await h.drain();
    expect((await h.post(id)).status).toBe('scheduled');
    // The harness polls every 10 ms; the worker's pause after this round is what is left until the post is due.
    expect(h.dispatcher.idleMs).toBe(4);
    h.clock.advance(4);
    await h.drain();
    expect((await h.post(id)).status).toBe('published');
    expect(h.dispatcher.idleMs).toBe(10);
  });

  it('fails a duplicate with a reason a person understands, without a second tweet', async () => {
    const account = await h.makeAccount();
    const first = await h.makePost(account, [{ text: 'Same words twice' }]);
    await h.drain();
    expect((await h.post(first)).status).toBe('published');
    const second = await h.makePost(account, [{ text: 'Other words' }, { text: 'Same words twice' }]);
    await h.drain();
    const post = await h.post(second);
    expect(post.status).toBe('failed');
    expect(post.errorCode).toBe('x_duplicate_content');
    expect(post.errorMessage).toContain('X refused item 2 as a duplicate of a recent post by this account.');
    expect(post.items.map((i) => i.status)).toEqual(['published', 'failed']);
    expect(ledgerOf(h, account.xUserId).filter((t) => t.text === 'Same words twice')).toHaveLength(1);
    expect(await eventsOf(second)).toEqual([
      {
        type: 'post.failed',
        data: expect.objectContaining({
          status: 'failed',
          error: expect.objectContaining({ code: 'x_duplicate_content' }),
        }),
      },
    ]);
  });

  for (const fault of [
    { kind: 'error', status: 503 },
    { kind: 'timeout' },
    { kind: 'drop_after_commit' },
  ] as const) {
    it(`a ${fault.kind} on POST /2/tweets never doubles an item`, async () => {
      const account = await h.makeAccount();
      const texts = ['Fault one', 'Fault two', 'Fault three'];
      // The second create of the thread hits the fault.
      const id = await h.makePost(
        account,
        texts.map((text) => ({ text })),
      );
      h.emu.control.setFaults([
        { method: 'POST', path: '/2/tweets', kind: 'latency', latencyMs: 1, count: 1 },
      ]);
      h.emu.control.setFaults([
        { method: 'POST', path: '/2/tweets', kind: 'latency', latencyMs: 1, count: 1 },
        { method: 'POST', path: '/2/tweets', ...fault, count: 1 },
      ]);
      await h.drain();
      h.emu.control.clearFaults();
      let post = await h.post(id);
      if (post.status !== 'published') {
        // The answer was lost and X shows nothing: after the settle time xgate checks again and sends.
        expect(post.items[1]!.status).toBe('unknown');
        h.clock.advance(10_000);
        await h.drain();
        post = await h.post(id);
      }
      expect(post.status).toBe('published');
      const tweets = expectChain(h, account.xUserId, texts);
      expect(post.items.map((i) => i.tweetId)).toEqual(tweets.map((t) => t.id));
    });
  }

  it('finds a Premium long post by its whole text after a drop_after_commit, and never doubles it', async () => {
    const account = await h.makeAccount(undefined, 'Premium');
    // 1,000 characters: X shows only the first ~280 in `text`, the whole text in `note_tweet.text`.
    const text = `${Array.from({ length: 100 }, (_, i) => `Line ${String(i).padStart(4, '0')}`).join(' ')}!`;
    expect(text).toHaveLength(1000);
    const id = await h.makePost(account, [{ text }]);
    const logged = h.emu.control.requests().length;
    h.emu.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'drop_after_commit', count: 1 }]);
    await h.drain();
    h.emu.control.clearFaults();
    let post = await h.post(id);
    if (post.status !== 'published') {
      h.clock.advance(10_000);
      await h.drain();
      post = await h.post(id);
    }
    expect(post.status).toBe('published');
    const [tweet] = expectChain(h, account.xUserId, [text]);
    expect(post.items[0]!.tweetId).toBe(tweet!.id);
    // Found by reading the timeline: the lost create was the only one sent.
    const since = h.emu.control.requests().slice(logged);
    expect(since.filter((r) => r.method === 'POST' && r.path === '/2/tweets')).toHaveLength(1);
    expect(since.some((r) => r.method === 'GET' && r.path === `/2/users/${account.xUserId}/tweets`)).toBe(
      true,
    );
  });

  it('waits for the rate-limit reset after a 429, then publishes', async () => {
    const account = await h.makeAccount();
    h.emu.control.setTier('free');
    try {
      // Free allows 17 creates per 24 h: the rest wait for the reset instead of failing.
      const texts = Array.from({ length: 20 }, (_, i) => `Budget post ${i}`);
      const ids: string[] = [];
      for (const text of texts) ids.push(await h.makePost(account, [{ text }]));
      await h.drain();
      const posts = await Promise.all(ids.map((id) => h.post(id)));
      const published = posts.filter((p) => p.status === 'published');
      const waiting = posts.filter((p) => p.status !== 'published');
      expect(waiting.length).toBeGreaterThan(0);
      for (const post of waiting) {
        expect(post.status).toBe('scheduled');
        expect(post.errorCode).toBe('rate_limited');
      }
      expect(ledgerOf(h, account.xUserId)).toHaveLength(published.length);
      const stored = await h.handle.db
        .selectFrom('rate_limits')
        .selectAll()
        .where('scope', '=', `user:${account.xUserId}`)
        .execute();
      expect(stored.some((row) => row.endpoint === 'POST /2/tweets')).toBe(true);
    } finally {
      h.clock.advance(24 * 3600 * 1000 + 60_000);
      h.emu.control.setTier('unlimited');
    }
    await h.drain();
    const tweets = ledgerOf(h, account.xUserId);
    expect(tweets).toHaveLength(20);
    expect(new Set(tweets.map((t) => t.text)).size).toBe(20);
  });

  it('refreshes once after a 401 and publishes', async () => {
    const account = await h.makeAccount();
    h.clock.advance(1000);
    h.emu.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'error', status: 401, count: 1 }]);
    const id = await h.makePost(account, [{ text: 'After a refresh' }]);
    await h.drain();
    expect((await h.post(id)).status).toBe('published');
    expectChain(h, account.xUserId, ['After a refresh']);
    const refreshed = await h.handle.db
      .selectFrom('account_events')
      .select('kind')
      .where('account_id', '=', account.accountId)
      .execute();
    expect(refreshed.map((e) => e.kind)).toContain('refreshed');
  });

  it('marks the account needs_reconnect when the refresh is refused', async () => {
    const account = await h.makeAccount();
    h.clock.advance(1000);
    h.emu.control.setFaults([
      { method: 'POST', path: '/2/tweets', kind: 'error', status: 401, count: 1 },
      { method: 'POST', path: '/2/oauth2/token', kind: 'error', status: 400, count: 1 },
    ]);
    const id = await h.makePost(account, [{ text: 'Never goes out' }]);
    await h.drain();
    h.emu.control.clearFaults();
    const post = await h.post(id);
    expect(post.status).toBe('failed');
    expect(post.errorCode).toBe('account_needs_reconnect');
    const row = await h.handle.db
      .selectFrom('accounts')
      .select('status')
      .where('id', '=', account.accountId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('needs_reconnect');
    expect(ledgerOf(h, account.xUserId)).toHaveLength(0);
    expect((await eventsOf(account.accountId)).map((e) => e.type)).toEqual(['account.needs_reconnect']);
  });

  it('counts published posts and lateness in the metrics', async () => {
    const text = await h.registry.metrics();
    expect(text).toMatch(/xgate_posts_published_total \d+/);
    expect(text).toContain('xgate_publish_lateness_seconds_bucket');
    expect(text).toContain('xgate_posts_failed_total{code="x_duplicate_content"} 1');
  });
});
