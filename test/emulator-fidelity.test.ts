import http from 'node:http';
import { ApiResponseError, type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../emulator/index.ts';
import { specValidator } from '../emulator/testing/conformance.ts';
import { parseConsentForm } from '../emulator/testing/oauth.ts';

/**
 * An independent client against the emulator: twitter-api-v2, the most used TypeScript client of X's
 * API, pointed at the emulator with a plugin that rewrites x.com hosts (reference/peers.md §1.6). Every
 * JSON answer of a `/2/…` route that reaches the client is also checked against X's OpenAPI spec.
 */

const APP = {
  clientId: 'fidelity-app',
  clientSecret: 'fidelity-secret',
  redirectUri: 'http://127.0.0.1:9/callback',
};
const SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'media.write', 'offline.access'];
const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(5000, 7)]);

let emulator: Emulator;
let settings: { plugins: ITwitterApiClientPlugin[]; httpAgent: http.Agent };
const mismatches: string[] = [];
let checkedBodies = 0;

/** The spec's path template of a request path (ids → `:id`). */
function template(path: string): string {
  return path
    .replace(/^\/2\/tweets\/\d+$/, '/2/tweets/:id')
    .replace(/^\/2\/users\/\d+\/tweets$/, '/2/users/:id/tweets')
    .replace(/^\/2\/media\/upload\/\d+\/(append|finalize)$/, '/2/media/upload/:id/$1');
}

function checkAnswer(method: string, url: URL, status: number, body: unknown): void {
  if (!url.pathname.startsWith('/2/') || url.pathname.startsWith('/2/oauth2/')) return;
  checkedBodies++;
  const errors = specValidator().validate(method, template(url.pathname), status, body);
  if (errors.length > 0) mismatches.push(`${method} ${url.pathname} ${status}: ${errors.join('; ')}`);
}

function emulatorPlugin(base: URL): ITwitterApiClientPlugin {
  return {
    onOAuth2RequestToken({ result }) {
      result.url = result.url.replace('https://x.com', base.origin);
    },
    onBeforeRequest({ computedParams: { url } }) {
      if (/(^|\.)(x|twitter)\.com$/.test(url.hostname)) {
        url.protocol = base.protocol;
        url.hostname = base.hostname;
        url.port = base.port;
      }
    },
    onAfterRequest({ computedParams, response }) {
      const status =
        computedParams.method === 'POST' && computedParams.url.pathname === '/2/tweets' ? 201 : 200;
      if (response.data !== '' && typeof response.data === 'object') {
        checkAnswer(computedParams.method, computedParams.url, status, response.data);
      }
    },
    onResponseError({ computedParams, error }) {
      checkAnswer(computedParams.method, computedParams.url, error.code, error.data);
    },
  };
}

function appClient(): TwitterApi {
  return new TwitterApi({ clientId: APP.clientId, clientSecret: APP.clientSecret }, settings);
}

/** Signs a user in through the consent page, read and submitted with plain HTTP. */
async function loginThroughConsentPage(userId: string) {
  const link = appClient().generateOAuth2AuthLink(APP.redirectUri, { scope: SCOPES });
  expect(link.url.startsWith(emulator.url)).toBe(true);
  const page = await fetch(link.url);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const html = await page.text();
  expect(html).toContain('Authorize app');
  const form = parseConsentForm(html);
  const decision = await fetch(new URL(form.action, emulator.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.hidden, user_id: userId, decision: 'authorize' }),
  });
  expect(decision.status).toBe(302);
  const callback = new URL(decision.headers.get('location')!);
  expect(`${callback.origin}${callback.pathname}`).toBe(APP.redirectUri);
  expect(callback.searchParams.get('state')).toBe(link.state);
  return appClient().loginWithOAuth2({
    code: callback.searchParams.get('code')!,
    codeVerifier: link.codeVerifier,
    redirectUri: APP.redirectUri,
  });
}

