import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RouteModule } from '../src/http/types.ts';
import { routeModules } from '../src/modules.ts';
import {
  createHttpClient,
  createTestClock,
  describeEachDialect,
  makeSessionCookie,
  makeSignedInUser,
  SESSION_COOKIE,
  startTestService,
  type TestService,
} from './helpers/index.ts';

/** What the sign-in callback does with the session helpers, exposed for the test. */
const testRoutes: RouteModule = (app, deps) => {
  app.post('/test/sign-in', async (request, reply) => {
    await deps.sessions.start(reply, (request.body as { userId: string }).userId);
    return reply.status(204).send();
  });
  app.post('/test/sealed', async (request, reply) => {
    deps.sessions.setSealedCookie(reply, 'xgate_oauth', (request.body as { value: unknown }).value, 600);
    return reply.status(204).send();
  });
  app.get('/test/sealed', async (request) => ({
    value: deps.sessions.readSealedCookie(request, 'xgate_oauth'),
  }));
};

describeEachDialect('sessions and CSRF', (ctx) => {
  let service: TestService;
  const clock = createTestClock();
  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      overrides: { routeModules: [...routeModules, testRoutes] },
    });
  });
  afterAll(() => service?.stop());

  async function signedIn(csrf = true) {
    const { user, cookie } = await makeSignedInUser(service.app.deps);
    const client = createHttpClient(service.url, { csrf });
    client.setCookie(SESSION_COOKIE, cookie);
    return { user, client };
  }

  it('authenticates GET requests by the session cookie', async () => {
    const { user, client } = await signedIn(false);
    const me = await client.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json.id).toBe(user.id);
  });

  it('refuses a cookie-authenticated state change without the CSRF header, storing nothing', async () => {
    const { user, client } = await signedIn(false);
    const answer = await client.post('/api/v1/api-keys', { name: 'sneaky' });
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe('csrf_required');
    const rows = await service.app.deps.db
      .selectFrom('api_keys')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([]);

    const withHeader = await client.post('/api/v1/api-keys', { name: 'fine' }, { csrf: true });
    expect(withHeader.status).toBe(201);
    const wrongValue = await client.post(
      '/api/v1/api-keys',
      { name: 'x' },
      { headers: { 'x-xgate-csrf': 'yes' } },
    );
    expect(wrongValue.json.error.code).toBe('csrf_required');
  });

  it('logs out: clears the cookie (CSRF header required)', async () => {
    const { client } = await signedIn(false);
    const refused = await client.post('/auth/logout');
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('csrf_required');

    const done = await client.post('/auth/logout', undefined, { csrf: true });
    expect(done.status).toBe(204);
    const setCookie = done.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(new RegExp(`${SESSION_COOKIE}=;`));
    expect(client.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    // Logging out while signed out is not an error.
    expect((await client.post('/auth/logout', undefined, { csrf: true })).status).toBe(204);
  });

  it('logout ends the session in every process at once: a copied cookie then gets 401', async () => {
    const { client } = await signedIn();
    const stolen = createHttpClient(service.url);
    stolen.setCookie(SESSION_COOKIE, client.cookies.get(SESSION_COOKIE)!);
    // A second process over the same database (and key), as behind a load balancer.
    const other = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: { XGATE_SECRET_KEY: service.app.deps.config.secretKey.toString('base64') },
    });
    try {
      const elsewhere = createHttpClient(other.url);
      elsewhere.setCookie(SESSION_COOKIE, client.cookies.get(SESSION_COOKIE)!);
      expect((await elsewhere.get('/api/v1/me')).status).toBe(200);
      expect((await stolen.get('/api/v1/me')).status).toBe(200);

      expect((await client.post('/auth/logout', undefined, { csrf: true })).status).toBe(204);
      expect((await stolen.get('/api/v1/me')).status).toBe(401);
      expect((await elsewhere.get('/api/v1/me')).status).toBe(401);
    } finally {
      await other.stop();
    }
  });

  it('sign out everywhere (?all=1) ends every session of the user and no one else’s', async () => {
    const { user, client } = await signedIn();
    const laptop = createHttpClient(service.url);
    laptop.setCookie(SESSION_COOKIE, await makeSessionCookie(service.app.deps, user.id));
    const someoneElse = await signedIn();
    expect((await laptop.get('/api/v1/me')).status).toBe(200);

    expect((await client.post('/auth/logout?all=1', undefined, { csrf: true })).status).toBe(204);
    expect((await client.get('/api/v1/me')).status).toBe(401);
    expect((await laptop.get('/api/v1/me')).status).toBe(401);
    expect((await someoneElse.client.get('/api/v1/me')).status).toBe(200);
    const left = await service.app.deps.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .execute();
    expect(left).toEqual([]);
    const bad = await someoneElse.client.post('/auth/logout?all=maybe', undefined, { csrf: true });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
  });

  it('the idle lifetime slides with use; the absolute lifetime does not', async () => {
    const { user } = await signedIn();
    const client = createHttpClient(service.url);
    client.setCookie(SESSION_COOKIE, await makeSessionCookie(service.app.deps, user.id, 3600));
    // Used every 50 minutes, a one-hour session lives on.
    for (let i = 0; i < 5; i++) {
      clock.advance(50 * 60_000);
      expect((await client.get('/api/v1/me')).status).toBe(200);
    }
    // Unused for more than an hour, it ends.
    clock.advance(61 * 60_000);
    expect((await client.get('/api/v1/me')).status).toBe(401);

    // However often it is used, no session outlives XGATE_SESSION_MAX_DAYS (30).
    const busy = createHttpClient(service.url);
    busy.setCookie(SESSION_COOKIE, await makeSessionCookie(service.app.deps, user.id, 2 * 86_400));
    for (let day = 1; day < 30; day++) {
      clock.advance(86_400_000);
      expect((await busy.get('/api/v1/me')).status).toBe(200);
    }
    clock.advance(86_400_000);
    expect((await busy.get('/api/v1/me')).status).toBe(401);
  });

  it('ignores tampered, foreign and expired cookies', async () => {
    const { user, client } = await signedIn();
    const good = client.cookies.get(SESSION_COOKIE)!;
    const tampered = `${good.slice(0, -4)}${good.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    client.setCookie(SESSION_COOKIE, tampered);
    expect((await client.get('/api/v1/me')).status).toBe(401);

    client.setCookie(SESSION_COOKIE, 'not-even-base64!');
    expect((await client.get('/api/v1/me')).status).toBe(401);

    client.setCookie(SESSION_COOKIE, await makeSessionCookie(service.app.deps, user.id, 60));
    expect((await client.get('/api/v1/me')).status).toBe(200);
    clock.advance(61_000);
    expect((await client.get('/api/v1/me')).status).toBe(401);

    // A session of a user since deleted is anonymous.
    const other = await makeSignedInUser(service.app.deps);
    client.setCookie(SESSION_COOKIE, other.cookie);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    await service.app.deps.db.deleteFrom('users').where('id', '=', other.user.id).execute();
    expect((await client.get('/api/v1/me')).status).toBe(401);
  });

  it('startSession sets a sealed HttpOnly, SameSite=Lax cookie with an expiry that signs the user in', async () => {
    const { user } = await signedIn();
    const client = createHttpClient(service.url);
    const answer = await client.post('/test/sign-in', { userId: user.id });
    const line = answer.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    expect(line).toMatch(/; Path=\//);
    expect(line).toMatch(/; Max-Age=604800/);
    expect(line).not.toMatch(/; Secure/);
    expect(line).not.toContain(user.id);
    expect((await client.get('/api/v1/me')).json.id).toBe(user.id);
  });

  it('setSealedCookie / readSealedCookie carry a value for a limited time', async () => {
    const client = createHttpClient(service.url);
    await client.post('/test/sealed', { value: { state: 'abc', verifier: 'xyz' } });
    expect(client.cookies.get('xgate_oauth')).not.toContain('abc');
    expect((await client.get('/test/sealed')).json).toEqual({ value: { state: 'abc', verifier: 'xyz' } });
    clock.advance(601_000);
    expect((await client.get('/test/sealed')).json).toEqual({ value: null });
  });
});
