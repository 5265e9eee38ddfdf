import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeAccount } from './fixtures/accounts.ts';
import {
  countRows,
  createHttpClient,
  createPostgresDatabase,
  createTestClock,
  describeEachDialect,
  makeApiClient,
  makeApiKey,
  makeTempDir,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

describeEachDialect('posting schedules: "add to queue"', (ctx) => {
  // Thursday 2026-03-26 12:00 UTC: Berlin changes to summer time on Sunday the 29th, New York on the 8th.
  const clock = createTestClock(Date.parse('2026-03-26T12:00:00Z'));
  let service: TestService;
  let client: TestHttpClient;
  let userId: string;

  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: { XGATE_SCHEDULE_HORIZON_DAYS: '30', X_TIER: 'unlimited' },
    });
    const made = await makeApiClient(service);
    client = made.client;
    userId = made.user.id;
  });
  afterAll(() => service?.stop());

  const account = async () => (await makeAccount(service.app.deps, userId)).id;
  const queue = (accountId: string, text: string) =>
    client.post('/api/v1/posts', { accountId, items: [{ text }], scheduledAt: 'next_slot' });
  const iso = (ms: number) => new Date(ms).toISOString();

  it('validates the schedule with clear messages', async () => {
    const id = await account();
    const badZone = await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'Europe/Atlantis', slots: [] },
    });
    expect([badZone.status, badZone.json.error.code]).toEqual([400, 'invalid_request']);
    expect(badZone.json.error.message).toMatch(/`timezone` is not an IANA time zone/);
    const badTime = await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'UTC', slots: [{ days: ['mon'], time: '25:00' }] },
    });
    expect(badTime.json.error.message).toMatch(/`slots.0.time` must be a wall-clock time "HH:MM"/);
    const badRange = await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'UTC', slots: [], blackout: [{ from: '2026-04-02', to: '2026-04-01' }] },
    });
    expect(badRange.json.error.message).toMatch(/ends before it starts/);
    const other = await makeApiClient(service);
    expect((await other.client.get(`/api/v1/accounts/${id}/schedule`)).status).toBe(404);
    const none = await queue(id, 'no slots yet');
    expect([none.status, none.json.error.code]).toEqual([422, 'no_schedule']);
    expect(none.json.error.message).toMatch(/PUT \/api\/v1\/accounts\/.+\/schedule/);
  });

  it('slots keep their wall-clock time across daylight-saving changes (Berlin, New York)', async () => {
    const berlin = await account();
    const set = await client.request('PUT', `/api/v1/accounts/${berlin}/schedule`, {
      json: { timezone: 'Europe/Berlin', slots: [{ days: ALL_DAYS, time: '08:30' }] },
    });
    expect(set.status).toBe(200);
    expect(set.json.upcoming.slice(0, 4)).toEqual([
      '2026-03-27T07:30:00.000Z',
      '2026-03-28T07:30:00.000Z',
      '2026-03-29T06:30:00.000Z',
      '2026-03-30T06:30:00.000Z',
    ]);
    const times: string[] = [];
    for (let i = 0; i < 4; i++) times.push(iso((await queue(berlin, `berlin ${i}`)).json.scheduledAt));
    expect(times).toEqual(set.json.upcoming.slice(0, 4));

    const newYork = await account();
    const ny = await client.request('PUT', `/api/v1/accounts/${newYork}/schedule`, {
      json: { timezone: 'America/New_York', slots: [{ days: ALL_DAYS, time: '09:00' }] },
    });
    // New York is already on summer time (EDT, -4) since March 8th; it is 08:00 there now.
    expect(ny.json.upcoming.slice(0, 2)).toEqual(['2026-03-26T13:00:00.000Z', '2026-03-27T13:00:00.000Z']);
  });

  it('skips blackout dates and respects spacing', async () => {
    const id = await account();
    await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: {
        timezone: 'UTC',
        slots: [
          { days: WEEKDAYS, time: '09:00' },
          { days: WEEKDAYS, time: '09:03' },
        ],
        blackout: [{ from: '2026-03-27', to: '2026-03-30' }],
        spacingMinutes: 5,
      },
    });
    // A post at 09:01 on the 31st holds both slots (within 5 minutes).
    const own = await client.post('/api/v1/posts', {
      accountId: id,
      items: [{ text: 'my own time' }],
      scheduledAt: '2026-03-31T09:01:00Z',
    });
    expect(own.status).toBe(201);
    const first = await queue(id, 'first in queue');
    expect(iso(first.json.scheduledAt)).toBe('2026-04-01T09:00:00.000Z');
    expect(first.json.queueSlotAt).toBe(first.json.scheduledAt);
    // 09:03 is within 5 minutes of 09:00: the next is the 2nd.
    expect(iso((await queue(id, 'second in queue')).json.scheduledAt)).toBe('2026-04-02T09:00:00.000Z');
  });

  it('a full queue up to the horizon answers 422 no_free_slot saying why', async () => {
    const id = await account();
    await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'UTC', slots: [{ days: ['sun'], time: '10:00' }] },
    });
    // Sundays within 30 days of Thursday 2026-03-26: the 29th, 5th, 12th, 19th.
    for (let i = 0; i < 4; i++) expect((await queue(id, `sunday ${i}`)).status).toBe(201);
    const full = await queue(id, 'one too many');
    expect([full.status, full.json.error.code]).toEqual([422, 'no_free_slot']);
    expect(full.json.error.message).toMatch(/of 4 slots, 4 hold another post/);
  });

  it('canceling frees the slot; with pullForward the later posts move up; move to top and shuffle reorder', async () => {
    const id = await account();
    await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'UTC', slots: [{ days: ALL_DAYS, time: '12:00' }], pullForward: true },
    });
    const posts = [];
    for (const text of ['a', 'b', 'c', 'd']) posts.push((await queue(id, text)).json);
    const slots = posts.map((p) => p.scheduledAt);
    expect((await client.delete(`/api/v1/posts/${posts[1].id}`)).status).toBe(204);
    const order = async () =>
      (await client.get(`/api/v1/accounts/${id}/queue`)).json.items.map(
        (p: { items: [{ text: string }]; scheduledAt: number }) => [p.items[0].text, p.scheduledAt],
      );
    expect(await order()).toEqual([
      ['a', slots[0]],
      ['c', slots[1]],
      ['d', slots[2]],
    ]);
    const top = await client.post(`/api/v1/posts/${posts[3].id}/move-to-top`);
    expect(top.json.scheduledAt).toBe(slots[0]);
    expect(await order()).toEqual([
      ['d', slots[0]],
      ['a', slots[1]],
      ['c', slots[2]],
    ]);
    const shuffled = await client.post(`/api/v1/accounts/${id}/queue/shuffle`);
    expect(shuffled.json.items.map((p: { scheduledAt: number }) => p.scheduledAt)).toEqual(slots.slice(0, 3));
    expect(shuffled.json.items.map((p: { items: [{ text: string }] }) => p.items[0].text).sort()).toEqual([
      'a',
      'c',
      'd',
    ]);
    // A post with a time of its own is not in the queue.
    const own = await client.post('/api/v1/posts', {
      accountId: id,
      items: [{ text: 'own' }],
      scheduledAt: clock.now() + DAY,
    });
    const notQueued = await client.post(`/api/v1/posts/${own.json.id}/move-to-top`);
    expect([notQueued.status, notQueued.json.error.code]).toEqual([409, 'post_not_queued']);
  });

  it('concurrent "add to queue" requests never get the same slot, also from a second process', async () => {
    const id = await account();
    await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: {
        timezone: 'UTC',
        slots: [
          { days: ALL_DAYS, time: '07:00' },
          { days: ALL_DAYS, time: '19:00' },
        ],
      },
    });
    const other = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: {
        XGATE_SECRET_KEY: service.app.deps.config.secretKey.toString('base64'),
        XGATE_SCHEDULE_HORIZON_DAYS: '30',
        X_TIER: 'unlimited',
      },
    });
    try {
      const { key } = await makeApiKey(service.app.deps, userId);
      const elsewhere = createHttpClient(other.url, { bearer: key });
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? client : elsewhere).post('/api/v1/posts', {
            accountId: id,
            items: [{ text: `racing ${i}` }],
            scheduledAt: 'next_slot',
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
      const times = answers.map((a) => a.json.scheduledAt);
      expect(new Set(times).size).toBe(20);
      // The first 20 slots, every one taken once.
      const expected = (await client.get(`/api/v1/accounts/${id}/queue`)).json.items.map(
        (p: { scheduledAt: number }) => p.scheduledAt,
      );
      expect([...times].sort((a, b) => a - b)).toEqual(expected);
    } finally {
      await other.stop();
    }
  });

  it('on the free tier (17 tweets a day) the queue skips the slots the budget cannot take', async () => {
    // A database of its own: the free tier's 17 a day also counts for the whole app, so other tests' posts would.
    const dir = makeTempDir();
    const pgDatabase = ctx.dialect === 'postgres' ? await createPostgresDatabase() : null;
    const free = await startTestService({
      databaseUrl: pgDatabase?.url ?? `sqlite:${dir.path}/free.db`,
      dataDir: dir.path,
      clock,
      env: { XGATE_SCHEDULE_HORIZON_DAYS: '30', X_TIER: 'free' },
    });
    try {
      const { client: owner, user } = await makeApiClient(free);
      const id = (await makeAccount(free.app.deps, user.id)).id;
      const halfHours = Array.from(
        { length: 48 },
        (_, i) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`,
      );
      await owner.request('PUT', `/api/v1/accounts/${id}/schedule`, {
        json: { timezone: 'UTC', slots: halfHours.map((time) => ({ days: ALL_DAYS, time })) },
      });
      const times: number[] = [];
      for (let i = 0; i < 18; i++) {
        const answer = await owner.post('/api/v1/posts', {
          accountId: id,
          items: [{ text: `free tier ${i}` }],
          scheduledAt: 'next_slot',
        });
        expect(answer.status).toBe(201);
        times.push(answer.json.scheduledAt);
      }
      // 17 in consecutive half-hours from 12:30; the 18th waits until the first leaves the 24-hour window.
      expect(times[16]! - times[0]!).toBe(16 * 30 * 60_000);
      expect(times[17]! - times[0]!).toBeGreaterThanOrEqual(DAY);
      expect(iso(times[17]!)).toBe(iso(times[0]! + DAY));
    } finally {
      await free.stop();
      await pgDatabase?.drop();
      dir.remove();
    }
  });

  it('imports 1,000 posts all or nothing; skipInvalid creates the good ones; a retried import creates nothing twice', async () => {
    const id = await account();
    await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'UTC', slots: [{ days: ALL_DAYS, time: '06:00' }] },
    });
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      accountId: id,
      items: [{ text: `imported ${i}` }],
      scheduledAt: i < 5 ? 'next_slot' : clock.now() + DAY + i * 60_000,
    }));
    rows[10] = { ...rows[10]!, items: [{ text: 'x'.repeat(300) }] };
    rows[500] = { ...rows[500]!, accountId: 'no-such-account' };
    rows[999] = { ...rows[999]!, scheduledAt: clock.now() - DAY };
    const count = () => countRows(service.app.deps.db, 'posts', { account_id: id });

    const refused = await client.post('/api/v1/posts/import', { posts: rows });
    expect([refused.status, refused.json.error.code]).toEqual([422, 'import_invalid']);
    expect(
      refused.json.error.details.rows.map((r: { row: number; code: string }) => [r.row, r.code]),
    ).toEqual([
      [10, 'text_too_long'],
      [500, 'account_not_found'],
      [999, 'scheduled_in_past'],
    ]);
    expect(await count()).toBe(0);

    const withKey = { headers: { 'idempotency-key': 'import-1000' } };
    const imported = await client.post('/api/v1/posts/import', { posts: rows, skipInvalid: true }, withKey);
    expect(imported.status).toBe(201);
    expect(imported.json.items).toHaveLength(997);
    expect(imported.json.skipped.map((r: { row: number }) => r.row)).toEqual([10, 500, 999]);
    // The queued rows took the queue's first five slots, in row order.
    expect(imported.json.items.slice(0, 5).map((p: { scheduledAt: number }) => iso(p.scheduledAt))).toEqual([
      '2026-03-27T06:00:00.000Z',
      '2026-03-28T06:00:00.000Z',
      '2026-03-29T06:00:00.000Z',
      '2026-03-30T06:00:00.000Z',
      '2026-03-31T06:00:00.000Z',
    ]);
    const again = await client.post('/api/v1/posts/import', { posts: rows, skipInvalid: true }, withKey);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await count()).toBe(997);
  });

  it('imports CSV: a header row, one post per row, next_slot or a time', async () => {
    const id = await account();
    await client.request('PUT', `/api/v1/accounts/${id}/schedule`, {
      json: { timezone: 'UTC', slots: [{ days: ALL_DAYS, time: '18:00' }] },
    });
    const csv = `accountId,scheduledAt,text\n${id},next_slot,"From CSV, with a comma"\n${id},2026-04-10T10:00:00Z,Second row\n`;
    const answer = await client.request('POST', '/api/v1/posts/import', {
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(answer.status).toBe(201);
    expect(
      answer.json.items.map((p: { items: [{ text: string }]; scheduledAt: number }) => [
        p.items[0].text,
        iso(p.scheduledAt),
      ]),
    ).toEqual([
      ['From CSV, with a comma', '2026-03-26T18:00:00.000Z'],
      ['Second row', '2026-04-10T10:00:00.000Z'],
    ]);
    const broken = await client.request('POST', '/api/v1/posts/import', {
      body: 'accountId,text\n"unterminated',
      headers: { 'content-type': 'text/csv' },
    });
    expect([broken.status, broken.json.error.code]).toEqual([400, 'invalid_request']);
  });
});
