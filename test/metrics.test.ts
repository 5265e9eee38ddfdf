import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markNeedsReconnect } from '../src/accounts/accounts.repository.ts';
import type { MetricsCollector } from '../src/metrics/index.ts';
import { setTimelineCollection, thinSnapshots } from '../src/metrics/metrics.repository.ts';
import { accountSlot, DAY_MS, HOUR_MS, utcDay } from '../src/metrics/schedule.ts';
import { type DeliveryHarness, serveHarness, startDeliveryHarness } from './delivery.harness.ts';
import { createHttpClient, describeEachDialect, makeApiKey } from './helpers/index.ts';

/** The emulator's `GET /2/tweets` calls since `since` for these tweets (the ids each asked for). */
function lookups(h: DeliveryHarness, since: number, tweetIds: readonly string[]) {
  const wanted = new Set(tweetIds);
  return h.emu.control
    .requests()
    .filter((entry) => entry.method === 'GET' && entry.path === '/2/tweets' && entry.at >= since)
    .map((entry) => ({
      at: entry.at,
      ids: new URLSearchParams(entry.query ?? '').get('ids')?.split(',') ?? [],
    }))
    .filter((call) => call.ids.some((id) => wanted.has(id)));
}

describeEachDialect('tweet metrics collection', (ctx) => {
  let h: DeliveryHarness;
  let collector: MetricsCollector;

  beforeAll(async () => {
    h = await startDeliveryHarness(ctx);
    collector = h.deps.metricsCollector({ concurrency: 2 });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Moves both clocks to `at` in steps of at most an hour, running the collector at each step until idle. */
  async function runUntil(at: number) {
    while (h.clock.now() < at) {
      h.clock.advance(Math.min(HOUR_MS, at - h.clock.now()));
      while ((await collector.runOnce()) > 0) {}
    }
  }

  async function publish(account: { userId: string; accountId: string }, texts: string[]) {
    const id = await h.makePost(
      account,
      texts.map((text) => ({ text })),
    );
    await h.drain();
    const post = await h.post(id);
    expect(post.status).toBe('published');
    return { id, tweetIds: post.items.map((item) => item.tweetId!) };
  }

  const snapshots = (tweetId: string) =>
    h.deps.db
      .selectFrom('metric_snapshots')
      .selectAll()
      .where('tweet_id', '=', tweetId)
      .orderBy('at')
      .execute();

  it('reads a thread at 1 h, 6 h, 24 h, 48 h, then daily with private metrics to 30 days, then weekly public', async () => {
    const account = await h.makeAccount();
    const start = h.clock.now();
    const { tweetIds } = await publish(account, ['metrics one', 'metrics two']);
    await collector.runOnce();
    expect(lookups(h, start, tweetIds)).toEqual([]);

    await runUntil(start + 50 * HOUR_MS);
    const young = await snapshots(tweetIds[0]!);
    expect(young.length).toBe(4);
    // Both tweets of the thread in one call each time.
    const calls = lookups(h, start, tweetIds);
    expect(calls).toHaveLength(4);
    for (const call of calls) expect(call.ids.sort()).toEqual([...tweetIds].sort());
    // The numbers grow as the emulator's do, most in the first day.
    const impressions = young.map((row) => Number(row.impressions));
    for (let i = 1; i < impressions.length; i++)
      expect(impressions[i]).toBeGreaterThanOrEqual(impressions[i - 1]!);
    expect(impressions[2]).toBeGreaterThan(impressions[0]!);
    expect(young.every((row) => row.url_clicks !== null && row.engagements !== null)).toBe(true);

    await runUntil(start + 45 * DAY_MS);
    const all = await snapshots(tweetIds[0]!);
    const days = all.map((row) => Number(row.day));
    // Never twice in one UTC day after the young reads.
    const afterYoung = days.slice(4);
    expect(new Set(afterYoung).size).toBe(afterYoung.length);
    // Daily to 30 days (private), then weekly and public only.
    const privateRows = all.filter((row) => row.engagements !== null);
    const publicRows = all.filter((row) => row.engagements === null);
    expect(Number(privateRows.at(-1)!.at) - start).toBeLessThanOrEqual(30 * DAY_MS);
    expect(privateRows.length).toBeGreaterThanOrEqual(4 + 27);
    expect(publicRows.length).toBeGreaterThanOrEqual(1);
    expect(publicRows.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < publicRows.length; i++) {
      expect(Number(publicRows[i]!.day) - Number(publicRows[i - 1]!.day)).toBe(7);
    }
    // Every daily and weekly read happened at the account's slot.
    const slot = accountSlot(account.accountId).timeOfDayMs;
    for (const row of all.slice(4)) expect(Number(row.at) % DAY_MS).toBeLessThan(slot + 60 * 60_000);

    // What X billed: one read per tweet per UTC day with reads; xgate counted the same.
    const billing = h.emu.control.billing();
    const billedHere = billing.charges.filter(
      (charge) => charge.operation === 'post_read' && tweetIds.includes(charge.resourceId),
    );
    const readDays = new Set(days);
    expect(billedHere.length).toBe(readDays.size * 2);
    const counted = await h.deps.db
      .selectFrom('metric_reads')
      .select((eb) => eb.fn.sum<number>('billed').as('billed'))
      .where('account_id', '=', account.accountId)
      .executeTakeFirstOrThrow();
    expect(Number(counted.billed)).toBe(billedHere.length);
  }, 120_000);

  it('stops a tweet deleted on X or through xgate, and pauses an account that needs reconnecting', async () => {
    const account = await h.makeAccount();
    const start = h.clock.now();
    const onX = await publish(account, ['deleted on X']);
    const viaXgate = await publish(account, ['deleted through xgate']);
    const kept = await publish(account, ['kept']);
    await runUntil(start + 2 * HOUR_MS);
    expect((await snapshots(kept.tweetIds[0]!)).length).toBe(1);

    // Deleted at X by someone else: X answers "not found" at the next read.
    const token = await h.vault.getAccessToken(account.accountId);
    const deleted = await fetch(`${h.emu.url}/2/tweets/${onX.tweetIds[0]}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(deleted.status).toBe(200);
    await h.deps.posts.remove(account.userId, viaXgate.id);
    await runUntil(start + 7 * HOUR_MS);
    expect((await snapshots(kept.tweetIds[0]!)).length).toBe(2);
    expect((await snapshots(onX.tweetIds[0]!)).length).toBe(1);
    expect((await snapshots(viaXgate.tweetIds[0]!)).length).toBe(1);
    const stopped = await h.deps.db
      .selectFrom('metric_targets')
      .select(['tweet_id', 'stopped_reason', 'next_read_at'])
      .where('post_id', 'in', [onX.id, viaXgate.id])
      .execute();
    expect(stopped.map((row) => [row.stopped_reason, row.next_read_at])).toEqual([
      ['deleted', null],
      ['deleted', null],
    ]);

    // Needs reconnect: nothing is read for it; reconnected: it resumes with one read (no catching up).
    await markNeedsReconnect(h.deps.db, account.accountId, 'test: X refused the token', h.clock.now());
    const paused = h.clock.now() + 1;
    await runUntil(start + 3 * DAY_MS);
    const mine = [...onX.tweetIds, ...viaXgate.tweetIds, ...kept.tweetIds];
    expect(lookups(h, paused, mine).length).toBe(0);
    await h.deps.db
      .updateTable('accounts')
      .set({ status: 'active', status_reason: null })
      .where('id', '=', account.accountId)
      .execute();
    const resumed = h.clock.now() + 1;
    await runUntil(resumed + HOUR_MS);
    expect(lookups(h, resumed, mine).length).toBe(1);
    expect((await snapshots(kept.tweetIds[0]!)).length).toBe(3);
  }, 120_000);

  it("collects the account's own tweets not posted through xgate when asked to, and xgate's own once", async () => {
    const account = await h.makeAccount();
    await setTimelineCollection(h.deps.db, account.accountId, true, h.clock.now());
    const start = h.clock.now();
    const ours = await publish(account, ['posted through xgate']);
    const token = await h.vault.getAccessToken(account.accountId);
    const elsewhere = await fetch(`${h.emu.url}/2/tweets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'posted with another app' }),
    });
    const otherId = ((await elsewhere.json()) as { data: { id: string } }).data.id;
    await runUntil(start + 2 * HOUR_MS);
    const targets = await h.deps.db
      .selectFrom('metric_targets')
      .select(['tweet_id', 'post_id'])
      .where('account_id', '=', account.accountId)
      .orderBy('tweet_id')
      .execute();
    expect(targets).toEqual([
      { tweet_id: ours.tweetIds[0], post_id: ours.id },
      { tweet_id: otherId, post_id: null },
    ]);
    expect((await snapshots(otherId)).length).toBe(1);
    expect((await snapshots(ours.tweetIds[0]!)).length).toBe(1);
    // The timeline's reads are counted like X bills them: each tweet once that UTC day.
    const billedByX = h.emu.control
      .billing()
      .charges.filter(
        (charge) =>
          charge.operation === 'post_read' && [otherId, ...ours.tweetIds].includes(charge.resourceId),
      );
    const counted = await h.deps.db
      .selectFrom('metric_reads')
      .select((eb) => eb.fn.sum<number>('billed').as('billed'))
      .where('account_id', '=', account.accountId)
      .executeTakeFirstOrThrow();
    expect(Number(counted.billed)).toBe(billedByX.length);
  });

  it('thins snapshots older than 30 days to the last of each UTC day, and leaves younger ones alone', async () => {
    const account = await h.makeAccount();
    const base = Date.UTC(2026, 0, 5);
    const row = (tweet: string, at: number) => ({
      tweet_id: tweet,
      at,
      day: utcDay(at),
      post_id: null,
      account_id: account.accountId,
      impressions: at % 1000,
      likes: 0,
      replies: 0,
      reposts: 0,
      quotes: 0,
      bookmarks: 0,
      url_clicks: null,
      profile_clicks: null,
      engagements: null,
    });
    const old = [base + HOUR_MS, base + 5 * HOUR_MS, base + 9 * HOUR_MS, base + DAY_MS + HOUR_MS];
    const young = [base + 40 * DAY_MS + HOUR_MS, base + 40 * DAY_MS + 2 * HOUR_MS];
    await h.deps.db
      .insertInto('metric_snapshots')
      .values([...old, ...young].map((at) => row('thin-me', at)))
      .execute();
    const deleted = await thinSnapshots(h.deps.db, base + 35 * DAY_MS, 1000);
    expect(deleted).toBe(2);
    const kept = await h.deps.db
      .selectFrom('metric_snapshots')
      .select('at')
      .where('tweet_id', '=', 'thin-me')
      .orderBy('at')
      .execute();
    expect(kept.map((entry) => Number(entry.at))).toEqual([
      base + 9 * HOUR_MS,
      base + DAY_MS + HOUR_MS,
      ...young,
    ]);
  });

  it('never reads past the caps; reads due beyond them wait for the next UTC day', async () => {
    const capped = h.deps.metricsCollector({ readsPerAccountPerDay: 3 });
    const account = await h.makeAccount();
    const start = h.clock.now();
    const tweets = (await publish(account, ['a', 'b', 'c', 'd', 'e'])).tweetIds;
    h.clock.advance(2 * HOUR_MS);
    while ((await capped.runOnce()) > 0) {}
    const day = utcDay(h.clock.now());
    const reads = await h.deps.db
      .selectFrom('metric_reads')
      .selectAll()
      .where('account_id', '=', account.accountId)
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    expect(Number(reads.reads)).toBe(3);
    expect(lookups(h, start, tweets).flatMap((call) => call.ids)).toHaveLength(3);
    const waiting = await h.deps.db
      .selectFrom('metric_targets')
      .select('next_read_at')
      .where('tweet_id', 'in', tweets)
      .where('last_read_at', 'is', null)
      .execute();
    expect(waiting).toHaveLength(2);
    for (const row of waiting) expect(utcDay(Number(row.next_read_at))).toBe(day + 1);
  });

  it('fills batches of 100, and two workers never read the same tweet at the same time', async () => {
    const account = await h.makeAccount();
    const start = h.clock.now();
    const posts = [];
    for (let i = 0; i < 150; i++) posts.push(await h.makePost(account, [{ text: `batch ${i}` }]));
    await h.drain();
    await collector.intake();
    h.clock.advance(HOUR_MS + 15 * 60_000);
    const second = h.deps.metricsCollector();
    await Promise.all([collector.runOnce(), second.runOnce(), collector.runOnce(), second.runOnce()]);
    while ((await collector.runOnce()) > 0) {}
    const published = await h.deps.db
      .selectFrom('post_items')
      .select('tweet_id')
      .where('post_id', 'in', posts)
      .execute();
    const calls = lookups(
      h,
      start,
      published.map((row) => row.tweet_id!),
    );
    const ids = calls.flatMap((call) => call.ids);
    expect(ids).toHaveLength(150);
    expect(new Set(ids).size).toBe(150);
    expect(calls.map((call) => call.ids.length).sort((a, b) => b - a)[0]).toBe(100);
    expect(calls.length).toBeLessThanOrEqual(3);
  });
});

