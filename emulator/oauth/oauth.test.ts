import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../index.ts';
import { expectConformsToSpec } from '../testing/conformance.ts';
import { authorizeUser, basicAuthorization, parseConsentForm, pkcePair } from '../testing/oauth.ts';

const PUBLIC = { clientId: 'public-app', redirectUri: 'http://127.0.0.1:9999/callback' };
const CONFIDENTIAL = {
  clientId: 'web-app',
  clientSecret: 's3cret:with+odd chars',
  redirectUri: 'https://xgate.example/auth/x/callback',
};
const SCOPES = 'tweet.read users.read offline.access';

let emulator: Emulator;
let url: string;
let aliceId: string;

beforeAll(async () => {
  // Frozen base time: only advanceClock moves the emulator clock, so expiry edges are exact.
  const frozen = Date.parse('2026-11-23T12:00:00Z');
  emulator = await createEmulator({
    now: () => frozen,
    clients: [
      { clientId: PUBLIC.clientId, redirectUris: [PUBLIC.redirectUri], name: 'Public <App>' },
      {
        clientId: CONFIDENTIAL.clientId,
        clientSecret: CONFIDENTIAL.clientSecret,
        redirectUris: [CONFIDENTIAL.redirectUri],
      },
    ],
  });
  url = await emulator.listen();
  aliceId = emulator.control.createUser({ username: 'alice', name: 'Alice' }).id;
});

afterAll(async () => {
  await emulator.close();
});

afterEach(() => {
  emulator.control.setAutoApprove(null);
});

function authorizeUrl(
  overrides: Record<string, string | null> = {},
  challenge = pkcePair().challenge,
): string {
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: PUBLIC.clientId,
    redirect_uri: PUBLIC.redirectUri,
    scope: SCOPES,
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null) query.set(name, value);
  return `${url}/i/oauth2/authorize?${query}`;
}

/** A code for alice through the auto-approve path, with its verifier. */
async function codeFor(
  client: { clientId: string; redirectUri: string } = PUBLIC,
  method: 'S256' | 'plain' | 's256' = 'S256',
  scope = SCOPES,
): Promise<{ code: string; verifier: string }> {
  emulator.control.setAutoApprove(aliceId);
  const { verifier, challenge } = pkcePair();
  const answer = await fetch(
    authorizeUrl(
      {
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        code_challenge_method: method,
        scope,
        code_challenge: method === 'plain' ? verifier : challenge,
      },
      challenge,
    ),
    { redirect: 'manual' },
  );
  expect(answer.status).toBe(302);
  const location = new URL(answer.headers.get('location') ?? '');
  expect(location.searchParams.get('state')).toBe('state-123');
  return { code: location.searchParams.get('code') ?? '', verifier };
}

