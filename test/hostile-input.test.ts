import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeAccount } from './fixtures/accounts.ts';
import {
  countRows,
  describeEachDialect,
  makeApiClient,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const rawCursor = (text: string) => Buffer.from(text).toString('base64url');
const cursorOf = (value: unknown) => rawCursor(JSON.stringify(value));

describeEachDialect('hostile and malformed input gets a 4xx and changes nothing', (ctx) => {
  let service: TestService;
  let client: TestHttpClient;
  let accountId: string;
  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      // Far below what the pathological texts below need on any machine, so their outcome does not depend on speed.
      env: { XGATE_TEXT_TIMEOUT_MS: '300' },
    });
    const made = await makeApiClient(service);
    client = made.client;
    accountId = (await makeAccount(service.app.deps, made.user.id)).id;
  });
  afterAll(() => service?.stop());

  const count = (table: 'posts' | 'media' | 'idempotency_keys') => countRows(service.app.deps.db, table);

  it('router errors answer in the contract’s shape with a request id', async () => {
    const long = await client.get(`/api/v1/posts/${'a'.repeat(150)}`);
    expect(long.status).toBe(414);
    expect(long.json).toEqual({ error: { code: 'uri_too_long', message: expect.stringMatching(/100/) } });
    expect(long.headers.get('x-request-id')).toBeTruthy();
    const badEncoding = await client.get('/api/v1/posts/%E0%A4%A');
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.json).toEqual({ error: { code: 'invalid_url', message: expect.any(String) } });
  });

  it('a multipart body without a boundary, or cut short, is 400 invalid_multipart and leaves no file', async () => {
    const noBoundary = await client.request('POST', '/api/v1/media', {
      body: 'abc',
      headers: { 'content-type': 'multipart/form-data' },
    });
    expect([noBoundary.status, noBoundary.json.error.code]).toEqual([400, 'invalid_multipart']);
    const truncated = await client.request('POST', '/api/v1/media', {
      body: '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG\r\n\x1a\n',
      headers: { 'content-type': 'multipart/form-data; boundary=XX', 'idempotency-key': 'upload-1' },
    });
    expect([truncated.status, truncated.json.error.code]).toEqual([400, 'invalid_multipart']);
    expect(await count('media')).toBe(0);
    const mediaDir = join(ctx.dataDir, 'media');
    const leftovers = (() => {
      try {
        return readdirSync(mediaDir);
      } catch {
        return [];
      }
    })();
    expect(leftovers).toEqual([]);
  });

  it('deeply nested JSON is 400 json_too_deep, with or without an Idempotency-Key', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    for (const headers of [{}, { 'idempotency-key': 'deep-1' }] as Record<string, string>[]) {
      const answer = await client.request('POST', '/api/v1/posts', {
        body: deep,
        headers: { 'content-type': 'application/json', ...headers },
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatchObject({ code: 'json_too_deep', details: { limit: 32 } });
    }
    const nestedObjects = await client.request('POST', '/api/v1/threads/split', {
      body: `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(nestedObjects.json.error.code).toBe('json_too_deep');
    expect(await count('idempotency_keys')).toBe(0);
    expect((await client.get('/healthz')).status).toBe(200);
  });

  it('U+0000 in the body or the query is 400 naming the field, on both databases', async () => {
    const inText = await client.post('/api/v1/posts', { accountId, items: [{ text: 'hello\u0000world' }] });
    expect(inText.status).toBe(400);
    expect(inText.json.error).toMatchObject({
      code: 'invalid_request',
      details: [{ in: 'body', field: 'items.0.text', message: expect.stringMatching(/U\+0000/) }],
    });
    const inQuery = await client.get('/api/v1/posts?accountId=a%00b');
    expect(inQuery.status).toBe(400);
    expect(inQuery.json.error.details[0]).toMatchObject({ in: 'querystring', field: 'accountId' });
    const inKey = await client.post('/api/v1/threads/split', { text: 'x', 'a\u0000': 1 });
    expect(inKey.status).toBe(400);
    const inAlt = new FormData();
    inAlt.append('altText', 'a\u0000b');
    const alt = await client.request('POST', '/api/v1/media', { body: inAlt });
    expect([alt.status, alt.json.error.details?.[0]?.field]).toEqual([400, 'altText']);
    expect(await count('posts')).toBe(0);
  });

  it('malformed cursors are 400 invalid_cursor, never a database error', async () => {
    const cursors = [
      rawCursor('[1e400,"x"]'),
      cursorOf([1.5, 'x']),
      cursorOf([-1, 'x']),
      cursorOf(['1', 'x']),
      cursorOf([1, 'a\u0000b']),
      cursorOf([1, 'x'.repeat(200)]),
      cursorOf([1, 'x', 'extra']),
      cursorOf({ createdAt: 1 }),
      'bm90IGpzb24',
    ];
    for (const cursor of cursors) {
      const answer = await client.get(`/api/v1/posts?cursor=${cursor}`);
      expect([cursor, answer.status, answer.json.error?.code]).toEqual([cursor, 400, 'invalid_cursor']);
    }
    expect((await client.get(`/api/v1/posts?cursor=${cursorOf([Date.now(), 'x'])}`)).status).toBe(200);
  });

  it('a pathological text gets 422 text_too_complex while /healthz and a normal post are answered first', async () => {
    const finished: string[] = [];
    const slow = client.post('/api/v1/threads/split', { text: 'a.'.repeat(20_000) }).then((answer) => {
      finished.push('split');
      return answer;
    });
    const slowPost = client
      .post('/api/v1/posts', { accountId, items: [{ text: 'a.'.repeat(25_000) }] })
      .then((answer) => {
        finished.push('slow post');
        return answer;
      });
    // Give the slow requests a head start into the text workers.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const health = await client.get('/healthz');
    finished.push('healthz');
    const normal = await client.post('/api/v1/posts', { accountId, items: [{ text: 'A normal post.' }] });
    finished.push('normal post');
    expect(health.status).toBe(200);
    expect(normal.status).toBe(201);

    const [split, post] = await Promise.all([slow, slowPost]);
    expect([split.status, split.json.error.code]).toEqual([422, 'text_too_complex']);
    expect([post.status, post.json.error.code]).toEqual([422, 'text_too_complex']);
    expect(finished.indexOf('healthz')).toBeLessThan(finished.indexOf('split'));
    expect(finished.indexOf('normal post')).toBeLessThan(finished.indexOf('split'));
    expect(await count('posts')).toBe(1);
  });

  it('text over 50,000 characters is refused before any parsing', async () => {
    const answer = await client.post('/api/v1/threads/split', { text: 'a'.repeat(50_001) });
    expect(answer.status).toBe(400);
    expect(answer.json.error.details[0]).toMatchObject({ in: 'body', field: 'text' });
  });
});
