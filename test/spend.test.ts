import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../src/errors/index.ts';
import { listEvents } from '../src/events/index.ts';
import { HOUR_MS } from '../src/metrics/schedule.ts';
import { probeX } from '../src/spend/probe.ts';
import { saveSpendSettings } from '../src/spend/spend.repository.ts';
import { type DeliveryHarness, serveHarness, startDeliveryHarness } from './delivery.harness.ts';
import { createHttpClient, describeEachDialect, makeApiKey } from './helpers/index.ts';

const DAY_MS = 24 * HOUR_MS;

/** The ledger's total (USD) and its billed calls by operation. */
async function ledger(h: DeliveryHarness) {
  await h.deps.spend.flush();
  const rows = await h.deps.db.selectFrom('spend_daily').selectAll().execute();
  const byOperation: Record<string, number> = {};
  let usd = 0;
  for (const row of rows) {
    byOperation[row.operation] = (byOperation[row.operation] ?? 0) + Number(row.calls);
    usd += Number(row.usd);
  }
  return { usd: Math.round(usd * 1e6) / 1e6, byOperation };
}

/** What the emulator billed, the same way. */
function billed(h: DeliveryHarness) {
  const billing = h.emu.control.billing();
  const byOperation: Record<string, number> = {};
  for (const charge of billing.charges)
    byOperation[charge.operation] = (byOperation[charge.operation] ?? 0) + 1;
  return { usd: billing.totalUsd, byOperation };
}

describeEachDialect('X spend: estimates, the ledger against what X bills, cheaper links', (ctx) => {
  let h: DeliveryHarness;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('estimates a thread as the price table says, moves its link into a reply, and records exactly what X bills', async () => {
    const account = await h.makeAccount();
    const thread = {
      accountId: account.accountId,
      items: [{ text: 'Our report is out: https://example.com/report' }, { text: 'Two' }, { text: 'Three' }],
    };
    // A post with a URL, then two replies.
    const plain = await h.deps.posts.estimate(account.userId, thread);
    expect(plain.estimatedCostUsd).toBeCloseTo(0.2 + 0.01 + 0.01, 6);
    expect(plain.items).toHaveLength(3);
    // The link moves into a reply to the first item: a plain post and three replies.
    const cheaper = await h.deps.posts.estimate(account.userId, { ...thread, linkInReply: true });
    expect(cheaper.items.map((item) => item.text)).toEqual([
      'Our report is out:',
      'https://example.com/report',
      'Two',
      'Three',
    ]);
    expect(cheaper.estimatedCostUsd).toBeCloseTo(0.015 + 3 * 0.01, 6);

    const post = await h.deps.posts.create(account.userId, { ...thread, linkInReply: true });
    expect(post.estimatedCostUsd).toBeCloseTo(0.045, 6);
    expect(post.linkInReply).toBe(true);
    await h.drain();
    const published = await h.post(post.id);
    expect(published.status).toBe('published');
    const operations = h.emu.control
      .billing()
      .charges.filter((charge) => published.items.some((item) => item.tweetId === charge.resourceId))
      .map((charge) => charge.operation);
    expect(operations).toEqual(['post', 'reply', 'reply', 'reply']);

    // A mixed run: a post with a URL, a deletion, "test connection" twice, and metrics reads over several UTC days.
    const withUrl = await h.deps.posts.create(account.userId, {
      accountId: account.accountId,
      items: [{ text: 'Plain link https://example.com/x' }],
    });
    await h.drain();
    await h.deps.posts.remove(account.userId, withUrl.id);
    await h.deps.accounts.verify(account.userId, account.accountId);
    await h.deps.accounts.verify(account.userId, account.accountId);
    const collector = h.deps.metricsCollector();
    const start = h.clock.now();
    while (h.clock.now() < start + 3 * DAY_MS) {
      h.clock.advance(HOUR_MS);
      while ((await collector.runOnce()) > 0) {}
    }

    const ours = await ledger(h);
    const theirs = billed(h);
    expect(theirs.byOperation.post_read).toBeGreaterThan(5);
    expect(theirs.byOperation.user_read).toBe(1);
    expect(ours.byOperation).toEqual(theirs.byOperation);
    expect(ours.usd).toBeCloseTo(theirs.usd, 6);

    // The user's view of it.
    const spend = await h.deps.db.selectFrom('spend_daily').select('x_user_id').distinct().execute();
    expect(spend.map((row) => row.x_user_id)).toEqual([account.xUserId]);
  }, 120_000);
});

