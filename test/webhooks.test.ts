import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markNeedsReconnect } from '../src/accounts/accounts.repository.ts';
import { listEvents } from '../src/events/index.ts';
import type { WebhookDeliverer } from '../src/webhooks/index.ts';
import { isPrivateAddress, MAX_ATTEMPTS, RETRY_DELAYS_MS, retryDelayMs } from '../src/webhooks/index.ts';
import { MAX_PAYLOAD_BYTES, webhookPayload } from '../src/webhooks/webhooks.service.ts';
import { type DeliveryHarness, startDeliveryHarness } from './delivery.harness.ts';
import { makeAccount } from './fixtures/accounts.ts';
import {
  countRows,
  createTestClock,
  describeEachDialect,
  makeApiClient,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';
import {
  type ReceivedWebhook,
  signedHeaders,
  startWebhookReceiver,
  type WebhookReceiver,
} from './helpers/webhook-receiver.ts';

const HOUR = 3_600_000;

/** Runs a deliverer until it has nothing left to do at the clock's time. */
async function deliverAll(deliverer: WebhookDeliverer): Promise<void> {
  const signal = new AbortController().signal;
  while ((await deliverer.runOnce(signal)) > 0) {
    // another round: a slot freed up or more was due
  }
}

function verified(secret: string, request: ReceivedWebhook) {
  return new Webhook(secret).verify(request.body, signedHeaders(request)) as {
    type: string;
    data: Record<string, unknown>;
  };
}

describe('webhook retry schedule', () => {
  it('is Standard Webhooks’: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, with up to 10% jitter, then stop', () => {
    expect(MAX_ATTEMPTS).toBe(10);
    const none = RETRY_DELAYS_MS.map((_, i) => retryDelayMs(i + 1, null, () => 0));
    expect(none).toEqual([
      5_000,
      300_000,
      1_800_000,
      2 * HOUR,
      5 * HOUR,
      10 * HOUR,
      14 * HOUR,
      20 * HOUR,
      24 * HOUR,
    ]);
    expect(retryDelayMs(1, null, () => 0.999)).toBeLessThanOrEqual(5_500);
    expect(retryDelayMs(10, null)).toBeNull();
    // Retry-After asks for longer: honoured; for shorter: the schedule wins.
    expect(retryDelayMs(1, 120, () => 0)).toBe(120_000);
    expect(retryDelayMs(3, 1, () => 0)).toBe(1_800_000);
  });

  it('keeps bodies under 20 kB: a huge thread goes without its items, marked truncated', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      position: i,
      tweetId: `18000000000000${i}`,
      url: `https://x.com/someone/status/18000000000000${i}`,
    }));
    const body = webhookPayload({
      type: 'post.published',
      at: 0,
      data: { postId: 'p', accountId: 'a', status: 'published', items },
    });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(JSON.parse(body)).toEqual({
      type: 'post.published',
      timestamp: '1970-01-01T00:00:00.000Z',
      data: { postId: 'p', accountId: 'a', status: 'published', truncated: true },
    });
  });

  it('refuses loopback, private, link-local, metadata and reserved addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:10.1.2.3',
      '224.0.0.1',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.215.14', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });
});

