import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlError, createEmulator, type Emulator } from './index.ts';
import { expectConformsToSpec } from './testing/conformance.ts';
import { connectUser } from './testing/connect-user.ts';
import { authorizeUser } from './testing/oauth.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field, as JSON.
type Json = any;

const START_CLIENT = { clientId: 'start-client', redirectUris: ['http://127.0.0.1:8080/auth/x/callback'] };

let emulator: Emulator;
let url: string;

beforeAll(async () => {
  emulator = await createEmulator({ clients: [START_CLIENT] });
  url = await emulator.listen();
});

afterAll(async () => {
  await emulator.close();
});

async function admin(
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<{ status: number; body: Json }> {
  const answer = await fetch(`${url}/__admin${path}`, {
    method,
    ...(body === undefined && raw === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) }),
  });
  const text = await answer.text();
  return { status: answer.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('bad input to the control API is a clear 400', () => {
  it.each([
    ['POST', '/clients', { clientId: 'x' }, /redirectUris/],
    [
      'POST',
      '/clients',
      { clientId: 'x', redirectUris: ['not a url'] },
      /redirectUris\.0: must be an absolute URL/,
    ],
    ['POST', '/clients', { clientId: 'has space', redirectUris: ['http://a/cb'] }, /clientId/],
    ['POST', '/clients', { clientId: 'x', redirectUris: ['http://a/cb'], colour: 'red' }, /colour/],
    ['POST', '/users', {}, /username/],
    ['POST', '/users', { username: 'way_too_long_for_x' }, /username: must be 1–15 letters/],
    ['POST', '/users', { username: 'ok', subscriptionType: 'Gold' }, /subscriptionType/],
    ['POST', '/auto-approve', {}, /userId/],
    ['POST', '/clock', { advanceSeconds: -5 }, /advanceSeconds: must not be negative/],
    ['POST', '/clock', { advanceSeconds: '60' }, /advanceSeconds: must be a number of seconds/],
    ['POST', '/tier', { tier: 'gold' }, /tier/],
    ['POST', '/faults', { rules: 'all' }, /rules/],
    ['POST', '/faults', { rules: [{ method: 'GET', path: '/2/users/me', kind: 'explode' }] }, /kind/],
    [
      'POST',
      '/faults',
      { rules: [{ method: 'GET', path: '/2/users/me', kind: 'error' }] },
      /status: is required/,
    ],
    ['POST', '/faults', { rules: [{ method: 'GET', path: '/2/users/me', kind: 'latency' }] }, /latencyMs/],
    [
      'POST',
      '/faults',
      { rules: [{ method: 'GET', path: '2/users/me', kind: 'timeout' }] },
      /path: must start/,
    ],
    [
      'POST',
      '/faults',
      { rules: [{ method: 'GET', path: '/x', kind: 'timeout', probability: 2 }] },
      /probability/,
    ],
  ])('%s %s %j', async (method, path, body, message) => {
    const answer = await admin(method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    expect(answer.body.error.message).toMatch(message);
  });

  it('a body that is not JSON', async () => {
    const answer = await admin('POST', '/users', undefined, '{"username":');
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
  });

  it('no body at all', async () => {
    const answer = await admin('POST', '/tier');
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it('a taken username is 409, an unknown auto-approve user 404, an unknown control route 404', async () => {
    expect((await admin('POST', '/users', { username: 'taken' })).status).toBe(201);
    const taken = await admin('POST', '/users', { username: 'TAKEN' });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'username_taken' } } });
    const unknown = await admin('POST', '/auto-approve', { userId: '123' });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'user_not_found' } } });
    expect((await admin('GET', '/nothing')).body.error.code).toBe('not_found');
  });

  it('the programmatic control throws ControlError with the same codes', () => {
    expect(() => emulator.control.setTier('gold' as never)).toThrow(ControlError);
    expect(() => emulator.control.advanceClock(-1)).toThrow(/must not be negative/);
    expect(() => emulator.control.registerClient({ clientId: 'x', redirectUris: [] })).toThrow(
      /needs at least one redirect URI/,
    );
  });
});