async function token(
  fields: Record<string, string>,
  headers: Record<string, string> = {},
  json = false,
): Promise<{ status: number; body: Record<string, unknown>; contentType: string | null }> {
  const answer = await fetch(`${url}/2/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: json ? JSON.stringify(fields) : new URLSearchParams(fields),
  });
  return {
    status: answer.status,
    body: (await answer.json()) as Record<string, unknown>,
    contentType: answer.headers.get('content-type'),
  };
}

function exchange(code: string, verifier: string, extra: Record<string, string> = {}) {
  return token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: PUBLIC.redirectUri,
    code_verifier: verifier,
    client_id: PUBLIC.clientId,
    ...extra,
  });
}

async function me(accessToken: string) {
  const answer = await fetch(`${url}/2/users/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  const body = (await answer.json()) as Record<string, unknown>;
  expectConformsToSpec('GET', '/2/users/me', answer.status, body);
  return { status: answer.status, body };
}

describe('GET /i/oauth2/authorize', () => {
  it('renders a consent page naming the app and the scopes, with the existing users to pick from', async () => {
    const answer = await fetch(authorizeUrl());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await answer.text();
    expect(html).toContain('Public &lt;App&gt; wants to access your X account');
    expect(html).toContain('<code>offline.access</code>');
    expect(html).toContain('@alice');
    expect(html).toContain('Authorize app');
    expect(html).toContain('Cancel');
    const form = parseConsentForm(html);
    expect(form.action).toBe('/i/oauth2/authorize');
    expect(form.hidden).toMatchObject({ client_id: PUBLIC.clientId, state: 'state-123', scope: SCOPES });
  });

  it.each([
    ['an unknown client', { client_id: 'nobody' }],
    ['a missing client', { client_id: null }],
    ['an unregistered redirect URI', { redirect_uri: 'http://127.0.0.1:9999/other' }],
    ['a redirect URI that only starts like a registered one', { redirect_uri: `${PUBLIC.redirectUri}/x` }],
    ['a missing redirect URI', { redirect_uri: null }],
  ])('shows an error page and never redirects for %s', async (_name, overrides) => {
    const answer = await fetch(authorizeUrl(overrides), { redirect: 'manual' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(await answer.text()).toContain('Something went wrong');
  });

  it.each([
    ['response_type', { response_type: 'token' }, 'unsupported_response_type', 'state-123'],
    ['missing response_type', { response_type: null }, 'invalid_request', 'state-123'],
    ['unknown scope', { scope: 'tweet.read made.up' }, 'invalid_scope', 'state-123'],
    ['missing scope', { scope: null }, 'invalid_request', 'state-123'],
    ['missing state', { state: null }, 'invalid_request', null],
    ['state over 500 characters', { state: 'x'.repeat(501) }, 'invalid_request', null],
    ['missing code_challenge', { code_challenge: null }, 'invalid_request', 'state-123'],
    ['unknown code_challenge_method', { code_challenge_method: 'S512' }, 'invalid_request', 'state-123'],
  ])('redirects back with an error for a bad %s', async (_name, overrides, error, state) => {
    const answer = await fetch(authorizeUrl(overrides), { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(PUBLIC.redirectUri);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('accepts a state of exactly 500 characters', async () => {
    const answer = await fetch(authorizeUrl({ state: 's'.repeat(500) }), { redirect: 'manual' });
    expect(answer.status).toBe(200);
  });

  it('redirects straight back with a code when auto-approve is set', async () => {
    const { code } = await codeFor();
    expect(code).not.toBe('');
  });
});

describe('the consent form, driven with plain HTTP', () => {
  async function submit(extra: Record<string, string>) {
    const { verifier, challenge } = pkcePair();
    const page = await fetch(authorizeUrl({}, challenge));
    const form = parseConsentForm(await page.text());
    const answer = await fetch(new URL(form.action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.hidden, ...extra }),
    });
    return { answer, verifier };
  }

  it('Authorize app as an existing user redirects with state and a code that exchanges for that user', async () => {
    const { answer, verifier } = await submit({ user_id: aliceId, decision: 'authorize' });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('state-123');
    const exchanged = await exchange(location.searchParams.get('code') ?? '', verifier);
    expect(exchanged.status).toBe(200);
    const profile = await me(exchanged.body.access_token as string);
    expect(profile.body.data).toMatchObject({ id: aliceId, username: 'alice' });
  });

  it('creates a new user when asked to', async () => {
    const { answer, verifier } = await submit({
      user_id: 'new',
      username: 'bob_new',
      name: 'Bob',
      decision: 'authorize',
    });
    expect(answer.status).toBe(302);
    const code = new URL(answer.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const exchanged = await exchange(code, verifier);
    const profile = await me(exchanged.body.access_token as string);
    expect(profile.body.data).toMatchObject({ username: 'bob_new', name: 'Bob' });
  });

  it('shows the page again with an error for an invalid new username', async () => {
    const { answer } = await submit({ user_id: 'new', username: 'not a name!', decision: 'authorize' });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('must be 1–15 letters, digits or underscores');
  });

  it('Cancel redirects with error=access_denied and the state', async () => {
    const { answer } = await submit({ user_id: aliceId, decision: 'cancel' });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('refuses a tampered form (redirect URI changed) with the error page', async () => {
    const { answer } = await submit({
      redirect_uri: 'http://evil.example/cb',
      user_id: aliceId,
      decision: 'authorize',
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
  });
});

describe('POST /2/oauth2/token (authorization_code)', () => {
  it('answers X token shape, refresh token only with offline.access; JSON bodies work too', async () => {
    const { code, verifier } = await codeFor();
    const answer = await token(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: PUBLIC.redirectUri,
        code_verifier: verifier,
        client_id: PUBLIC.clientId,
      },
      {},
      true,
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      token_type: 'bearer',
      expires_in: 7200,
      access_token: expect.any(String),
      scope: SCOPES,
      refresh_token: expect.any(String),
    });

    const noOffline = await codeFor(PUBLIC, 'S256', 'tweet.read users.read');
    const without = await exchange(noOffline.code, noOffline.verifier);
    expect(without.status).toBe(200);
    expect(without.body.scope).toBe('tweet.read users.read');
    expect(without.body).not.toHaveProperty('refresh_token');
  });

  it('accepts plain and lowercase s256 challenges', async () => {
    for (const method of ['plain', 's256'] as const) {
      const { code, verifier } = await codeFor(PUBLIC, method);
      expect((await exchange(code, verifier)).status).toBe(200);
    }
  });

  it('a code works once', async () => {
    const { code, verifier } = await codeFor();
    expect((await exchange(code, verifier)).status).toBe(200);
    const again = await exchange(code, verifier);
    expect(again).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'Value passed for the authorization code was invalid.',
      },
    });
  });

  it('a code dies 30 seconds of emulator time after it was issued', async () => {
    const fresh = await codeFor();
    emulator.control.advanceClock(29);
    expect((await exchange(fresh.code, fresh.verifier)).status).toBe(200);

    const stale = await codeFor();
    emulator.control.advanceClock(30);
    const answer = await exchange(stale.code, stale.verifier);
    expect(answer).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'Value passed for the authorization code was invalid.',
      },
    });
  });

  it.each([
    ['an unknown code', (c: string) => ({ code: `${c}x` })],
    ['another redirect URI', () => ({ redirect_uri: 'http://127.0.0.1:9999/other' })],
  ])('refuses %s', async (_name, change) => {
    const { code, verifier } = await codeFor();
    const answer = await exchange(code, verifier, change(code));
    expect(answer).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'Value passed for the authorization code was invalid.',
      },
    });
  });

  it('refuses a code issued to another client', async () => {
    const { code, verifier } = await codeFor(CONFIDENTIAL);
    const answer = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CONFIDENTIAL.redirectUri,
      code_verifier: verifier,
      client_id: PUBLIC.clientId,
    });
    expect(answer.body).toEqual({
      error: 'invalid_request',
      error_description: 'Value passed for the authorization code was invalid.',
    });
  });

  it('refuses a missing verifier with X body, and a wrong one', async () => {
    const { code, verifier } = await codeFor();
    const missing = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: PUBLIC.redirectUri,
      client_id: PUBLIC.clientId,
    });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Missing required parameter [code_verifier].' },
    });
    // The code survived the malformed request, but a wrong verifier spends it.
    const wrong = await exchange(code, `${verifier}x`);
    expect(wrong).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description: 'Value passed for the code verifier was invalid.',
      },
    });
    expect((await exchange(code, verifier)).status).toBe(400);
  });

  it('checks a plain challenge literally', async () => {
    const { code, verifier } = await codeFor(PUBLIC, 'plain');
    const answer = await exchange(code, verifier.toUpperCase());
    expect(answer.body.error_description).toBe('Value passed for the code verifier was invalid.');
  });

  it.each(['code', 'redirect_uri', 'grant_type'])('names a missing %s', async (name) => {
    const { code, verifier } = await codeFor();
    const fields: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: PUBLIC.redirectUri,
      code_verifier: verifier,
      client_id: PUBLIC.clientId,
    };
    delete fields[name];
    const answer = await token(fields);
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: `Missing required parameter [${name}].` },
    });
  });

  it('refuses an unsupported grant type', async () => {
    const answer = await token({ grant_type: 'client_credentials', client_id: PUBLIC.clientId });
    expect(answer).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });
});