/** Signs a user in without a page: the emulator's auto-approve answers the authorize URL with a redirect. */
async function loginWithAutoApprove(userId: string) {
  emulator.control.setAutoApprove(userId);
  const link = appClient().generateOAuth2AuthLink(APP.redirectUri, { scope: SCOPES });
  const answer = await fetch(link.url, { redirect: 'manual' });
  emulator.control.setAutoApprove(null);
  expect(answer.status).toBe(302);
  const callback = new URL(answer.headers.get('location')!);
  return appClient().loginWithOAuth2({
    code: callback.searchParams.get('code')!,
    codeVerifier: link.codeVerifier,
    redirectUri: APP.redirectUri,
  });
}

async function rejection(promise: Promise<unknown>): Promise<ApiResponseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiResponseError);
  return error as ApiResponseError;
}

beforeAll(async () => {
  emulator = await createEmulator({ tier: 'unlimited' });
  await emulator.listen();
  emulator.control.registerClient({
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    redirectUris: [APP.redirectUri],
    name: 'Fidelity',
  });
  settings = {
    plugins: [emulatorPlugin(new URL(emulator.url))],
    httpAgent: new http.Agent({ keepAlive: true }),
  };
});

afterAll(async () => {
  settings.httpAgent.destroy();
  await emulator.close();
});