describeEachDialect('X spend: caps', (ctx) => {
  let h: DeliveryHarness;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx);
    h.clock.set(Date.UTC(2027, 0, 10, 12));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a monthly cap that allows 10 posts refuses the 11th in the month, and takes it in the next month', async () => {
    const account = await h.makeAccount();
    await saveSpendSettings(h.deps.db, account.accountId, {
      monthlyCapUsd: 0.15,
      dailyCapUsd: null,
      linkInReply: false,
    });
    const at = (hours: number) => h.clock.now() + hours * HOUR_MS;
    for (let i = 1; i <= 10; i++) {
      await h.deps.posts.create(account.userId, {
        accountId: account.accountId,
        items: [{ text: `capped ${i}` }],
        scheduledAt: at(i),
      });
    }
    const refused = await h.deps.posts
      .create(account.userId, {
        accountId: account.accountId,
        items: [{ text: 'capped 11' }],
        scheduledAt: at(11),
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('spend_cap_exceeded');
    expect((refused as AppError).status).toBe(422);
    expect((refused as AppError).details).toMatchObject({
      cap: 'account_monthly',
      capUsd: 0.15,
      scheduledUsd: 0.15,
      postUsd: 0.015,
      resetsAt: '2027-02-01T00:00:00.000Z',
    });
    const nextMonth = await h.deps.posts.create(account.userId, {
      accountId: account.accountId,
      items: [{ text: 'capped 11, in February' }],
      scheduledAt: Date.UTC(2027, 1, 2, 9),
    });
    expect(nextMonth.status).toBe('scheduled');
    // Editing a post within the cap keeps fitting (it is not counted twice).
    const first = (await h.deps.posts.list(account.userId, { status: 'scheduled', limit: 100 })).posts.at(
      -1,
    )!;
    await h.deps.posts.update(account.userId, first.id, { items: [{ text: 'capped 1, edited' }] });
  });
});

describeEachDialect('X spend: metrics near a cap', (ctx) => {
  let h: DeliveryHarness;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('slows metric reads to weekly once an account has used 90 % of its monthly cap', async () => {
    h.clock.set(Date.UTC(2027, 2, 3, 8));
    const account = await h.makeAccount();
    await saveSpendSettings(h.deps.db, account.accountId, {
      monthlyCapUsd: 0.016,
      dailyCapUsd: null,
      linkInReply: false,
    });
    const post = await h.deps.posts.create(account.userId, {
      accountId: account.accountId,
      items: [{ text: 'near the cap' }],
    });
    await h.drain();
    const tweetId = (await h.post(post.id)).items[0]!.tweetId!;
    const collector = h.deps.metricsCollector();
    await collector.runOnce();
    h.clock.advance(2 * HOUR_MS);
    const before = h.clock.now();
    await collector.runOnce();
    const target = await h.deps.db
      .selectFrom('metric_targets')
      .select(['next_read_at', 'last_read_at'])
      .where('tweet_id', '=', tweetId)
      .executeTakeFirstOrThrow();
    expect(target.last_read_at).toBeNull();
    expect(Number(target.next_read_at)).toBe(before + 7 * DAY_MS);
  });
});

describeEachDialect('X spend: out of credits', (ctx) => {
  let h: DeliveryHarness;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('credits run out in the middle of 50 due posts: nothing fails or doubles, one app.paused; topped up, all go out in order', async () => {
    const account = await h.makeAccount();
    const posts: string[] = [];
    for (let i = 0; i < 50; i++) {
      posts.push(await h.makePost(account, [{ text: `due post ${i}` }], h.clock.now() - (50 - i) * 1000));
    }
    h.emu.control.setBilling({ creditsUsd: 20 * 0.015 });
    await h.drain();
    await h.deps.spend.flush();

    const statuses = await Promise.all(posts.map(async (id) => (await h.post(id)).status));
    expect(statuses.filter((status) => status === 'published')).toHaveLength(20);
    expect(statuses.filter((status) => status === 'scheduled')).toHaveLength(30);
    expect(statuses.filter((status) => status === 'failed' || status === 'needs_review')).toEqual([]);
    expect(await h.deps.pauses.isPaused()).toBe(true);
    const events = await listEvents(h.deps.db, account.userId, {
      after: null,
      types: ['app.paused'],
      limit: 10,
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ code: 'x_credits_depleted' });
    // Nothing more is tried while paused.
    expect(await h.drain()).toBe(0);

    // A probe while still out of credits keeps it paused; topped up, the next probe resumes.
    expect(await probeX(h.deps)).toBe(true);
    h.emu.control.setBilling({ creditsUsd: null });
    expect(await probeX(h.deps)).toBe(false);
    const resumed = await listEvents(h.deps.db, account.userId, {
      after: null,
      types: ['app.resumed'],
      limit: 10,
    });
    expect(resumed).toHaveLength(1);
    while ((await h.drain()) > 0) {}

    const final = await Promise.all(posts.map((id) => h.post(id)));
    expect(final.every((post) => post.status === 'published')).toBe(true);
    // Once each, in order: tweet ids grow with the posts' order.
    const tweetIds = final.map((post) => BigInt(post.items[0]!.tweetId!));
    for (let i = 1; i < tweetIds.length; i++) expect(tweetIds[i]! > tweetIds[i - 1]!).toBe(true);
    const texts = h.emu.control.tweets().filter((tweet) => tweet.text.startsWith('due post'));
    expect(texts).toHaveLength(50);
  }, 60_000);
});

