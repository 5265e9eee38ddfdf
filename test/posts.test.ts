import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelScheduledPost, updateScheduledPost } from '../src/posts/posts.repository.ts';
import { makeAccount } from './fixtures/accounts.ts';
import { png } from './fixtures/media.ts';
import {
  countRows,
  createHttpClient,
  createTestClock,
  describeEachDialect,
  makeApiClient,
  makeUser,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2026-11-23T12:00:00Z');

async function upload(client: TestHttpClient, file: Buffer, name: string) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)]), name);
  return client.request('POST', '/api/v1/media', { body: form });
}

describeEachDialect('posts', (ctx) => {
  let service: TestService;
  const clock = createTestClock(START);
  let client: TestHttpClient;
  let userId: string;
  let account: { id: string; username: string };

  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: { X_TIER: 'ppu' },
    });
    ({
      client,
      user: { id: userId },
    } = await makeApiClient(service));
    account = await makeAccount(service.app.deps, userId, { username: 'alice' });
  });
  afterAll(() => service?.stop());

  const countPosts = () => countRows(service.app.deps.db, 'posts', { user_id: userId });

  it('creates a post for now and one scheduled, with items and their status', async () => {
    const now = await client.post('/api/v1/posts', { accountId: account.id, items: [{ text: 'Hello X' }] });
    expect(now.status).toBe(201);
    expect(now.json).toMatchObject({
      accountId: account.id,
      status: 'scheduled',
      scheduledAt: START,
      createdAt: START,
      publishedAt: null,
      items: [{ position: 0, text: 'Hello X', mediaIds: [], status: 'pending' }],
    });
    expect(now.json.items[0].tweetId).toBeUndefined();
    expect(now.json.error).toBeUndefined();

    const at = '2026-11-24T09:30:00Z';
    const later = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'One' }, { text: 'Two' }],
      scheduledAt: at,
    });
    expect(later.status).toBe(201);
    expect(later.json.scheduledAt).toBe(Date.parse(at));
    expect(later.json.items.map((i: { position: number }) => i.position)).toEqual([0, 1]);

    const fetched = await client.get(`/api/v1/posts/${later.json.id}`);
    expect(fetched.json).toEqual(later.json);
  });

  it('accepts a thread with an image, and refuses another user’s media with 404', async () => {
    const image = await upload(client, png(), 'photo.png');
    expect(image.status).toBe(201);
    const created = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [
        { text: 'Look', mediaIds: [image.json.id] },
        { text: '', mediaIds: [image.json.id] },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.json.items[1]).toMatchObject({ text: '', mediaIds: [image.json.id] });

    const other = await makeApiClient(service);
    const otherAccount = await makeAccount(service.app.deps, other.user.id);
    const before = await countPosts();
    const refused = await other.client.post('/api/v1/posts', {
      accountId: otherAccount.id,
      items: [{ text: 'mine?', mediaIds: [image.json.id] }],
    });
    expect(refused.status).toBe(404);
    expect(refused.json.error).toMatchObject({
      code: 'media_not_found',
      details: { item: 0, field: 'mediaIds', mediaId: image.json.id },
    });
    expect(await countPosts()).toBe(before);
  });

  describe('validation: every rule answers its code, names the item and field, and stores nothing', () => {
    const cases: Array<{
      name: string;
      body: () => Promise<Record<string, unknown>> | Record<string, unknown>;
      status: number;
      code: string;
      details?: Record<string, unknown>;
    }> = [
      {
        name: 'text too long for the account',
        body: () => ({ accountId: account.id, items: [{ text: 'ok' }, { text: 'a'.repeat(301) }] }),
        status: 422,
        code: 'text_too_long',
        details: { item: 1, field: 'text', weightedLength: 301, limit: 280 },
      },
      {
        name: 'weighted length counts CJK twice',
        body: () => ({ accountId: account.id, items: [{ text: '日'.repeat(141) }] }),
        status: 422,
        code: 'text_too_long',
        details: { item: 0, field: 'text', weightedLength: 282, limit: 280 },
      },
      {
        name: 'characters X refuses',
        body: () => ({ accountId: account.id, items: [{ text: 'bad \uFFFE' }] }),
        status: 422,
        code: 'invalid_characters',
        details: { item: 0, field: 'text' },
      },
      {
        name: 'an item with neither text nor media',
        body: () => ({ accountId: account.id, items: [{ text: 'first' }, { text: '   ' }] }),
        status: 422,
        code: 'empty_item',
        details: { item: 1, field: 'text' },
      },
      {
        name: 'no items',
        body: () => ({ accountId: account.id, items: [] }),
        status: 422,
        code: 'thread_empty',
        details: { field: 'items' },
      },
      {
        name: 'more items than allowed',
        body: () => ({
          accountId: account.id,
          items: Array.from({ length: 26 }, (_, i) => ({ text: `t${i}` })),
        }),
        status: 422,
        code: 'thread_too_long',
        details: { field: 'items', count: 26, limit: 25 },
      },
      {
        name: 'five images in one item',
        body: async () => {
          const ids = [];
          for (let i = 0; i < 5; i++) ids.push((await upload(client, png(), `p${i}.png`)).json.id);
          return { accountId: account.id, items: [{ text: 'many', mediaIds: ids }] };
        },
        status: 422,
        code: 'too_many_media',
        details: { item: 0, field: 'mediaIds', count: 5, limit: 4 },
      },
      {
        name: 'a GIF mixed with an image',
        body: async () => {
          const { gif } = await import('./fixtures/media.ts');
          const animated = (await upload(client, gif(3), 'a.gif')).json.id;
          const still = (await upload(client, png(), 'b.png')).json.id;
          return {
            accountId: account.id,
            items: [{ text: 'x' }, { text: 'mix', mediaIds: [still, animated] }],
          };
        },
        status: 422,
        code: 'mixed_media',
        details: { item: 1, field: 'mediaIds' },
      },
      {
        name: 'the same media twice',
        body: async () => {
          const id = (await upload(client, png(), 'p.png')).json.id;
          return { accountId: account.id, items: [{ text: 'twice', mediaIds: [id, id] }] };
        },
        status: 422,
        code: 'duplicate_media',
        details: { item: 0, field: 'mediaIds' },
      },
      {
        name: 'unknown media',
        body: () => ({ accountId: account.id, items: [{ text: 'x', mediaIds: ['nope'] }] }),
        status: 404,
        code: 'media_not_found',
        details: { item: 0, field: 'mediaIds', mediaId: 'nope' },
      },
      {
        name: 'another user’s account',
        body: async () => {
          const stranger = await makeUser(service.app.deps);
          return { accountId: (await makeAccount(service.app.deps, stranger.id)).id, items: [{ text: 'x' }] };
        },
        status: 404,
        code: 'account_not_found',
        details: { field: 'accountId' },
      },
      {
        name: 'an account that needs reconnecting',
        body: async () => ({
          accountId: (await makeAccount(service.app.deps, userId, { status: 'needs_reconnect' })).id,
          items: [{ text: 'x' }],
        }),
        status: 422,
        code: 'account_not_active',
        details: { field: 'accountId', status: 'needs_reconnect' },
      },
      {
        name: 'a time in the past',
        body: () => ({ accountId: account.id, items: [{ text: 'x' }], scheduledAt: START - 60_000 }),
        status: 422,
        code: 'scheduled_in_past',
        details: { field: 'scheduledAt' },
      },
      {
        name: 'a time beyond the horizon',
        body: () => ({ accountId: account.id, items: [{ text: 'x' }], scheduledAt: START + 366 * DAY }),
        status: 422,
        code: 'scheduled_too_far',
        details: { field: 'scheduledAt', horizonDays: 365 },
      },
      {
        name: 'a malformed time',
        body: () => ({ accountId: account.id, items: [{ text: 'x' }], scheduledAt: 'tomorrow' }),
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'an unknown field',
        body: () => ({ accountId: account.id, items: [{ text: 'x', poll: {} }] }),
        status: 400,
        code: 'invalid_request',
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const body = await c.body();
        const before = await countPosts();
        const answer = await client.post('/api/v1/posts', body);
        expect(answer.status).toBe(c.status);
        expect(answer.json.error.code).toBe(c.code);
        expect(answer.json.error.message).toMatch(/\.$/);
        if (c.details) expect(answer.json.error.details).toMatchObject(c.details);
        expect(await countPosts()).toBe(before);
      });
    }

    it('allows a few seconds of clock skew and 25,000 characters for subscribed accounts', async () => {
      const premium = await makeAccount(service.app.deps, userId, { subscriptionType: 'Premium' });
      const skewed = await client.post('/api/v1/posts', {
        accountId: premium.id,
        items: [{ text: 'a'.repeat(5000) }],
        scheduledAt: START - 10_000,
      });
      expect(skewed.status).toBe(201);
      expect(skewed.json.scheduledAt).toBe(START);
    });

    it('validates ?wait', async () => {
      for (const wait of ['61', '-1', 'abc', '1.5']) {
        const answer = await client.post(`/api/v1/posts?wait=${wait}`, {
          accountId: account.id,
          items: [{ text: 'w' }],
        });
        expect(answer.status).toBe(400);
        expect(answer.json.error.code).toBe('invalid_request');
        expect(answer.json.error.details[0]).toMatchObject({ in: 'querystring', field: 'wait' });
      }
    });

    it('?wait answers when the time is up with the post as it is', async () => {
      const answer = await client.post('/api/v1/posts?wait=1', {
        accountId: account.id,
        items: [{ text: 'waiting' }],
        scheduledAt: START + HOUR,
      });
      expect(answer.status).toBe(201);
      expect(answer.json.status).toBe('scheduled');
    });
  });

  it('lists with filters and an opaque cursor, newest first, without gaps or repeats', async () => {
    const { client: lister, user } = await makeApiClient(service);
    const own = await makeAccount(service.app.deps, user.id);
    const second = await makeAccount(service.app.deps, user.id);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(i % 3 === 0 ? 0 : 1000); // some share created_at: the id breaks the tie
      const created = await lister.post('/api/v1/posts', {
        accountId: i < 5 ? own.id : second.id,
        items: [{ text: `post ${i}` }],
        scheduledAt: clock.now() + HOUR,
      });
      ids.push(created.json.id);
    }
    await lister.delete(`/api/v1/posts/${ids[0]}`);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        json: { items: { id: string; createdAt: number }[]; nextCursor: string | null };
      } = await lister.get(`/api/v1/posts?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.json.items.map((p) => p.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(7);
    expect(seen.sort()).toEqual([...ids].sort());

    const all = (await lister.get('/api/v1/posts?limit=100')).json.items as {
      createdAt: number;
      id: string;
    }[];
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1]!;
      const b = all[i]!;
      expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)).toBe(true);
    }

    const canceled = await lister.get('/api/v1/posts?status=canceled');
    expect(canceled.json.items.map((p: { id: string }) => p.id)).toEqual([ids[0]]);
    const bySecond = await lister.get(`/api/v1/posts?accountId=${second.id}`);
    expect(bySecond.json.items).toHaveLength(2);

    expect((await lister.get('/api/v1/posts?cursor=garbage')).json.error.code).toBe('invalid_cursor');
    expect((await lister.get('/api/v1/posts?status=nope')).status).toBe(400);
    expect((await lister.get('/api/v1/posts?limit=0')).status).toBe(400);
  });

  it('edits a scheduled post, and refuses once it is not scheduled (409)', async () => {
    const created = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'draft' }],
      scheduledAt: START + 2 * HOUR,
    });
    const id = created.json.id;
    const patched = await client.patch(`/api/v1/posts/${id}`, {
      items: [{ text: 'final' }, { text: 'and a reply' }],
      scheduledAt: START + 3 * HOUR,
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      scheduledAt: START + 3 * HOUR,
      items: [{ text: 'final' }, { text: 'and a reply' }],
    });

    const tooLong = await client.patch(`/api/v1/posts/${id}`, { items: [{ text: 'b'.repeat(281) }] });
    expect(tooLong.status).toBe(422);
    expect(tooLong.json.error.details).toMatchObject({ item: 0, field: 'text' });
    expect((await client.get(`/api/v1/posts/${id}`)).json.items[0].text).toBe('final');

    // As the dispatcher does when it claims the post:
    await service.app.deps.db
      .updateTable('posts')
      .set({ status: 'publishing' })
      .where('id', '=', id)
      .execute();
    const late = await client.patch(`/api/v1/posts/${id}`, { items: [{ text: 'too late' }] });
    expect(late.status).toBe(409);
    expect(late.json.error).toMatchObject({ code: 'post_not_editable', details: { status: 'publishing' } });
    const deleting = await client.delete(`/api/v1/posts/${id}`);
    expect(deleting.status).toBe(409);
    expect(deleting.json.error.code).toBe('post_publishing');
    expect((await client.get(`/api/v1/posts/${id}`)).json.items[0].text).toBe('final');
  });

  it('edits and cancels only in one statement conditional on "scheduled" (a claimed post is never touched)', async () => {
    const created = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'claimed meanwhile' }],
      scheduledAt: START + HOUR,
    });
    const id = created.json.id;
    const db = service.app.deps.db;
    await db.updateTable('posts').set({ status: 'publishing' }).where('id', '=', id).execute();
    const edited = await db
      .transaction()
      .execute((trx) =>
        updateScheduledPost(trx, userId, id, { items: [{ text: 'late', mediaIds: [] }], now: START }),
      );
    expect(edited).toBe(false);
    expect(await cancelScheduledPost(db, userId, id, START)).toBe(false);
    const row = await db.selectFrom('post_items').select('text').where('post_id', '=', id).execute();
    expect(row).toEqual([{ text: 'claimed meanwhile' }]);
    expect((await client.get(`/api/v1/posts/${id}`)).json.status).toBe('publishing');
  });

  it('cancels a scheduled post; another user gets 404 for it', async () => {
    const created = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'cancel me' }],
      scheduledAt: START + HOUR,
    });
    const id = created.json.id;
    const other = await makeApiClient(service);
    for (const answer of [
      await other.client.get(`/api/v1/posts/${id}`),
      await other.client.patch(`/api/v1/posts/${id}`, { items: [{ text: 'hijack' }] }),
      await other.client.delete(`/api/v1/posts/${id}`),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.json.error.code).toBe('post_not_found');
    }
    expect((await client.delete(`/api/v1/posts/${id}`)).status).toBe(204);
    expect((await client.get(`/api/v1/posts/${id}`)).json.status).toBe('canceled');
    expect((await client.patch(`/api/v1/posts/${id}`, { scheduledAt: START + 2 * HOUR })).status).toBe(409);
  });

  it('exposes the queue depth in /metrics', async () => {
    const scheduled = await countRows(service.app.deps.db, 'posts', { status: 'scheduled' });
    const metrics = await createHttpClient(service.url).get('/metrics');
    expect(metrics.text).toMatch(new RegExp(`^xgate_posts_scheduled ${scheduled}$`, 'm'));
  });

  it('splits long text into valid tweets', async () => {
    const sentence = 'This sentence is here to make the text long enough to need a thread. ';
    const text = `${sentence.repeat(12)}See https://example.com/a/really/long/path/that/must/not/be/cut/anywhere ok`;
    const answer = await client.post('/api/v1/threads/split', { text });
    expect(answer.status).toBe(200);
    expect(answer.json.limit).toBe(280);
    expect(answer.json.items.length).toBeGreaterThan(2);
    for (const item of answer.json.items) expect(item.weightedLength).toBeLessThanOrEqual(280);
    expect(answer.json.items.map((i: { text: string }) => i.text).join(' ')).toBe(text.trim());
    expect((await client.post('/api/v1/threads/split', { text: ' ' })).json.error.code).toBe('empty_text');
  });
});