describe('client authentication', () => {
  function confidentialExchange(code: string, verifier: string, headers: Record<string, string>, extra = {}) {
    return token(
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: CONFIDENTIAL.redirectUri,
        code_verifier: verifier,
        ...extra,
      },
      headers,
    );
  }

  it('a confidential client authenticates with Basic (client_id in the body is accepted too)', async () => {
    const header = { authorization: basicAuthorization(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret) };
    const first = await codeFor(CONFIDENTIAL);
    expect((await confidentialExchange(first.code, first.verifier, header)).status).toBe(200);
    const second = await codeFor(CONFIDENTIAL);
    const withId = await confidentialExchange(second.code, second.verifier, header, {
      client_id: CONFIDENTIAL.clientId,
    });
    expect(withId.status).toBe(200);
  });

  it.each([
    ['no Authorization header', {}, { client_id: CONFIDENTIAL.clientId }],
    [
      'the secret in the body instead',
      {},
      { client_id: CONFIDENTIAL.clientId, client_secret: CONFIDENTIAL.clientSecret },
    ],
    ['a wrong secret', { authorization: basicAuthorization(CONFIDENTIAL.clientId, 'wrong') }, {}],
    ['an unknown client in Basic', { authorization: basicAuthorization('ghost', 'x') }, {}],
  ])('a confidential client with %s gets 401 unauthorized_client', async (_name, headers, extra) => {
    const { code, verifier } = await codeFor(CONFIDENTIAL);
    const answer = await confidentialExchange(code, verifier, headers, extra);
    expect(answer).toEqual({
      status: 401,
      body: { error: 'unauthorized_client', error_description: 'Missing valid authorization header' },
      contentType: expect.stringMatching(/^application\/json/),
    });
  });

  it('a public client must name itself', async () => {
    const { code, verifier } = await codeFor();
    const answer = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: PUBLIC.redirectUri,
      code_verifier: verifier,
    });
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Missing required parameter [client_id].' },
    });
  });

  it('an unknown public client is refused', async () => {
    const answer = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'ghost' });
    expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});

