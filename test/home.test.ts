import { afterAll, beforeAll, expect, it } from 'vitest';
import { markNeedsReconnect } from '../src/accounts/accounts.repository.ts';
import type { TestEmulator } from './helpers/emulator.ts';
import {
  createHttpClient,
  createTestClock,
  describeEachDialect,
  makeSignedInUser,
  SESSION_COOKIE,
  type TestService,
} from './helpers/index.ts';
import { startSignInService } from './helpers/signin-service.ts';
import { signInWithX } from './helpers/x-signin.ts';

const HOSTILE_NAME = `<script>alert("x")</script> & 'Co'`;

describeEachDialect('landing page (GET /)', (ctx) => {
  let emulator: TestEmulator;
  let service: TestService;
  const clock = createTestClock();
  let usernames = 0;
  const newUsername = () => `home${ctx.dialect.slice(0, 2)}${++usernames}`;

  beforeAll(async () => {
    ({ emulator, service } = await startSignInService(ctx, { clock }));
  });
  afterAll(async () => {
    await service?.stop();
    await emulator?.stop();
  });

  /** Signs in through the emulator's consent page as a new X user named `name`. */
  async function signedInWithX(name?: string) {
    const username = newUsername();
    emulator.control.createUser({ username, ...(name ? { name } : {}) });
    const client = createHttpClient(service.url);
    await signInWithX(client, { username });
    return { client, username };
  }

  it('signed out: says what xgate is, links to sign in and to the docs, as HTML without a script', async () => {
    const page = await createHttpClient(service.url).get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<a class="button" href="/auth/x/login">Sign in with X</a>');
    expect(page.text).toContain('href="/docs"');
    expect(page.text).not.toContain('<script');
    // The test service talks to an emulator through X_CLIENT_ID like the real X: not sandbox mode.
    expect(page.text).not.toContain('Sandbox mode');
  });

  it('signed in: lists the X accounts with HTML in names escaped, and the ways forward', async () => {
    const { client, username } = await signedInWithX(HOSTILE_NAME);
    const page = await client.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).toContain(`<strong>@${username}</strong>`);
    expect(page.text).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;Co&#39;');
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).toContain('<span class="status active">active</span>');
    expect(page.text).toContain('href="/auth/x/login?connect=1"');
    expect(page.text).toContain('href="/docs"');
    expect(page.text).toContain('Create an API key');
    expect(page.text).toContain('id="sign-out"');
    // The only script is the same-origin file, as the CSP requires.
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect([...page.text.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual([
      '<script type="module" src="/assets/home.js">',
    ]);
  });

  it('shows why an account is not active', async () => {
    const { client, username } = await signedInWithX();
    const [account] = (await client.get('/api/v1/accounts')).json;
    const reason = 'X refused the refresh token <invalid_grant>: sign in again to reconnect.';
    await markNeedsReconnect(service.app.deps.db, account.id, reason, clock.now());
    const page = await client.get('/');
    expect(page.text).toContain(`<strong>@${username}</strong>`);
    expect(page.text).toContain('<span class="status">needs_reconnect</span>');
    expect(page.text).toContain(
      'X refused the refresh token &#60;invalid_grant&#62;: sign in again to reconnect.',
    );
  });

  it('signed in without an X account: says so', async () => {
    const { cookie } = await makeSignedInUser(service.app.deps);
    const client = createHttpClient(service.url);
    client.setCookie(SESSION_COOKIE, cookie);
    const page = await client.get('/');
    expect(page.text).toContain('No X account is connected.');
    expect(page.text).toContain('href="/auth/x/login?connect=1"');
  });

  it('a tampered session cookie reads as signed out', async () => {
    const client = createHttpClient(service.url);
    client.setCookie(SESSION_COOKIE, 'not-a-sealed-value');
    const page = await client.get('/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign in with X');
  });

  it('its curl example calls /api/v1/me at the public URL, which answers with a key the page creates', async () => {
    const { client, username } = await signedInWithX();
    const page = await client.get('/');
    const meUrl = /data-me-url="([^"]+)"/.exec(page.text)?.[1];
    expect(meUrl).toBe(`${service.url}/api/v1/me`);
    // What the script sends: the session cookie and the CSRF header.
    const created = await client.post('/api/v1/api-keys', { name: 'my key' });
    expect(created.status).toBe(201);
    const me = await fetch(meUrl as string, { headers: { authorization: `Bearer ${created.json.key}` } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { accounts: unknown };
    expect(body.accounts).toEqual([expect.objectContaining({ username })]);
  });

  it('serves the page script as JavaScript, calling the key and sign-out routes with the CSRF header', async () => {
    const script = await createHttpClient(service.url).get('/assets/home.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.text).toContain("fetch('/api/v1/api-keys'");
    expect(script.text).toContain("fetch('/auth/logout'");
    expect(script.text).toContain("'x-xgate-csrf': '1'");
  });

  it('is not part of the OpenAPI document', async () => {
    const doc = (await createHttpClient(service.url).get('/openapi.json')).json;
    expect(Object.keys(doc.paths)).not.toContain('/');
    expect(Object.keys(doc.paths)).not.toContain('/assets/home.js');
  });
});
