import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAccount } from './fixtures/accounts.ts';
import {
  makeApiClient,
  makeTempDir,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

/**
 * Messages a person can act on: each case asserts the status and code (what scripts branch on) and that the
 * message names the field and says what to do (by key words, not whole sentences).
 */
describe('error messages say what is wrong and what to do', () => {
  const dir = makeTempDir();
  let service: TestService;
  let client: TestHttpClient;
  let accountId: string;
  beforeAll(async () => {
    service = await startTestService({ databaseUrl: `sqlite:${dir.path}/xgate.db`, dataDir: dir.path });
    const made = await makeApiClient(service);
    client = made.client;
    accountId = (await makeAccount(service.app.deps, made.user.id, { username: 'newsroom' })).id;
  });
  afterAll(async () => {
    await service?.stop();
    dir.remove();
  });

  const hour = 3_600_000;
  const cases: Array<{
    name: string;
    send: () => Promise<{
      status: number;
      json: { error: { code: string; message: string; details?: unknown } };
    }>;
    status: number;
    code: string;
    words: RegExp[];
    details?: unknown;
  }> = [
    {
      name: 'a post without accountId',
      send: () => client.post('/api/v1/posts', { items: [{ text: 'hi' }] }),
      status: 400,
      code: 'invalid_request',
      words: [/`accountId` is required/, /GET \/api\/v1\/accounts/],
      details: [{ in: 'body', field: 'accountId', message: expect.stringMatching(/is required/) }],
    },
    {
      name: 'an unknown accountId',
      send: () =>
        client.post('/api/v1/posts', {
          accountId: '3f1f0b9e-0000-4000-8000-000000000000',
          items: [{ text: 'hi' }],
        }),
      status: 404,
      code: 'account_not_found',
      words: [/3f1f0b9e-0000-4000-8000-000000000000/, /GET \/api\/v1\/accounts/],
    },
    {
      name: 'a username passed as accountId',
      send: () => client.post('/api/v1/posts', { accountId: '@NewsRoom', items: [{ text: 'hi' }] }),
      status: 404,
      code: 'account_not_found',
      words: [/@NewsRoom/, /looks like an X username/, /has the id "[0-9a-f-]{36}"/],
    },
    {
      name: 'a username of no account of yours',
      send: () => client.post('/api/v1/posts', { accountId: '@someone', items: [{ text: 'hi' }] }),
      status: 404,
      code: 'account_not_found',
      words: [/@someone/, /connect it first/],
    },
    {
      name: 'scheduledAt in the past',
      send: () =>
        client.post('/api/v1/posts', {
          accountId,
          items: [{ text: 'hi' }],
          scheduledAt: Date.now() - 2 * hour,
        }),
      status: 422,
      code: 'scheduled_in_past',
      words: [/in the past/, /leave `scheduledAt` out/],
    },
    {
      name: 'scheduledAt in epoch seconds',
      send: () =>
        client.post('/api/v1/posts', {
          accountId,
          items: [{ text: 'hi' }],
          scheduledAt: Math.floor(Date.now() / 1000) + 3600,
        }),
      status: 422,
      code: 'scheduled_in_past',
      words: [/seconds/, /milliseconds/, /leave `scheduledAt` out/],
    },
    {
      name: 'an ISO date-time without an offset',
      send: () =>
        client.post('/api/v1/posts', {
          accountId,
          items: [{ text: 'hi' }],
          scheduledAt: '2030-12-01T09:00:00',
        }),
      status: 400,
      code: 'invalid_request',
      words: [/`scheduledAt`/, /offset/, /`Z`/, /2030-12-01T09:00:00Z/],
      details: [{ in: 'body', field: 'scheduledAt', message: expect.stringMatching(/offset/) }],
    },
    {
      name: 'truncated JSON',
      send: () =>
        client.request('POST', '/api/v1/posts', {
          body: '{"accountId": "x", "items": [',
          headers: { 'content-type': 'application/json' },
        }),
      status: 400,
      code: 'invalid_json',
      words: [/line 1, column 30/, /end of JSON/i],
    },
    {
      name: 'single quotes',
      send: () =>
        client.request('POST', '/api/v1/posts', {
          body: "{\n  'accountId': 'x'\n}",
          headers: { 'content-type': 'application/json' },
        }),
      status: 400,
      code: 'invalid_json',
      words: [/line 2, column 3/, /double quotes/],
    },
    {
      name: 'text too long in the second item',
      send: () =>
        client.post('/api/v1/posts', { accountId, items: [{ text: 'ok' }, { text: 'a'.repeat(300) }] }),
      status: 422,
      code: 'text_too_long',
      words: [/items\[1\] \(the 2nd item\)/, /300/, /280/, /POST \/api\/v1\/threads\/split/],
      details: { item: 1, field: 'text', weightedLength: 300, limit: 280 },
    },
    {
      name: 'an unknown field',
      send: () => client.post('/api/v1/posts', { accountId, items: [{ text: 'hi', media: ['x'] }] }),
      status: 400,
      code: 'invalid_request',
      words: [/"media" is not a field of `items.0`/],
    },
    {
      name: 'a wrong type',
      send: () => client.post('/api/v1/posts', { accountId, items: 'hello' }),
      status: 400,
      code: 'invalid_request',
      words: [/`items` must be a list/],
    },
    {
      name: 'a query value out of range',
      send: () => client.get('/api/v1/posts?limit=500'),
      status: 400,
      code: 'invalid_request',
      words: [/`limit` is too large: at most 100/],
      details: [{ in: 'querystring', field: 'limit', message: expect.any(String) }],
    },
    {
      name: 'a value not among the allowed ones',
      send: () => client.get('/api/v1/posts?status=sent'),
      status: 400,
      code: 'invalid_request',
      words: [/`status` must be one of "scheduled", "publishing"/],
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const answer = await c.send();
      if (process.env.SHOW_MESSAGES) console.log(c.name, '→', answer.json.error.message);
      expect([answer.status, answer.json.error.code]).toEqual([c.status, c.code]);
      for (const word of c.words) expect(answer.json.error.message).toMatch(word);
      if (c.details !== undefined) expect(answer.json.error.details).toMatchObject(c.details as object);
    });
  }

  it('a canceled scheduled post reads canceled item by item', async () => {
    const created = await client.post('/api/v1/posts', {
      accountId,
      items: [{ text: 'one' }, { text: 'two' }],
      scheduledAt: Date.now() + hour,
    });
    expect((await client.delete(`/api/v1/posts/${created.json.id}`)).status).toBe(204);
    const post = await client.get(`/api/v1/posts/${created.json.id}`);
    expect(post.json.status).toBe('canceled');
    expect(post.json.items.map((i: { status: string }) => i.status)).toEqual(['canceled', 'canceled']);
  });
});
