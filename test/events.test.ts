import { afterAll, beforeAll, expect, it } from 'vitest';
import { markNeedsReconnect } from '../src/accounts/accounts.repository.ts';
import { eventsPurgeLoop } from '../src/events/index.ts';
import { makeAccount } from './fixtures/accounts.ts';
import {
  createTestClock,
  describeEachDialect,
  makeApiClient,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const HOUR = 3_600_000;

describeEachDialect('the event log: GET /api/v1/events', (ctx) => {
  const clock = createTestClock();
  let service: TestService;
  let client: TestHttpClient;
  let other: TestHttpClient;
  let accountId: string;
  let brokenId: string;

  beforeAll(async () => {
    service = await startTestService({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir, clock });
    const made = await makeApiClient(service);
    client = made.client;
    accountId = (await makeAccount(service.app.deps, made.user.id, { username: 'desk' })).id;
    brokenId = (await makeAccount(service.app.deps, made.user.id, { username: 'broken' })).id;
    other = (await makeApiClient(service)).client;
  });
  afterAll(() => service?.stop());

  const schedule = (text: string) =>
    client.post('/api/v1/posts', { accountId, items: [{ text }], scheduledAt: clock.now() + HOUR });

  it('lists the user’s events in order, written with each change, and pages by cursor', async () => {
    const first = await schedule('one');
    const second = await schedule('two');
    expect((await client.delete(`/api/v1/posts/${first.json.id}`)).status).toBe(204);
    await markNeedsReconnect(service.app.deps.db, brokenId, 'X refused the refresh token.', clock.now());
    // Only an active account becomes needs_reconnect: a second call records nothing.
    await markNeedsReconnect(service.app.deps.db, brokenId, 'again', clock.now());

    const all = await client.get('/api/v1/events');
    expect(all.status).toBe(200);
    expect(
      all.json.items.map((e: { type: string; data: { postId?: string } }) => [e.type, e.data.postId]),
    ).toEqual([
      ['post.scheduled', first.json.id],
      ['post.scheduled', second.json.id],
      ['post.canceled', first.json.id],
      ['account.needs_reconnect', undefined],
    ]);
    expect(all.json.items[0]).toMatchObject({
      id: expect.any(String),
      at: clock.now(),
      data: { postId: first.json.id, accountId, status: 'scheduled', scheduledAt: clock.now() + HOUR },
    });
    expect(all.json.items[3].data).toEqual({
      accountId: brokenId,
      username: 'broken',
      reason: 'X refused the refresh token.',
    });

    // Paging: two at a time, then nothing new, and the cursor stays where it was.
    const page1 = await client.get('/api/v1/events?limit=2');
    const page2 = await client.get(`/api/v1/events?limit=2&after=${page1.json.nextCursor}`);
    const page3 = await client.get(`/api/v1/events?limit=2&after=${page2.json.nextCursor}`);
    expect([...page1.json.items, ...page2.json.items].map((e: { id: string }) => e.id)).toEqual(
      all.json.items.map((e: { id: string }) => e.id),
    );
    expect(page3.json).toEqual({ items: [], nextCursor: page2.json.nextCursor });

    // Only new events after a cursor.
    const third = await schedule('three');
    const newer = await client.get(`/api/v1/events?after=${page2.json.nextCursor}`);
    expect(newer.json.items.map((e: { data: { postId: string } }) => e.data.postId)).toEqual([third.json.id]);
  });

  it('filters by type, and never shows another user’s events', async () => {
    const canceled = await client.get('/api/v1/events?types=post.canceled,account.needs_reconnect');
    expect(canceled.json.items.map((e: { type: string }) => e.type)).toEqual([
      'post.canceled',
      'account.needs_reconnect',
    ]);
    const theirs = await other.get('/api/v1/events');
    expect(theirs.json).toEqual({ items: [], nextCursor: null });
  });

  it('refuses unknown types and cursors it did not give out', async () => {
    const badType = await client.get('/api/v1/events?types=post.published,post.exploded');
    expect([badType.status, badType.json.error.code]).toEqual([400, 'invalid_request']);
    expect(badType.json.error.message).toMatch(/"post.exploded", which is not an event type/);
    for (const after of ['abc', '1.2.3', '-1.5', '99999999999999999999.1']) {
      const bad = await client.get(`/api/v1/events?after=${after}`);
      expect([after, bad.status, bad.json.error.code]).toEqual([after, 400, 'invalid_cursor']);
    }
  });

  it('?wait holds an empty answer until an event arrives', async () => {
    const head = (await client.get('/api/v1/events')).json.nextCursor;
    const waiting = client.get(`/api/v1/events?after=${head}&wait=10`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const created = await schedule('four');
    const answer = await waiting;
    expect(answer.json.items.map((e: { data: { postId: string } }) => e.data.postId)).toEqual([
      created.json.id,
    ]);
    // Nothing comes: the answer is empty when the wait is over.
    const empty = await client.get(`/api/v1/events?after=${answer.json.nextCursor}&wait=1`);
    expect(empty.json).toEqual({ items: [], nextCursor: answer.json.nextCursor });
  });

  it('a disconnect records account.disconnected and post.canceled for each scheduled post, in one transaction', async () => {
    const { client: owner, user } = await makeApiClient(service);
    const account = await makeAccount(service.app.deps, user.id, { username: 'leaving' });
    const post = await owner.post('/api/v1/posts', {
      accountId: account.id,
      items: [{ text: 'never sent' }],
      scheduledAt: clock.now() + HOUR,
    });
    // The account has no tokens to revoke at X, so the disconnect needs no X.
    expect((await owner.delete(`/api/v1/accounts/${account.id}`)).status).toBe(204);
    const types = (await owner.get('/api/v1/events')).json.items.map(
      (e: { type: string; data: { postId?: string } }) => [e.type, e.data.postId ?? null],
    );
    expect(types).toEqual([
      ['post.scheduled', post.json.id],
      ['post.canceled', post.json.id],
      ['account.disconnected', null],
    ]);
  });

  it('purges events older than XGATE_EVENTS_RETENTION_DAYS', async () => {
    const before = (await client.get('/api/v1/events?limit=500')).json.items.length;
    expect(before).toBeGreaterThan(0);
    clock.advance(31 * 24 * HOUR);
    await schedule('fresh');
    const purged = await eventsPurgeLoop(service.app.deps).runOnce(new AbortController().signal);
    expect(purged).toBeGreaterThanOrEqual(before);
    const left = (await client.get('/api/v1/events')).json.items;
    expect(left.map((e: { type: string }) => e.type)).toEqual(['post.scheduled']);
  });
});