describeEachDialect('webhooks API: endpoints, test, delivery log, replay', (ctx) => {
  const clock = createTestClock();
  let service: TestService;
  let client: TestHttpClient;
  let other: TestHttpClient;
  let receiver: WebhookReceiver;
  let deliverer: WebhookDeliverer;

  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: { XGATE_WEBHOOK_ALLOW_PRIVATE: 'true', XGATE_MAX_WEBHOOKS_PER_USER: '3' },
    });
    client = (await makeApiClient(service)).client;
    other = (await makeApiClient(service)).client;
    receiver = await startWebhookReceiver();
    deliverer = service.app.deps.webhookDeliverer({ pollMs: 1 });
  });
  afterAll(async () => {
    await service?.stop();
    await receiver?.stop();
  });

  it('creates an endpoint with its secret shown once, lists, changes and deletes it; another user’s is a 404', async () => {
    const created = await client.post('/api/v1/webhooks', {
      url: receiver.url,
      types: ['post.published', 'post.failed'],
      description: 'orders service',
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      url: receiver.url,
      types: ['post.published', 'post.failed'],
      description: 'orders service',
      enabled: true,
      disabledReason: null,
      pendingDeliveries: 0,
    });
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const id = created.json.id;

    const listed = await client.get('/api/v1/webhooks');
    expect(listed.json.items).toHaveLength(1);
    expect(listed.json.items[0].secret).toBeUndefined();
    expect(JSON.stringify(listed.json)).not.toContain(created.json.secret);

    const patched = await client.patch(`/api/v1/webhooks/${id}`, { types: null, enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ types: null, enabled: false, disabledReason: 'disabled by you' });
    expect((await client.patch(`/api/v1/webhooks/${id}`, { enabled: true })).json).toMatchObject({
      enabled: true,
      disabledReason: null,
    });

    for (const [method, path] of [
      ['get', `/api/v1/webhooks/${id}`],
      ['patch', `/api/v1/webhooks/${id}`],
      ['delete', `/api/v1/webhooks/${id}`],
      ['post', `/api/v1/webhooks/${id}/test`],
      ['post', `/api/v1/webhooks/${id}/rotate-secret`],
      ['get', `/api/v1/webhooks/${id}/deliveries`],
    ] as const) {
      const answer =
        method === 'patch'
          ? await other.patch(path, { description: 'mine now' })
          : method === 'post'
            ? await other.post(path)
            : await other[method](path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json.error.code).toBe('webhook_not_found');
    }
    expect((await client.get(`/api/v1/webhooks/${id}`)).json.description).toBe('orders service');

    expect((await client.delete(`/api/v1/webhooks/${id}`)).status).toBe(204);
    expect((await client.get(`/api/v1/webhooks/${id}`)).status).toBe(404);
  });

  it('refuses bad input with a 4xx that names the field, and stores nothing', async () => {
    const before = await countRows(service.app.deps.db, 'webhooks');
    const cases: Array<[unknown, number, string]> = [
      [{}, 400, 'invalid_request'],
      [{ url: 'not a url' }, 400, 'invalid_request'],
      [{ url: 'ftp://example.com/x' }, 422, 'webhook_url_not_allowed'],
      [{ url: 'https://user:pw@example.com/x' }, 422, 'webhook_url_not_allowed'],
      [{ url: receiver.url, types: ['post.exploded'] }, 400, 'invalid_request'],
      [{ url: receiver.url, extra: 1 }, 400, 'invalid_request'],
      [{ url: `https://example.com/${'a'.repeat(2100)}` }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await client.post('/api/v1/webhooks', body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(answer.json.error.code).toBe(code);
      expect(answer.json.error.message.length).toBeGreaterThan(10);
    }
    expect(await countRows(service.app.deps.db, 'webhooks')).toBe(before);
  });

  it('caps the endpoints per user (XGATE_MAX_WEBHOOKS_PER_USER)', async () => {
    const { client: capped } = await makeApiClient(service);
    for (let i = 0; i < 3; i++)
      expect((await capped.post('/api/v1/webhooks', { url: receiver.url })).status).toBe(201);
    const refused = await capped.post('/api/v1/webhooks', { url: receiver.url });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatchObject({ code: 'webhook_limit', details: { limit: 3 } });
  });

  it('sends a test event, logs the attempt with the answer, and replays it with the same webhook-id', async () => {
    const created = await client.post('/api/v1/webhooks', { url: receiver.url });
    const { id, secret } = created.json;
    receiver.answer(() => ({ status: 200, body: 'thanks!' }));
    const queued = await client.post(`/api/v1/webhooks/${id}/test`);
    expect(queued.status).toBe(202);
    expect(queued.json).toMatchObject({
      type: 'webhook.test',
      kind: 'test',
      status: 'pending',
      attempts: [],
    });

    const start = receiver.received.length;
    await deliverAll(deliverer);
    const got = receiver.received.slice(start);
    expect(got).toHaveLength(1);
    expect(verified(secret, got[0]!)).toMatchObject({ type: 'webhook.test', data: { webhookId: id } });
    expect(got[0]!.id).toBe(queued.json.eventId);

    const log = await client.get(`/api/v1/webhooks/${id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.json.items[0]).toMatchObject({
      id: queued.json.id,
      status: 'delivered',
      attempts: [{ statusCode: 200, error: null, responseBody: 'thanks!' }],
    });

    clock.advance(1000);
    const replay = await client.post(`/api/v1/webhooks/${id}/deliveries/${queued.json.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.json).toMatchObject({ kind: 'replay', eventId: queued.json.eventId });
    await deliverAll(deliverer);
    const again = receiver.received.slice(start + 1);
    expect(again.map((r) => r.id)).toEqual([queued.json.eventId]);
    expect(again[0]!.body).toBe(got[0]!.body);

    expect(
      (await client.get(`/api/v1/webhooks/${id}/deliveries?status=delivered&limit=1`)).json,
    ).toMatchObject({
      items: [{ kind: 'replay' }],
      nextCursor: expect.any(String),
    });
    const missing = await client.post(`/api/v1/webhooks/${id}/deliveries/nope/replay`);
    expect(missing.json.error.code).toBe('webhook_delivery_not_found');
    expect((await client.get(`/api/v1/webhooks/${id}/deliveries?cursor=garbage`)).json.error.code).toBe(
      'invalid_cursor',
    );
  });

  it('delivers events recorded after the endpoint was made, only of its types, in order', async () => {
    const { client: owner, user } = await makeApiClient(service);
    const accountId = (await makeAccount(service.app.deps, user.id, { username: 'shop' })).id;
    const schedule = (text: string) =>
      owner.post('/api/v1/posts', { accountId, items: [{ text }], scheduledAt: clock.now() + HOUR });
    await schedule('before the endpoint existed');
    const created = await owner.post('/api/v1/webhooks', {
      url: receiver.url,
      types: ['post.scheduled', 'post.canceled'],
    });
    const start = receiver.received.length;
    const one = await schedule('one');
    const two = await schedule('two');
    await owner.delete(`/api/v1/posts/${one.json.id}`);
    await markNeedsReconnect(service.app.deps.db, accountId, 'X refused the refresh token.', clock.now());
    clock.advance(5);
    await deliverAll(deliverer);
    const got = receiver.received.slice(start).map((r) => verified(created.json.secret, r));
    expect(got.map((e) => [e.type, e.data.postId])).toEqual([
      ['post.scheduled', one.json.id],
      ['post.scheduled', two.json.id],
      ['post.canceled', one.json.id],
    ]);
  });
});

describeEachDialect('webhook delivery: signatures, retries, order, disabling', (ctx) => {
  let harness: DeliveryHarness;
  let receiver: WebhookReceiver;
  let deliverer: WebhookDeliverer;

  beforeAll(async () => {
    harness = await startDeliveryHarness(ctx);
    receiver = await startWebhookReceiver();
    deliverer = harness.deps.webhookDeliverer({ pollMs: 1, allowPrivate: true });
  });
  afterAll(async () => {
    await harness?.close();
    await receiver?.stop();
  });

  const run = async () => {
    harness.clock.advance(1);
    await deliverAll(deliverer);
  };

  const endpoint = (
    userId: string,
    types?: Parameters<DeliveryHarness['deps']['webhooks']['create']>[1]['types'],
  ) => harness.deps.webhooks.create(userId, { url: receiver.url, ...(types && { types }) });

  const pendingOf = (webhookId: string) =>
    harness.deps.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .where('status', '=', 'pending')
      .orderBy('event_seq')
      .execute();

  it('a published post → one signed post.published with the tweet urls; a needs-reconnect → account.needs_reconnect with the reason', async () => {
    receiver.answer(() => ({ status: 204 }));
    const account = await harness.makeAccount('hooked');
    const { webhook, secret } = await endpoint(account.userId);
    const postId = await harness.makePost(account, [{ text: 'first' }, { text: 'second' }]);
    await harness.drain();
    await markNeedsReconnect(
      harness.deps.db,
      account.accountId,
      'X refused the refresh token (invalid_grant).',
      harness.clock.now(),
    );
    const start = receiver.received.length;
    await run();
    const got = receiver.received.slice(start);
    const events = got.map((r) => verified(secret, r));
    expect(events.map((e) => e.type)).toEqual(['post.published', 'account.needs_reconnect']);
    const published = events[0]!.data as { postId: string; items: { tweetId: string; url: string }[] };
    expect(published.postId).toBe(postId);
    expect(published.items).toHaveLength(2);
    for (const item of published.items) expect(item.url).toBe(`https://x.com/hooked/status/${item.tweetId}`);
    expect(events[1]!.data).toMatchObject({
      accountId: account.accountId,
      reason: 'X refused the refresh token (invalid_grant).',
    });
    // The webhook-id is the event's id in the log.
    const log = await listEvents(harness.deps.db, account.userId, { after: null, limit: 10 });
    expect(got.map((r) => r.id)).toEqual(log.filter((e) => e.type !== 'post.scheduled').map((e) => e.id));
    // Body: {type, timestamp, data}; timestamp is the event's time.
    expect(Object.keys(JSON.parse(got[0]!.body))).toEqual(['type', 'timestamp', 'data']);
    expect(got[0]!.headers['content-type']).toBe('application/json');
    expect(Number(got[0]!.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    expect((await pendingOf(webhook.id)).length).toBe(0);
  });

  it('500 three times then 200: delivered on the 4th attempt with the same webhook-id, on the spec’s schedule', async () => {
    const account = await harness.makeAccount();
    const { webhook, secret } = await endpoint(account.userId);
    receiver.answer((_, n) => (n <= start + 3 ? { status: 500, body: 'boom' } : { status: 200 }));
    const start = receiver.received.length;
    await markNeedsReconnect(harness.deps.db, account.accountId, 'gone', harness.clock.now());
    await run();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [pending] = await pendingOf(webhook.id);
      expect(pending?.attempts).toBe(attempt);
      const wait = (pending?.next_attempt_at ?? 0) - harness.clock.now();
      waits.push(wait);
      // Not before it is due.
      harness.clock.advance(wait - 2);
      await deliverAll(deliverer);
      expect(receiver.received.length - start).toBe(attempt);
      harness.clock.advance(2);
      await deliverAll(deliverer);
    }
    expect(receiver.received.length - start).toBe(4);
    const got = receiver.received.slice(start);
    expect(new Set(got.map((r) => r.id)).size).toBe(1);
    expect(verified(secret, got[3]!).type).toBe('account.needs_reconnect');
    for (const [i, wait] of waits.entries()) {
      const base = RETRY_DELAYS_MS[i]!;
      expect(wait).toBeGreaterThanOrEqual(base - 1);
      expect(wait).toBeLessThanOrEqual(base * 1.1 + 1);
    }
    const deliveries = await harness.deps.db.selectFrom('webhook_attempts').selectAll().execute();
    expect(deliveries.filter((a) => a.status_code === 500).every((a) => a.response_body === 'boom')).toBe(
      true,
    );
  });

  it('a receiver down for a day still gets every event afterwards, in order, each delivered once', async () => {
    const account = await harness.makeAccount();
    const { secret } = await endpoint(account.userId);
    let down = true;
    receiver.answer(() => (down ? { status: 503 } : { status: 200 }));
    const start = receiver.received.length;
    const posts: string[] = [];
    for (let i = 0; i < 5; i++) {
      posts.push(await harness.makePost(account, [{ text: `post ${i}` }], harness.clock.now() + 48 * HOUR));
      await harness.deps.posts.remove(account.userId, posts[i]!);
      harness.clock.advance(HOUR);
      await run();
    }
    for (let hour = 5; hour < 24; hour++) {
      harness.clock.advance(HOUR);
      await run();
    }
    // While down, only the oldest event was tried: the others wait behind it.
    expect(new Set(receiver.received.slice(start).map((r) => r.id)).size).toBe(1);
    down = false;
    for (let hour = 0; hour < 30; hour++) {
      harness.clock.advance(HOUR);
      await run();
    }
    const delivered = receiver.received.slice(start).filter((_, i, all) => i >= all.length - 5);
    expect(delivered.map((r) => verified(secret, r).data.postId)).toEqual(posts);
    expect(delivered.map((r) => r.type)).toEqual(Array(5).fill('post.canceled'));
  });

  it('410 Gone disables the endpoint at once, with a webhook.disabled event; turning it on again resumes', async () => {
    const account = await harness.makeAccount();
    const { webhook } = await endpoint(account.userId, ['account.needs_reconnect']);
    const watcher = await endpoint(account.userId, ['webhook.disabled']);
    receiver.answer((request) =>
      request.type === 'account.needs_reconnect' ? { status: 410 } : { status: 200 },
    );
    const start = receiver.received.length;
    await markNeedsReconnect(harness.deps.db, account.accountId, 'gone', harness.clock.now());
    await run();
    await run();
    const after = await harness.deps.webhooks.get(account.userId, webhook.id);
    expect(after.enabled).toBe(0);
    expect(after.disabled_reason).toContain('410');
    const log = await listEvents(harness.deps.db, account.userId, {
      after: null,
      types: ['webhook.disabled'],
      limit: 10,
    });
    expect(log.map((e) => e.data)).toEqual([
      { webhookId: webhook.id, url: receiver.url, reason: after.disabled_reason },
    ]);
    // The other endpoint heard about it, verified with its own secret.
    const told = receiver.received.slice(start).filter((r) => r.type === 'webhook.disabled');
    expect(told.map((r) => verified(watcher.secret, r).data.webhookId)).toEqual([webhook.id]);
    // Nothing more is sent to a disabled endpoint.
    const sent = receiver.received.length;
    await harness.deps.webhooks.sendTest(account.userId, webhook.id);
    await run();
    expect(receiver.received.length).toBe(sent);
  });

  it('retries that run out disable the endpoint with a webhook.disabled event; the rest stay pending and go out once it is on again', async () => {
    const account = await harness.makeAccount();
    const { webhook, secret } = await endpoint(account.userId, ['post.canceled']);
    receiver.answer(() => ({ status: 500 }));
    const first = await harness.makePost(account, [{ text: 'a' }], harness.clock.now() + 96 * HOUR);
    const second = await harness.makePost(account, [{ text: 'b' }], harness.clock.now() + 96 * HOUR);
    await harness.deps.posts.remove(account.userId, first);
    await harness.deps.posts.remove(account.userId, second);
    await run();
    for (let i = 0; i < MAX_ATTEMPTS + 2; i++) {
      harness.clock.advance(25 * HOUR);
      await run();
    }
    const disabled = await harness.deps.webhooks.get(account.userId, webhook.id);
    expect(disabled.enabled).toBe(0);
    expect(disabled.disabled_reason).toMatch(/failed 10 times/);
    const attempts = await harness.deps.db
      .selectFrom('webhook_attempts')
      .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
      .select(['webhook_deliveries.status', 'webhook_deliveries.event_type'])
      .where('webhook_deliveries.webhook_id', '=', webhook.id)
      .execute();
    expect(attempts).toHaveLength(MAX_ATTEMPTS);
    const events = await listEvents(harness.deps.db, account.userId, {
      after: null,
      types: ['webhook.disabled'],
      limit: 10,
    });
    expect(events).toHaveLength(1);
    expect(await pendingOf(webhook.id)).toHaveLength(1);

    receiver.answer(() => ({ status: 200 }));
    await harness.deps.webhooks.update(account.userId, webhook.id, { enabled: true });
    const start = receiver.received.length;
    await run();
    expect(receiver.received.slice(start).map((r) => verified(secret, r).data.postId)).toEqual([second]);
  });

  it('rotate-secret: both secrets verify during the overlap, only the new one after 24 hours', async () => {
    const account = await harness.makeAccount();
    const { webhook, secret: old } = await endpoint(account.userId);
    receiver.answer(() => ({ status: 200 }));
    const { secret: fresh } = await harness.deps.webhooks.rotateSecret(account.userId, webhook.id);
    expect(fresh).not.toBe(old);
    await harness.deps.webhooks.sendTest(account.userId, webhook.id);
    let start = receiver.received.length;
    await run();
    const during = receiver.received.at(-1)!;
    expect(receiver.received.length).toBe(start + 1);
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verified(old, during).type).toBe('webhook.test');
    expect(verified(fresh, during).type).toBe('webhook.test');

    harness.clock.advance(24 * HOUR + 1);
    await harness.deps.webhooks.sendTest(account.userId, webhook.id);
    start = receiver.received.length;
    await run();
    const afterwards = receiver.received.at(-1)!;
    expect(receiver.received.length).toBe(start + 1);
    expect(verified(fresh, afterwards).type).toBe('webhook.test');
    expect(() => verified(old, afterwards)).toThrow();
  });

  it('with private addresses not allowed, a delivery to one is refused at send time (DNS checked on every attempt)', async () => {
    const account = await harness.makeAccount();
    const localhostUrl = receiver.url.replace('127.0.0.1', 'localhost');
    const { webhook } = await harness.deps.webhooks.create(account.userId, { url: localhostUrl });
    const strict = harness.deps.webhookDeliverer({ pollMs: 1, allowPrivate: false });
    await harness.deps.webhooks.sendTest(account.userId, webhook.id);
    const start = receiver.received.length;
    harness.clock.advance(1);
    await deliverAll(strict);
    expect(receiver.received.length).toBe(start);
    const attempt = await harness.deps.db
      .selectFrom('webhook_attempts')
      .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
      .select(['webhook_attempts.error', 'webhook_attempts.status_code'])
      .where('webhook_deliveries.webhook_id', '=', webhook.id)
      .executeTakeFirstOrThrow();
    expect(attempt.status_code).toBeNull();
    expect(attempt.error).toMatch(/must be https|private/);
  });
});

describeEachDialect('webhook URLs when private addresses are not allowed', (ctx) => {
  let service: TestService;
  let client: TestHttpClient;
  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      env: { XGATE_WEBHOOK_ALLOW_PRIVATE: 'false' },
    });
    client = (await makeApiClient(service)).client;
  });
  afterAll(() => service?.stop());

  it('refuses http://, loopback, metadata, private and names that resolve to them — at create and at change', async () => {
    for (const url of [
      'http://127.0.0.1/hooks',
      'http://example.com/hooks',
      'https://127.0.0.1/hooks',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.1/hooks',
      'https://[::1]/hooks',
      'https://[::ffff:127.0.0.1]/hooks',
      'https://localhost/hooks',
    ]) {
      const answer = await client.post('/api/v1/webhooks', { url });
      expect(answer.status, url).toBe(422);
      expect(answer.json.error.code).toBe('webhook_url_not_allowed');
      expect(answer.json.error.details).toEqual([{ in: 'body', field: 'url', message: expect.any(String) }]);
    }
    expect(await countRows(service.app.deps.db, 'webhooks')).toBe(0);
    // A public address is accepted; changing it to a private one is refused and changes nothing.
    const made = await client.post('/api/v1/webhooks', { url: 'https://93.184.215.14/hooks' });
    expect(made.status).toBe(201);
    const changed = await client.patch(`/api/v1/webhooks/${made.json.id}`, {
      url: 'https://192.168.1.10/hooks',
    });
    expect(changed.json.error.code).toBe('webhook_url_not_allowed');
    expect((await client.get(`/api/v1/webhooks/${made.json.id}`)).json.url).toBe(
      'https://93.184.215.14/hooks',
    );
  });
});