describeEachDialect('tweet metrics API', (ctx) => {
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

  it("answers a post's series and an account's days as JSON and as CSV with the same numbers; others get 404", async () => {
    const account = await h.makeAccount();
    const collector = h.deps.metricsCollector();
    const start = h.clock.now();
    const postId = await h.makePost(account, [{ text: 'api one' }, { text: 'api two, https://example.com' }]);
    await h.drain();
    for (let at = start; at < start + 4 * DAY_MS; at += HOUR_MS) {
      h.clock.advance(HOUR_MS);
      while ((await collector.runOnce()) > 0) {}
    }
    const client = createHttpClient(url, { bearer: (await makeApiKey(h.deps, account.userId)).key });

    const json = await client.get(`/api/v1/posts/${postId}/metrics`);
    expect(json.status).toBe(200);
    expect(json.json.items).toHaveLength(2);
    const series = json.json.items[0].series;
    expect(series.length).toBeGreaterThanOrEqual(5);
    expect(series[0]).toEqual(
      expect.objectContaining({
        impressions: expect.any(Number),
        urlClicks: expect.any(Number),
        engagements: expect.any(Number),
      }),
    );
    const csv = await client.get(`/api/v1/posts/${postId}/metrics?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(csv.text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(json.json.items[0].series.length + json.json.items[1].series.length);
    const fromCsv = rows
      .filter((row) => row.position === '0')
      .map((row) => ({
        at: Date.parse(row.at!),
        impressions: Number(row.impressions),
        likes: Number(row.likes),
      }));
    expect(fromCsv).toEqual(
      series.map((point: { at: number; impressions: number; likes: number }) => ({
        at: point.at,
        impressions: point.impressions,
        likes: point.likes,
      })),
    );

    const days = await client.get(`/api/v1/accounts/${account.accountId}/metrics`);
    expect(days.status).toBe(200);
    expect(days.json.series).toHaveLength(30);
    const total = days.json.series.reduce(
      (sum: number, day: { impressions: number }) => sum + day.impressions,
      0,
    );
    const latest = json.json.items.reduce(
      (sum: number, item: { series: { impressions: number }[] }) => sum + item.series.at(-1)!.impressions,
      0,
    );
    expect(total).toBe(latest);
    expect(days.json.top[0]).toEqual(expect.objectContaining({ postId, impressions: latest }));
    const daysCsv = parseCsv(
      (await client.get(`/api/v1/accounts/${account.accountId}/metrics?format=csv`)).text,
      {
        columns: true,
      },
    ) as Record<string, string>[];
    expect(daysCsv.map((row) => Number(row.impressions))).toEqual(
      days.json.series.map((day: { impressions: number }) => day.impressions),
    );

    const reads = await client.get('/api/v1/metrics/reads');
    expect(reads.status).toBe(200);
    // The reads X billed this UTC month (the clock may have crossed into a new one; the post and its reply were billed
    // too, as creations, and fall in the same month when the suite starts early in one).
    const billed = h.emu.control
      .billing()
      .charges.filter(
        (charge) => charge.day.startsWith(reads.json.month.month) && charge.operation.endsWith('_read'),
      ).length;
    expect(billed).toBeGreaterThan(0);
    expect(reads.json.month.billedReads).toBe(billed);
    expect(reads.json.month.estimatedUsd).toBeCloseTo(billed * 0.005, 6);

    // Another user sees nothing of them.
    const other = await h.makeAccount();
    const stranger = createHttpClient(url, { bearer: (await makeApiKey(h.deps, other.userId)).key });
    expect((await stranger.get(`/api/v1/posts/${postId}/metrics`)).json.error.code).toBe('post_not_found');
    expect((await stranger.get(`/api/v1/accounts/${account.accountId}/metrics`)).json.error.code).toBe(
      'account_not_found',
    );
    expect((await stranger.get('/api/v1/metrics/reads')).json.month.reads).toBe(0);

    // Timeline collection: off by default, on and off through the API, the owner's only.
    const settingsPath = `/api/v1/accounts/${account.accountId}/metrics/settings`;
    expect((await client.get(settingsPath)).json).toEqual({
      accountId: account.accountId,
      timeline: false,
      timelineSince: null,
    });
    const on = await client.request('PUT', settingsPath, {
      body: JSON.stringify({ timeline: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect(on.json).toEqual({ accountId: account.accountId, timeline: true, timelineSince: h.clock.now() });
    expect((await stranger.get(settingsPath)).status).toBe(404);
    expect(
      (
        await client.request('PUT', settingsPath, {
          body: JSON.stringify({ timeline: 'yes' }),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);

    // Bad periods are a 400 that says why.
    const backwards = await client.get(
      `/api/v1/accounts/${account.accountId}/metrics?from=2026-02-01&to=2026-01-01`,
    );
    expect(backwards.status).toBe(400);
    expect((await client.get(`/api/v1/accounts/${account.accountId}/metrics?from=yesterday`)).status).toBe(
      400,
    );
  }, 60_000);
});
