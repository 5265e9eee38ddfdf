import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from './index.ts';
import { expectConformsToSpec } from './testing/conformance.ts';
import { type ConnectedUser, connectUser, TEST_CLIENT } from './testing/connect-user.ts';

const START = Date.parse('2026-11-23T12:00:00Z');
const START_SECONDS = START / 1000;

let emulator: Emulator;
let url: string;
let posted = 0;

beforeEach(async () => {
  emulator = await createEmulator({ tier: 'free', now: () => START });
  url = await emulator.listen();
});

afterEach(async () => {
  await emulator.close();
});

async function postTweet(user: ConnectedUser) {
  const answer = await fetch(`${url}/2/tweets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: `tweet number ${++posted}` }),
  });
  const body = await answer.json();
  expectConformsToSpec('POST', '/2/tweets', answer.status, body);
  return { status: answer.status, body, headers: answer.headers };
}

async function getMe(user: ConnectedUser) {
  const answer = await fetch(`${url}/2/users/me`, {
    headers: { authorization: `Bearer ${user.accessToken}` },
  });
  const body = await answer.json();
  expectConformsToSpec('GET', '/2/users/me', answer.status, body);
  return { status: answer.status, body, headers: answer.headers };
}

async function refreshed(user: ConnectedUser): Promise<ConnectedUser> {
  const answer = await fetch(`${url}/2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: user.refreshToken ?? '',
      client_id: TEST_CLIENT.clientId,
    }),
  });
  expect(answer.status).toBe(200);
  const tokens = (await answer.json()) as { access_token: string; refresh_token: string };
  return { ...user, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

function headerNumbers(headers: Headers, prefix: string) {
  return {
    limit: Number(headers.get(`${prefix}-limit`)),
    remaining: Number(headers.get(`${prefix}-remaining`)),
    reset: Number(headers.get(`${prefix}-reset`)),
  };
}

async function setTier(tier: string) {
  const answer = await fetch(`${url}/__admin/tier`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tier }),
  });
  expect(answer.status).toBe(200);
}

const TOO_MANY = {
  title: 'Too Many Requests',
  detail: 'Too Many Requests',
  type: 'about:blank',
  status: 429,
};