describe('twitter-api-v2 against the emulator', () => {
  it('OAuth 2.0: login through the consent page and auto-approve, refresh twice, reuse fails, revoke', async () => {
    const ada = emulator.control.createUser({ username: 'ada' });
    const login = await loginThroughConsentPage(ada.id);
    expect(login.expiresIn).toBe(7200);
    expect([...login.scope].sort()).toEqual([...SCOPES].sort());
    expect(login.refreshToken).toEqual(expect.any(String));
    const me = await login.client.v2.me();
    expect(me.data).toEqual({ id: ada.id, name: 'ada', username: 'ada' });

    const first = await appClient().refreshOAuth2Token(login.refreshToken!);
    const second = await appClient().refreshOAuth2Token(first.refreshToken!);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await second.client.v2.me()).data.id).toBe(ada.id);
    const reused = await rejection(appClient().refreshOAuth2Token(login.refreshToken!));
    expect(reused.code).toBe(400);
    expect(reused.data).toMatchObject({
      error: 'invalid_request',
      error_description: 'Value passed for the token was invalid.',
    });

    await appClient().revokeOAuth2Token(second.accessToken, 'access_token');
    const revoked = await rejection(second.client.v2.me());
    expect(revoked.code).toBe(401);
    expect(revoked.isAuthError).toBe(true);

    const grace = emulator.control.createUser({ username: 'grace' });
    const auto = await loginWithAutoApprove(grace.id);
    expect((await auto.client.v2.me()).data.username).toBe('grace');
  });

  it('tweets, a 4-tweet thread, a chunked GIF upload on a tweet, delete, and a paged timeline with metrics', async () => {
    const linus = emulator.control.createUser({ username: 'linus' });
    const { client } = await loginWithAutoApprove(linus.id);

    const single = await client.v2.tweet('Hello from twitter-api-v2 https://example.com/hello');
    expect(single.data.text).toMatch(/^Hello from twitter-api-v2 https:\/\/t\.co\/\w{10}$/);

    await client.v2.tweet('an earlier tweet');
    const thread = await client.v2.tweetThread(['thread 1/4', 'thread 2/4', 'thread 3/4', 'thread 4/4']);
    expect(thread).toHaveLength(4);
    const ledger = emulator.control.tweets();
    const byId = new Map(ledger.map((t) => [t.id, t]));
    expect(byId.get(thread[0]!.data.id)?.inReplyToTweetId).toBeNull();
    for (let i = 1; i < 4; i++) {
      expect(byId.get(thread[i]!.data.id)?.inReplyToTweetId).toBe(thread[i - 1]!.data.id);
    }

    const mediaId = await client.v2.uploadMedia(GIF, { media_type: 'image/gif' }, 1024);
    const requests = emulator.control.requests().map((r) => `${r.method} ${r.path}`);
    expect(requests.filter((r) => r.endsWith('/append'))).toHaveLength(Math.ceil(GIF.length / 1024));
    expect(requests.some((r) => r === 'GET /2/media/upload')).toBe(true);
    await client.v2.createMediaMetadata(mediaId, { alt_text: { text: 'A grey square' } });
    const withGif = await client.v2.tweet({ text: 'a GIF', media: { media_ids: [mediaId] } });
    expect(withGif.data.text).toMatch(/^a GIF https:\/\/t\.co\/\w{10}$/);
    expect(emulator.control.tweets().find((t) => t.id === withGif.data.id)?.mediaIds).toEqual([mediaId]);

    const deleted = await client.v2.deleteTweet(single.data.id);
    expect(deleted.data.deleted).toBe(true);
    expect(emulator.control.tweets().find((t) => t.id === single.data.id)?.deletedAt).toEqual(
      expect.any(Number),
    );

    const timeline = await client.v2.userTimeline(linus.id, {
      max_results: 5,
      'tweet.fields': [
        'created_at',
        'public_metrics',
        'non_public_metrics',
        'organic_metrics',
        'attachments',
      ],
      expansions: ['attachments.media_keys'],
      'media.fields': ['alt_text', 'type'],
    });
    expect(timeline.tweets).toHaveLength(5);
    expect(timeline.meta.next_token).toEqual(expect.any(String));
    expect(timeline.tweets[0]).toMatchObject({
      id: withGif.data.id,
      attachments: { media_keys: [`16_${mediaId}`] },
      public_metrics: expect.objectContaining({ impression_count: expect.any(Number) }),
      non_public_metrics: expect.objectContaining({ engagements: expect.any(Number) }),
    });
    expect(timeline.includes.media).toEqual([
      { media_key: `16_${mediaId}`, type: 'animated_gif', alt_text: 'A grey square' },
    ]);
    await timeline.fetchNext();
    expect(timeline.tweets.map((t) => t.text.replace(/ https:\/\/t\.co\/\w{10}$/, ''))).toEqual([
      'a GIF',
      'thread 4/4',
      'thread 3/4',
      'thread 2/4',
      'thread 1/4',
      'an earlier tweet',
    ]);
    expect(timeline.done).toBe(true);
  });

  it('reads rate limits from the headers and gets a 429 on the free tier', async () => {
    const rosa = emulator.control.createUser({ username: 'rosa' });
    const { client } = await loginWithAutoApprove(rosa.id);
    emulator.control.setTier('free');
    try {
      const first = await client.v2.post('tweets', { text: 'counted 0' }, { fullResponse: true });
      expect(first.rateLimit).toMatchObject({ limit: expect.any(Number), remaining: expect.any(Number) });
      expect(first.rateLimit?.reset).toBeGreaterThan(Date.now() / 1000);
      expect(first.rateLimit?.userDay).toMatchObject({ limit: 17, remaining: 16 });
      expect(first.rateLimit?.day).toMatchObject({ limit: 17, remaining: expect.any(Number) });
      for (let i = 1; i < 17; i++) await client.v2.tweet(`counted ${i}`);
      const refused = await rejection(client.v2.tweet('one too many'));
      expect(refused.code).toBe(429);
      expect(refused.rateLimitError).toBe(true);
      expect(refused.rateLimit?.userDay?.remaining).toBe(0);
      expect(refused.data).toEqual({
        title: 'Too Many Requests',
        detail: 'Too Many Requests',
        type: 'about:blank',
        status: 429,
      });
    } finally {
      emulator.control.setTier('unlimited');
    }
  });

  it('every /2/ answer the client received conforms to X’s OpenAPI spec', () => {
    expect(checkedBodies).toBeGreaterThan(20);
    expect(mismatches).toEqual([]);
  });
});
