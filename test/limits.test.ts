import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpClient,
  createTestClock,
  makeApiClient,
  makeApiKey,
  makeTempDir,
  startTestService,
  type TestService,
} from './helpers/index.ts';

describe('request limits (per process)', () => {
  const dir = makeTempDir();
  const clock = createTestClock();
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: `sqlite:${dir.path}/xgate.db`,
      dataDir: dir.path,
      clock,
      env: {
        XGATE_RATE_LIMIT_API_PER_MINUTE: '5',
        XGATE_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3',
        XGATE_RATE_LIMIT_SIGNIN_PER_MINUTE: '2',
        XGATE_MAX_API_KEYS_PER_USER: '3',
      },
    });
  });
  afterAll(async () => {
    await service?.stop();
    dir.remove();
  });

  it('limits each API key to XGATE_RATE_LIMIT_API_PER_MINUTE with 429 rate_limited and Retry-After', async () => {
    const { user, client } = await makeApiClient(service);
    for (let i = 0; i < 5; i++) expect((await client.get('/api/v1/me')).status).toBe(200);
    const limited = await client.get('/api/v1/me');
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/API key/),
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another key of the same user has its own allowance; health checks have none.
    const { key } = await makeApiKey(service.app.deps, user.id);
    expect((await createHttpClient(service.url, { bearer: key }).get('/api/v1/me')).status).toBe(200);
    expect((await client.get('/healthz')).status).toBe(200);
    clock.advance(60_000);
    expect((await client.get('/api/v1/me')).status).toBe(200);
  });

  it('after XGATE_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE wrong keys, bearer requests from that address get 429', async () => {
    clock.advance(60_000);
    const guesser = createHttpClient(service.url, { bearer: 'xg_wrong' });
    for (let i = 0; i < 3; i++) expect((await guesser.get('/api/v1/me')).status).toBe(401);
    const blocked = await guesser.get('/api/v1/me');
    expect([blocked.status, blocked.json.error.code]).toEqual([429, 'rate_limited']);
    expect(blocked.headers.get('retry-after')).toBeTruthy();
    clock.advance(60_000);
    expect((await guesser.get('/api/v1/me')).status).toBe(401);
  });

  it('limits sign-in attempts per address', async () => {
    const browser = createHttpClient(service.url);
    expect((await browser.get('/auth/x/login')).status).toBe(302);
    expect((await browser.get('/auth/x/login')).status).toBe(302);
    const limited = await browser.get('/auth/x/login');
    expect([limited.status, limited.json.error.code]).toEqual([429, 'rate_limited']);
    expect((await browser.get('/auth/x/callback?code=a&state=b')).status).toBe(429);
    clock.advance(60_000);
  });

  it('caps the active API keys of a user; revoking one makes room', async () => {
    clock.advance(60_000);
    const { client } = await makeApiClient(service);
    const first = await client.post('/api/v1/api-keys', { name: 'two' });
    expect((await client.post('/api/v1/api-keys', { name: 'three' })).status).toBe(201);
    const refused = await client.post('/api/v1/api-keys', { name: 'four' });
    expect([refused.status, refused.json.error.code]).toEqual([422, 'api_key_limit']);
    expect(refused.json.error.message).toMatch(/Revoke/);
    expect((await client.delete(`/api/v1/api-keys/${first.json.id}`)).status).toBe(204);
    expect((await client.post('/api/v1/api-keys', { name: 'four' })).status).toBe(201);
  });
});