describe('free tier: POST /2/tweets 17 per 24 h per user and per app', () => {
  it('counts down both 24-hour families, refuses the 18th with X 429, and resets after 24 h', async () => {
    const alice = await connectUser(emulator, { username: 'alice' });
    for (let i = 1; i <= 17; i++) {
      const answer = await postTweet(alice);
      expect(answer.status).toBe(201);
      expect(headerNumbers(answer.headers, 'x-user-limit-24hour')).toEqual({
        limit: 17,
        remaining: 17 - i,
        reset: START_SECONDS + 86_400,
      });
      expect(headerNumbers(answer.headers, 'x-app-limit-24hour')).toMatchObject({
        limit: 17,
        remaining: 17 - i,
      });
      expect(headerNumbers(answer.headers, 'x-rate-limit')).toMatchObject({ limit: 17, remaining: 17 - i });
    }
    const refused = await postTweet(alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toEqual(TOO_MANY);
    expect(headerNumbers(refused.headers, 'x-user-limit-24hour').remaining).toBe(0);
    expect(emulator.control.tweets()).toHaveLength(17);

    emulator.control.advanceClock(86_399);
    // The access token (2 h) is long dead: refresh it, as a client would.
    const fresh = await refreshed(alice);
    expect((await postTweet(fresh)).status).toBe(429);
    emulator.control.advanceClock(1);
    const next = await postTweet(fresh);
    expect(next.status).toBe(201);
    expect(headerNumbers(next.headers, 'x-user-limit-24hour').remaining).toBe(16);
  });

  it('the app window is shared by all users of the app', async () => {
    const alice = await connectUser(emulator, { username: 'alice' });
    const bob = await connectUser(emulator, { username: 'bob' });
    for (let i = 0; i < 10; i++) expect((await postTweet(alice)).status).toBe(201);
    for (let i = 0; i < 7; i++) expect((await postTweet(bob)).status).toBe(201);
    const refused = await postTweet(bob);
    expect(refused.status).toBe(429);
    // Bob still has user budget; the app has none: X's "429 while the user window has room".
    expect(headerNumbers(refused.headers, 'x-user-limit-24hour').remaining).toBe(10);
    expect(headerNumbers(refused.headers, 'x-app-limit-24hour').remaining).toBe(0);
  });

  it('GET /2/users/me is 25 per 24 h on free', async () => {
    const alice = await connectUser(emulator, { username: 'alice' });
    for (let i = 1; i <= 25; i++) {
      const answer = await getMe(alice);
      expect(answer.status).toBe(200);
      expect(headerNumbers(answer.headers, 'x-rate-limit')).toEqual({
        limit: 25,
        remaining: 25 - i,
        reset: START_SECONDS + 86_400,
      });
      expect(headerNumbers(answer.headers, 'x-user-limit-24hour')).toMatchObject({
        limit: 25,
        remaining: 25 - i,
      });
    }
    const refused = await getMe(alice);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(TOO_MANY);
  });
});

describe('ppu tier', () => {
  it('POST /2/tweets: 100 per 15 min per user with a 10,000 per 24 h app window; the window resets', async () => {
    await setTier('ppu');
    const alice = await connectUser(emulator, { username: 'alice' });
    for (let i = 1; i <= 100; i++) {
      const answer = await postTweet(alice);
      expect(answer.status).toBe(201);
      if (i === 1) {
        expect(headerNumbers(answer.headers, 'x-rate-limit')).toEqual({
          limit: 100,
          remaining: 99,
          reset: START_SECONDS + 900,
        });
        expect(headerNumbers(answer.headers, 'x-app-limit-24hour')).toMatchObject({
          limit: 10_000,
          remaining: 9_999,
        });
        expect(answer.headers.get('x-user-limit-24hour-limit')).not.toBeNull();
      }
    }
    expect((await postTweet(alice)).status).toBe(429);
    emulator.control.advanceClock(900);
    const after = await postTweet(alice);
    expect(after.status).toBe(201);
    expect(headerNumbers(after.headers, 'x-rate-limit').remaining).toBe(99);
    expect(headerNumbers(after.headers, 'x-app-limit-24hour').remaining).toBe(10_000 - 101);
  });

  it('GET /2/users/me: 75 per 15 min', async () => {
    await setTier('ppu');
    const alice = await connectUser(emulator, { username: 'alice' });
    const first = await getMe(alice);
    expect(headerNumbers(first.headers, 'x-rate-limit')).toEqual({
      limit: 75,
      remaining: 74,
      reset: START_SECONDS + 900,
    });
  });
});

describe('tier switching', () => {
  it('takes effect on the next request and keeps what was counted', async () => {
    const alice = await connectUser(emulator, { username: 'alice' });
    for (let i = 0; i < 17; i++) await postTweet(alice);
    expect((await postTweet(alice)).status).toBe(429);

    await setTier('unlimited');
    const unlimited = await postTweet(alice);
    expect(unlimited.status).toBe(201);
    expect(Number(unlimited.headers.get('x-rate-limit-remaining'))).toBeGreaterThan(1_000_000);
    expect(unlimited.headers.get('x-user-limit-24hour-remaining')).not.toBeNull();
    expect(unlimited.headers.get('x-app-limit-24hour-remaining')).not.toBeNull();

    await setTier('basic');
    const basic = await postTweet(alice);
    expect(basic.status).toBe(201);
    expect(headerNumbers(basic.headers, 'x-user-limit-24hour')).toMatchObject({ limit: 100, remaining: 82 });
    expect(headerNumbers(basic.headers, 'x-app-limit-24hour')).toMatchObject({ limit: 1_667 });

    await setTier('free');
    expect((await postTweet(alice)).status).toBe(429);
    expect(emulator.control.tier()).toBe('free');
  });

  it('unlimited never refuses', async () => {
    await setTier('unlimited');
    const alice = await connectUser(emulator, { username: 'alice' });
    for (let i = 0; i < 120; i++) expect((await postTweet(alice)).status).toBe(201);
  });
});
