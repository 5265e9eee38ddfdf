import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from './index.ts';
import { expectConformsToSpec } from './testing/conformance.ts';
import { type ConnectedUser, connectUser } from './testing/connect-user.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field, as JSON.
type Json = any;

let emulator: Emulator;
let url: string;
let alice: ConnectedUser;

beforeAll(async () => {
  emulator = await createEmulator({ tier: 'unlimited' });
  url = await emulator.listen();
  alice = await connectUser(emulator, { username: 'alice', name: 'Alice A', subscriptionType: 'Premium' });
});

afterAll(async () => {
  await emulator.close();
});

async function getMe(
  query: string,
  token: string | null = alice.accessToken,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const answer = await fetch(`${url}/2/users/me${query}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  const body = await answer.json();
  expectConformsToSpec('GET', '/2/users/me', answer.status, body);
  return { status: answer.status, body, headers: answer.headers };
}

async function tweet(text: string): Promise<string> {
  const answer = await fetch(`${url}/2/tweets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const body = (await answer.json()) as { data: { id: string } };
  expectConformsToSpec('POST', '/2/tweets', answer.status, body);
  return body.data.id;
}

describe('GET /2/users/me', () => {
  it('answers the default fields only', async () => {
    const answer = await getMe('');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ data: { id: alice.userId, name: 'Alice A', username: 'alice' } });
  });

  it('answers the requested user.fields, public_metrics counting live tweets', async () => {
    await tweet('first from alice');
    const second = await tweet('second from alice');
    const answer = await getMe(
      '?user.fields=subscription_type,profile_image_url,public_metrics,created_at,verified,verified_type,protected,description,most_recent_tweet_id',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({
      id: alice.userId,
      subscription_type: 'Premium',
      verified: true,
      verified_type: 'blue',
      protected: false,
      description: '',
      most_recent_tweet_id: second,
      public_metrics: { followers_count: 0, following_count: 0, tweet_count: 2, listed_count: 0 },
    });
    expect(new Date(answer.body.data.created_at).getTime()).not.toBeNaN();

    const avatar = await fetch(answer.body.data.profile_image_url);
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(new URL(answer.body.data.profile_image_url).origin).toBe(url);
  });

  it('expands most_recent_tweet_id into includes.tweets', async () => {
    const id = await tweet('newest from alice');
    const answer = await getMe('?expansions=most_recent_tweet_id&user.fields=most_recent_tweet_id');
    expect(answer.body.includes.tweets).toEqual([
      { id, text: 'newest from alice', edit_history_tweet_ids: [id] },
    ]);
  });

  it('shows confirmed_email only to a token with users.email', async () => {
    expect((await getMe('?user.fields=confirmed_email')).body.data).not.toHaveProperty('confirmed_email');
    const withEmail = await connectUser(emulator, {
      username: 'emailer',
      scopes: ['tweet.read', 'users.read', 'users.email'],
    });
    const answer = await getMe('?user.fields=confirmed_email', withEmail.accessToken);
    expect(answer.body.data.confirmed_email).toMatch(/^emailer@/);
  });

  it('refuses an unknown field value and an unknown parameter with X invalid-request problem', async () => {
    const badField = await getMe('?user.fields=id,shoe_size');
    expect(badField.status).toBe(400);
    expect(badField.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(badField.body).toMatchObject({
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
      errors: [{ parameters: { 'user.fields': ['id,shoe_size'] } }],
    });
    expect(badField.body.errors[0].message).toMatch(
      /^The `user.fields` query parameter value \[shoe_size\] is not one of \[/,
    );

    const badParameter = await getMe('?max_results=5');
    expect(badParameter.status).toBe(400);
    expect(badParameter.body.errors[0].message).toMatch(
      /^The query parameter \[max_results\] is not one of \[/,
    );
  });

  it('answers X 401 without a token, with an unknown one, or with a non-Bearer header', async () => {
    const unauthorized = { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' };
    for (const token of [null, 'not-a-token']) {
      const answer = await getMe('', token);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toEqual(unauthorized);
    }
    const basic = await fetch(`${url}/2/users/me`, { headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);
  });

  it('answers X 403 when the token lacks users.read', async () => {
    const narrow = await connectUser(emulator, { username: 'narrow', scopes: ['tweet.read'] });
    const answer = await getMe('', narrow.accessToken);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({
      detail: 'You are not permitted to perform this action.',
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
    });
  });
});

describe('scope enforcement on the other routes', () => {
  it('media upload needs media.write and tweet creation needs tweet.write', async () => {
    const readOnly = await connectUser(emulator, {
      username: 'reader',
      scopes: ['tweet.read', 'users.read'],
    });
    const upload = await fetch(`${url}/2/media/upload/initialize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ media_type: 'image/png', total_bytes: 10, media_category: 'tweet_image' }),
    });
    const uploadBody = await upload.json();
    expect(upload.status).toBe(403);
    expectConformsToSpec('POST', '/2/media/upload/initialize', 403, uploadBody);

    const create = await fetch(`${url}/2/tweets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'not allowed' }),
    });
    const createBody = await create.json();
    expect(create.status).toBe(403);
    expectConformsToSpec('POST', '/2/tweets', 403, createBody);
    expect(emulator.control.tweets().some((t) => t.text === 'not allowed')).toBe(false);
  });
});