describeEachDialect('posting budget', (ctx) => {
  let service: TestService;
  const clock = createTestClock(START);
  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: { X_TIER: 'free' },
    });
  });
  afterAll(() => service?.stop());

  it('refuses the 18th post in 24 hours on the free tier and says when the next slot is', async () => {
    const { client, user } = await makeApiClient(service);
    const account = await makeAccount(service.app.deps, user.id);
    for (let i = 0; i < 17; i++) {
      const created = await client.post('/api/v1/posts', {
        accountId: account.id,
        items: [{ text: `post ${i}` }],
        scheduledAt: START + HOUR + i * 60_000,
      });
      expect(created.status).toBe(201);
    }
    const refused = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'one too many' }],
      scheduledAt: START + 12 * HOUR,
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('rate_budget_exceeded');
    const nextSlotAt = START + HOUR + DAY;
    expect(refused.json.error.details).toMatchObject({ nextSlotAt, limit: 17, windowMs: DAY });
    expect(refused.json.error.message).toContain(new Date(nextSlotAt).toISOString());

    const atSlot = await client.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'in the next slot' }],
      scheduledAt: nextSlotAt,
    });
    expect(atSlot.status).toBe(201);

    // Moving a post by PATCH is checked the same way (its own tweets are not counted twice).
    const first = (await client.get('/api/v1/posts?limit=100')).json.items.find(
      (p: { items: { text: string }[] }) => p.items[0]?.text === 'post 0',
    );
    const moved = await client.patch(`/api/v1/posts/${first.id}`, { scheduledAt: START + HOUR / 2 });
    expect(moved.status).toBe(200);
    const crowd = await client.patch(`/api/v1/posts/${first.id}`, { items: [{ text: 'a' }, { text: 'b' }] });
    expect(crowd.status).toBe(422);
    expect(crowd.json.error.code).toBe('rate_budget_exceeded');
  });
});