describe('access tokens, refresh and revoke', () => {
  it('an access token works until 7200 s of emulator time, then gets X 401', async () => {
    const tokens = await authorizeUser(url, { ...PUBLIC, userId: aliceId, scopes: SCOPES.split(' ') });
    expect((await me(tokens.access_token)).status).toBe(200);
    emulator.control.advanceClock(7199);
    expect((await me(tokens.access_token)).status).toBe(200);
    emulator.control.advanceClock(1);
    const expired = await me(tokens.access_token);
    expect(expired).toEqual({
      status: 401,
      body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
    });
  });

  it('refresh rotates: the new pair works, the old refresh token is dead', async () => {
    const first = await authorizeUser(url, { ...CONFIDENTIAL, userId: aliceId, scopes: SCOPES.split(' ') });
    const basic = { authorization: basicAuthorization(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret) };
    const refreshed = await token(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' },
      basic,
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({
      token_type: 'bearer',
      expires_in: 7200,
      access_token: expect.any(String),
      scope: SCOPES,
      refresh_token: expect.any(String),
    });
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);
    expect((await me(refreshed.body.access_token as string)).status).toBe(200);

    const reused = await token(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' },
      basic,
    );
    expect(reused).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' },
    });
    const next = await token(
      { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token as string },
      basic,
    );
    expect(next.status).toBe(200);
  });

  it('a refresh token only works for its own client', async () => {
    const tokens = await authorizeUser(url, { ...PUBLIC, userId: aliceId, scopes: SCOPES.split(' ') });
    const answer = await token(
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' },
      { authorization: basicAuthorization(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret) },
    );
    expect(answer.body.error_description).toBe('Value passed for the token was invalid.');
  });

  async function revoke(fields: Record<string, string>) {
    const answer = await fetch(`${url}/2/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  }

  it('revoking an access token kills it; the refresh token still works', async () => {
    const tokens = await authorizeUser(url, { ...PUBLIC, userId: aliceId, scopes: SCOPES.split(' ') });
    expect(await revoke({ token: tokens.access_token, client_id: PUBLIC.clientId })).toEqual({
      status: 200,
      body: { revoked: true },
    });
    expect((await me(tokens.access_token)).status).toBe(401);
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
      client_id: PUBLIC.clientId,
    });
    expect(refreshed.status).toBe(200);
  });

  it('revoking a refresh token ends the grant: it and its access tokens die', async () => {
    const tokens = await authorizeUser(url, { ...PUBLIC, userId: aliceId, scopes: SCOPES.split(' ') });
    expect((await revoke({ token: tokens.refresh_token ?? '', client_id: PUBLIC.clientId })).status).toBe(
      200,
    );
    expect((await me(tokens.access_token)).status).toBe(401);
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
      client_id: PUBLIC.clientId,
    });
    expect(refreshed.body.error_description).toBe('Value passed for the token was invalid.');
  });

  it('revoke needs a token and an authenticated client; an unknown token is answered 200', async () => {
    expect(await revoke({ client_id: PUBLIC.clientId })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'Missing required parameter [token].' },
    });
    expect((await revoke({ token: 'nope', client_id: PUBLIC.clientId })).body).toEqual({ revoked: true });
    const answer = await revoke({ token: 'nope', client_id: CONFIDENTIAL.clientId });
    expect(answer.status).toBe(401);
  });

  it('a token of another client is not revoked', async () => {
    const tokens = await authorizeUser(url, { ...PUBLIC, userId: aliceId, scopes: SCOPES.split(' ') });
    const answer = await fetch(`${url}/2/oauth2/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuthorization(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret),
      },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(answer.status).toBe(200);
    expect((await me(tokens.access_token)).status).toBe(200);
  });
});