describeEachDialect('X spend API', (ctx) => {
  let h: DeliveryHarness;
  let http: Awaited<ReturnType<typeof serveHarness>>;
  let url: string;
  beforeAll(async () => {
    h = await startDeliveryHarness(ctx);
    http = await serveHarness(h);
    url = http.url;
  });
  afterAll(async () => {
    await http?.close();
    await h?.close();
  });

  it('shows cost and warnings on posts, the spend per account, caps and the pause, with bad input refused', async () => {
    const account = await h.makeAccount();
    const client = createHttpClient(url, { bearer: (await makeApiKey(h.deps, account.userId)).key });
    const body = { accountId: account.accountId, items: [{ text: 'New release https://example.com/v2' }] };

    const estimate = await client.post('/api/v1/posts/estimate', body);
    expect(estimate.status).toBe(200);
    expect(estimate.json).toMatchObject({ estimatedCostUsd: 0.2, linkInReply: false });
    expect(estimate.json.warnings).toEqual([expect.objectContaining({ code: 'url_in_post', item: 0 })]);
    const cheaper = await client.post('/api/v1/posts/estimate', { ...body, linkInReply: true });
    expect(cheaper.json.items.map((item: { text: string }) => item.text)).toEqual([
      'New release',
      'https://example.com/v2',
    ]);
    expect(cheaper.json.warnings).toEqual([]);

    const created = await client.post('/api/v1/posts?wait=10', body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ estimatedCostUsd: 0.2, linkInReply: false });
    await h.drain();
    await h.deps.spend.flush();
    const spend = await client.get('/api/v1/spend');
    expect(spend.status).toBe(200);
    expect(spend.json).toMatchObject({ currency: 'USD', total: 0.2 });
    expect(spend.json.accounts).toEqual([
      { accountId: account.accountId, total: 0.2, series: [expect.objectContaining({ usd: 0.2, calls: 1 })] },
    ]);
    const monthly = await client.get('/api/v1/spend?granularity=month');
    expect(monthly.json.accounts[0].series[0].period).toMatch(/^\d{4}-\d{2}$/);
    expect((await client.get('/api/v1/spend?from=2026-13-01')).status).toBe(400);

    // Settings: caps and the link default, the owner's only, validated.
    const path = `/api/v1/accounts/${account.accountId}/spend-settings`;
    const put = (json: unknown, who = client) => who.request('PUT', path, { json });
    expect((await put({ monthlyCapUsd: 25, linkInReply: true })).json).toMatchObject({
      monthlyCapUsd: 25,
      dailyCapUsd: null,
      linkInReply: true,
      monthSpentUsd: 0.2,
    });
    expect((await put({ monthlyCapUsd: -1 })).status).toBe(400);
    expect((await put({ monthlyCapUsd: 'lots' })).status).toBe(400);
    expect((await client.get(path)).json.monthlyCapUsd).toBe(25);
    const other = await h.makeAccount();
    const stranger = createHttpClient(url, { bearer: (await makeApiKey(h.deps, other.userId)).key });
    expect((await put({ monthlyCapUsd: 1 }, stranger)).status).toBe(404);
    expect((await stranger.get('/api/v1/spend')).json.total).toBe(0);
    // The account's default now moves links into a reply.
    expect((await client.post('/api/v1/posts/estimate', body)).json.linkInReply).toBe(true);

    // The pause, as the app and /readyz show it.
    expect((await client.get('/api/v1/app/status')).json).toMatchObject({ paused: false, code: null });
    h.emu.control.setBilling({ creditsUsd: 0 });
    await h.deps.accounts.verify(account.userId, account.accountId).catch(() => undefined);
    await h.deps.spend.flush();
    const paused = await client.get('/api/v1/app/status');
    expect(paused.json).toMatchObject({ paused: true, code: 'x_credits_depleted' });
    expect(paused.json.reason).toContain('Top up credits');
    expect((await createHttpClient(url).get('/readyz')).json).toMatchObject({
      status: 'ready',
      xPaused: { code: 'x_credits_depleted' },
    });
    expect((await client.post('/api/v1/admin/resume')).json.paused).toBe(true);
    h.emu.control.setBilling({ creditsUsd: null });
    expect((await client.post('/api/v1/admin/resume')).json.paused).toBe(false);
  });
});
