import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpClient,
  describeEachDialect,
  makeSignedInUser,
  SESSION_COOKIE,
  startTestService,
  type TestService,
} from './helpers/index.ts';

describeEachDialect('API keys', (ctx) => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir });
  });
  afterAll(() => service?.stop());

  async function signedInClient() {
    const { user, cookie } = await makeSignedInUser(service.app.deps);
    const client = createHttpClient(service.url);
    client.setCookie(SESSION_COOKIE, cookie);
    return { user, client };
  }

  async function storedKeys(userId: string) {
    return service.app.deps.db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).execute();
  }

  it('creates a key shown once, lists it without the secret, and stores only its hash', async () => {
    const { user, client } = await signedInClient();
    const created = await client.post('/api/v1/api-keys', { name: 'deploy script' });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^xg_[A-Za-z0-9_-]{43}$/);
    expect(created.json).toMatchObject({ name: 'deploy script', lastUsedAt: null });
    expect(created.json.key.startsWith(created.json.prefix)).toBe(true);

    const list = await client.get('/api/v1/api-keys');
    expect(list.status).toBe(200);
    expect(list.json).toEqual([
      {
        id: created.json.id,
        name: 'deploy script',
        prefix: created.json.prefix,
        createdAt: created.json.createdAt,
        lastUsedAt: null,
      },
    ]);
    expect(list.text).not.toContain(created.json.key);

    const rows = await storedKeys(user.id);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(created.json.key);
    expect(rows[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('authenticates with the key, and answers 401 once it is revoked', async () => {
    const { user, client } = await signedInClient();
    const { json: created } = await client.post('/api/v1/api-keys', { name: 'ci' });
    const bearer = createHttpClient(service.url, { bearer: created.key, csrf: false });

    const me = await bearer.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ id: user.id, accounts: [] });
    // API-key requests need no CSRF header.
    const second = await bearer.post('/api/v1/api-keys', { name: 'made with a key' });
    expect(second.status).toBe(201);

    const revoked = await client.delete(`/api/v1/api-keys/${created.id}`);
    expect(revoked.status).toBe(204);
    const after = await bearer.get('/api/v1/me');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('unauthorized');
    expect((await client.get('/api/v1/api-keys')).json.map((k: { id: string }) => k.id)).toEqual([
      second.json.id,
    ]);
    expect((await client.delete(`/api/v1/api-keys/${created.id}`)).status).toBe(404);
  });

  it("answers 404 for another user's key and leaves it working", async () => {
    const a = await signedInClient();
    const b = await signedInClient();
    const { json: keyA } = await a.client.post('/api/v1/api-keys', { name: 'a' });

    const attempt = await b.client.delete(`/api/v1/api-keys/${keyA.id}`);
    expect(attempt.status).toBe(404);
    expect(attempt.json.error.code).toBe('api_key_not_found');
    expect((await b.client.get('/api/v1/api-keys')).json).toEqual([]);
    expect((await createHttpClient(service.url, { bearer: keyA.key }).get('/api/v1/me')).status).toBe(200);
  });

  it('rejects bad input with 400 invalid_request and stores nothing', async () => {
    const { user, client } = await signedInClient();
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 5 },
      { name: 'ok', extra: 1 },
    ]) {
      const answer = await client.post('/api/v1/api-keys', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.code).toBe('invalid_request');
      expect(answer.json.error.message).toMatch(/\S+/);
    }
    const notJson = await client.request('POST', '/api/v1/api-keys', {
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe('invalid_json');
    expect(await storedKeys(user.id)).toEqual([]);
  });

  it('answers 401 to anonymous and malformed credentials', async () => {
    const anonymous = createHttpClient(service.url);
    expect((await anonymous.get('/api/v1/api-keys')).json.error.code).toBe('unauthorized');
    for (const authorization of ['Bearer xg_not-a-real-key', 'Basic abc', 'Bearer']) {
      const answer = await anonymous.get('/api/v1/me', { headers: { authorization } });
      expect(answer.status, authorization).toBe(401);
      expect(answer.json.error.code).toBe('unauthorized');
    }
  });
});

describe('API keys [route list]', () => {
  it('are documented in the OpenAPI document', async () => {
    const { loadConfig } = await import('../src/config/index.ts');
    const { createApp } = await import('../src/server.ts');
    const { makeTempDir } = await import('./helpers/index.ts');
    const dir = makeTempDir();
    const app = await createApp(
      loadConfig({ XGATE_DATA_DIR: dir.path, LOG_LEVEL: 'silent', X_CLIENT_ID: 'x' }),
      {
        worker: false,
      },
    );
    try {
      const doc = (await app.http!.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/v1/me', '/api/v1/api-keys', '/api/v1/api-keys/{id}', '/auth/logout']),
      );
      expect(doc.paths['/api/v1/api-keys'].post.requestBody).toBeDefined();
    } finally {
      await app.stop();
      dir.remove();
    }
  });
});