describe('control routes', () => {
  it('registers clients and users, and auto-approves', async () => {
    const client = await admin('POST', '/clients', {
      clientId: 'admin-app',
      clientSecret: 'shh',
      redirectUris: ['http://127.0.0.1:7000/cb'],
      name: 'Admin App',
    });
    expect(client).toEqual({
      status: 201,
      body: {
        clientId: 'admin-app',
        name: 'Admin App',
        redirectUris: ['http://127.0.0.1:7000/cb'],
        confidential: true,
      },
    });
    const user = await admin('POST', '/users', {
      username: 'carol',
      name: 'Carol',
      subscriptionType: 'PremiumPlus',
    });
    expect(user).toEqual({
      status: 201,
      body: {
        id: expect.stringMatching(/^[0-9]{1,19}$/),
        username: 'carol',
        name: 'Carol',
        subscriptionType: 'PremiumPlus',
      },
    });
    expect(await admin('POST', '/auto-approve', { userId: user.body.id })).toEqual({
      status: 200,
      body: { userId: user.body.id },
    });
    const authorize = await fetch(
      `${url}/i/oauth2/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: 'admin-app',
        redirect_uri: 'http://127.0.0.1:7000/cb',
        scope: 'tweet.read users.read',
        state: 's',
        code_challenge: 'c'.repeat(43),
        code_challenge_method: 'plain',
      })}`,
      { redirect: 'manual' },
    );
    expect(authorize.status).toBe(302);
    expect((await admin('DELETE', '/auto-approve')).status).toBe(204);
  });

  it('lists tweets (deleted ones included) and requests; moves the clock', async () => {
    const dave = await connectUser(emulator, { username: 'dave' });
    const headers = { authorization: `Bearer ${dave.accessToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${url}/2/tweets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'ledger me' }),
    });
    const createdBody = (await created.json()) as { data: { id: string } };
    expectConformsToSpec('POST', '/2/tweets', 201, createdBody);
    const deleted = await fetch(`${url}/2/tweets/${createdBody.data.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${dave.accessToken}` },
    });
    expectConformsToSpec('DELETE', '/2/tweets/:id', deleted.status, await deleted.json());

    const tweets = await admin('GET', '/tweets');
    expect(tweets.status).toBe(200);
    expect(tweets.body).toContainEqual({
      id: createdBody.data.id,
      authorId: dave.userId,
      text: 'ledger me',
      inReplyToTweetId: null,
      mediaIds: [],
      createdAt: expect.any(Number),
      deletedAt: expect.any(Number),
    });

    const requests = await admin('GET', '/requests');
    expect(requests.body).toContainEqual({
      method: 'DELETE',
      path: `/2/tweets/${createdBody.data.id}`,
      status: 200,
      at: expect.any(Number),
    });

    const before = emulator.control.now();
    const clock = await admin('POST', '/clock', { advanceSeconds: 3600 });
    expect(clock.status).toBe(200);
    expect(clock.body.now).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(new Date(clock.body.iso).getTime()).toBe(clock.body.now);
  });

  it('reset forgets everything but the start-up clients', async () => {
    const erin = await connectUser(emulator, { username: 'erin' });
    expect((await admin('POST', '/tier', { tier: 'free' })).body).toEqual({ tier: 'free' });
    expect((await admin('POST', '/reset')).status).toBe(200);

    expect((await admin('GET', '/tweets')).body).toEqual([]);
    expect(emulator.control.tier()).toBe('ppu');
    const me = await fetch(`${url}/2/users/me`, { headers: { authorization: `Bearer ${erin.accessToken}` } });
    expect(me.status).toBe(401);
    expectConformsToSpec('GET', '/2/users/me', 401, await me.json());
    // The start-up client survives; the one registered by connectUser is gone until it registers again.
    const user = emulator.control.createUser({ username: 'erin' });
    const tokens = await authorizeUser(url, {
      clientId: START_CLIENT.clientId,
      redirectUri: START_CLIENT.redirectUris[0] as string,
      userId: user.id,
    });
    expect(tokens.access_token).toBeTruthy();
  });
});

describe('--state FILE', () => {
  it('keeps users, clients, tokens, tweets, tier and clock across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xgate-emulator-'));
    const statePath = join(dir, 'state.json');
    try {
      const first = await createEmulator({ statePath, tier: 'basic' });
      await first.listen();
      const frank = await connectUser(first, { username: 'frank', subscriptionType: 'Premium' });
      const created = await fetch(`${first.url}/2/tweets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${frank.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'survives restarts' }),
      });
      expect(created.status).toBe(201);
      expectConformsToSpec('POST', '/2/tweets', 201, await created.json());
      first.control.advanceClock(60);
      const idBefore = first.control.createUser({ username: 'grace' }).id;
      await first.close();
      expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ version: 1 });

      const second = await createEmulator({ statePath });
      const url2 = await second.listen();
      try {
        expect(second.control.tier()).toBe('basic');
        expect(second.control.tweets().map((t) => t.text)).toEqual(['survives restarts']);
        const me = await fetch(`${url2}/2/users/me?user.fields=subscription_type`, {
          headers: { authorization: `Bearer ${frank.accessToken}` },
        });
        const body = await me.json();
        expectConformsToSpec('GET', '/2/users/me', me.status, body);
        expect(body).toEqual({
          data: { id: frank.userId, name: 'frank', username: 'frank', subscription_type: 'Premium' },
        });
        const refreshed = await fetch(`${url2}/2/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: frank.refreshToken ?? '',
            client_id: 'emulator-test-client',
          }),
        });
        expect(refreshed.status).toBe(200);
        expect(BigInt(second.control.createUser({ username: 'heidi' }).id)).toBeGreaterThan(BigInt(idBefore));
        expect(second.control.now()).toBeGreaterThanOrEqual(Date.now() + 59_000);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a file that is not emulator state, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xgate-emulator-'));
    const statePath = join(dir, 'state.json');
    try {
      await writeFile(statePath, '{"not":"state"}');
      await expect(createEmulator({ statePath })).rejects.toThrow(
        /cannot read emulator state file .*state\.json/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
