import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createXClient, defaultScopes, type XClient, type XRateLimitInfo } from '../src/x/index.ts';
import { gif as animatedGif, png } from './fixtures/media.ts';
import { startTestEmulator, type TestEmulator } from './helpers/emulator.ts';
import { freePort } from './helpers/index.ts';

const REDIRECT = 'http://127.0.0.1:9/auth/x/callback';

describe('X client against the emulator', () => {
  let emulator: TestEmulator;
  const reports: { info: XRateLimitInfo; xUserId?: string }[] = [];
  const sleeps: number[] = [];

  function client(options: { secret?: string; timeoutMs?: number } = {}): XClient {
    return createXClient({
      oauth: {
        apiUrl: emulator.url,
        authorizeUrl: `${emulator.url}/i/oauth2/authorize`,
        clientId: options.secret ? 'confidential-app' : 'public-app',
        ...(options.secret && { clientSecret: options.secret }),
        redirectUri: REDIRECT,
        scopes: defaultScopes,
      },
      timeoutMs: options.timeoutMs ?? 5000,
      chunkBytes: 1024,
      // Waiting for media processing moves the emulator's clock instead of the test's time.
      sleep: async (ms) => {
        sleeps.push(ms);
        emulator.control.advanceClock(ms / 1000);
      },
      onRateLimit: (info, context) => reports.push({ info, ...context }),
    });
  }

  /** Authorizes through the emulator (auto-approve) and exchanges the code. */
  async function signIn(x: XClient, username: string) {
    const user = emulator.control.createUser({ username });
    emulator.control.setAutoApprove(user.id);
    const request = await x.startAuthorization();
    const answer = await fetch(request.url, { redirect: 'manual' });
    const callback = new URL(answer.headers.get('location') ?? '');
    expect(callback.searchParams.get('state')).toBe(request.state);
    const tokens = await x.exchangeCode(callback.searchParams, request.state, request.codeVerifier);
    emulator.control.setAutoApprove(null);
    return { user, tokens };
  }

  beforeAll(async () => {
    emulator = await startTestEmulator({
      clients: [
        { clientId: 'public-app', redirectUris: [REDIRECT] },
        { clientId: 'confidential-app', clientSecret: 's3cret-with:colon', redirectUris: [REDIRECT] },
      ],
    });
  });
  afterAll(() => emulator?.stop());
  beforeEach(() => emulator.control.clearFaults());

  it('runs the PKCE flow, refreshes (rotating) and revokes, as public and confidential client', async () => {
    for (const [x, name] of [
      [client(), 'pubuser'],
      [client({ secret: 's3cret-with:colon' }), 'confuser'],
    ] as const) {
      const { user, tokens } = await signIn(x, name);
      expect(tokens.refreshToken).toEqual(expect.any(String));
      expect(tokens.scopes).toEqual(expect.arrayContaining([...defaultScopes]));
      expect(tokens.expiresAt).toBeGreaterThan(Date.now() + 7000_000);
      const me = await x.forToken(tokens.accessToken, { xUserId: user.id }).getMe();
      expect(me).toMatchObject({ id: user.id, username: name });

      const refreshed = await x.refresh(tokens.refreshToken!);
      expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
      await expect(x.refresh(tokens.refreshToken!)).rejects.toMatchObject({
        code: 'x_invalid_grant',
        failureClass: 'terminal',
        status: 400,
        error: 'invalid_request',
      });
      await x.revoke(refreshed.refreshToken!, 'refresh_token');
      await expect(x.refresh(refreshed.refreshToken!)).rejects.toMatchObject({ code: 'x_invalid_grant' });
    }
  });

  it('a wrong client secret is an auth failure, not a dead grant', async () => {
    const good = client({ secret: 's3cret-with:colon' });
    const { tokens } = await signIn(good, 'secretcheck');
    await expect(client({ secret: 'wrong' }).refresh(tokens.refreshToken!)).rejects.toMatchObject({
      status: 401,
      failureClass: 'auth',
    });
  });

  it('creates, reads, lists and deletes tweets, and reports rate limits', async () => {
    const x = client();
    const { user, tokens } = await signIn(x, 'tweeter');
    const api = x.forToken(tokens.accessToken, { xUserId: user.id });
    reports.length = 0;
    const first = await api.createTweet({ text: 'first of a thread' });
    const second = await api.createTweet({ text: 'second', replyToTweetId: first.id });
    expect(first.id).toMatch(/^\d+$/);
    const fetched = await api.getTweets([first.id, second.id]);
    expect(fetched.map((t) => t.id).sort()).toEqual([first.id, second.id].sort());
    expect(fetched.find((t) => t.id === second.id)).toMatchObject({
      inReplyToTweetId: first.id,
      authorId: user.id,
    });
    const page = await api.getUserTweets(user.id, { maxResults: 5 });
    expect(page.tweets.map((t) => t.id)).toEqual([second.id, first.id]);
    const since = await api.getUserTweets(user.id, { sinceId: first.id });
    expect(since.tweets.map((t) => t.id)).toEqual([second.id]);
    expect(await api.deleteTweet(second.id)).toBe(true);
    expect((await api.getTweets([second.id])).map((t) => t.id)).toEqual([]);
    await expect(api.createTweet({ text: 'first of a thread' })).rejects.toMatchObject({
      code: 'x_duplicate_content',
      failureClass: 'terminal',
      status: 403,
    });

    const create = reports.find((r) => r.info.endpoint === 'POST /2/tweets');
    expect(create?.xUserId).toBe(user.id);
    expect(create?.info.window15m).toMatchObject({
      limit: expect.any(Number),
      remaining: expect.any(Number),
    });
  });

  it('classifies 429 (with its reset), 5xx on create, a cut connection and a timeout', async () => {
    const x = client({ timeoutMs: 300 });
    const { tokens } = await signIn(x, 'faulty');
    const api = x.forToken(tokens.accessToken);

    emulator.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'error', status: 503, count: 1 }]);
    await expect(api.createTweet({ text: 'a' })).rejects.toMatchObject({
      code: 'x_server_error',
      failureClass: 'ambiguous',
    });
    emulator.control.setFaults([
      { method: 'GET', path: '/2/users/me', kind: 'error', status: 503, count: 1 },
    ]);
    await expect(api.getMe()).rejects.toMatchObject({ code: 'x_server_error', failureClass: 'retryable' });

    emulator.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'drop_after_commit', count: 1 }]);
    await expect(api.createTweet({ text: 'dropped but posted' })).rejects.toMatchObject({
      code: 'x_connection_lost',
      failureClass: 'ambiguous',
    });
    expect(emulator.control.tweets().some((t) => t.text === 'dropped but posted')).toBe(true);

    emulator.control.setFaults([{ method: 'POST', path: '/2/tweets', kind: 'timeout', count: 1 }]);
    await expect(api.createTweet({ text: 'slow' })).rejects.toMatchObject({
      code: 'x_timeout',
      failureClass: 'ambiguous',
    });
    emulator.control.setFaults([{ method: 'GET', path: '/2/users/me', kind: 'timeout', count: 1 }]);
    await expect(api.getMe()).rejects.toMatchObject({ code: 'x_timeout', failureClass: 'retryable' });

    // The Free tier allows one timeline read per 15 minutes: the second is a real 429 with its reset header.
    emulator.control.setTier('free');
    const me = await api.getMe();
    let limited: unknown;
    for (let i = 0; i < 3 && limited === undefined; i += 1) {
      limited = await api.getUserTweets(me.id).then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    emulator.control.setTier('ppu');
    expect(limited).toMatchObject({ code: 'x_rate_limited', failureClass: 'retryable', status: 429 });
    expect((limited as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    expect((limited as { retryAfterMs?: number }).retryAfterMs).toBeLessThanOrEqual(15 * 60_000 + 1000);

    const unauthorized = x.forToken('not-a-token');
    await expect(unauthorized.getMe()).rejects.toMatchObject({
      code: 'x_unauthorized',
      failureClass: 'auth',
    });

    // Nothing listens on a port just released: the request never left.
    const closed = await freePort();
    for (const port of [closed, 9]) {
      const nowhere = createXClient({
        oauth: {
          apiUrl: `http://127.0.0.1:${port}`,
          authorizeUrl: `http://127.0.0.1:${port}/i/oauth2/authorize`,
          clientId: 'c',
          redirectUri: REDIRECT,
          scopes: [],
        },
      });
      await expect(nowhere.forToken('t').createTweet({ text: 'x' })).rejects.toMatchObject({
        code: 'x_network',
        failureClass: 'retryable',
      });
      await expect(nowhere.refresh('r')).rejects.toMatchObject({
        code: 'x_network',
        failureClass: 'retryable',
      });
    }
  });

  it('uploads an image in one shot and a GIF in chunks with STATUS polling, and sets alt text', async () => {
    const x = client();
    const { tokens } = await signIn(x, 'uploader');
    const api = x.forToken(tokens.accessToken);
    const image = await api.uploadMedia(png(), { mime: 'image/png', category: 'tweet_image' });
    expect(image.mediaId).toMatch(/^\d+$/);
    await api.setAltText(image.mediaId, 'a tiny square');

    sleeps.length = 0;
    const gifBytes = animatedGif(3);
    async function* stream() {
      for (let offset = 0; offset < gifBytes.length; offset += 300)
        yield gifBytes.subarray(offset, offset + 300);
    }
    const uploaded = await api.uploadMedia(
      { size: gifBytes.length, stream: stream() },
      { mime: 'image/gif', category: 'tweet_gif' },
    );
    expect(uploaded.mediaId).toMatch(/^\d+$/);
    // STATUS was polled after the waits X asked for (check_after_secs), not on a fixed timer.
    expect(sleeps.length).toBeGreaterThan(0);
    expect(sleeps.every((ms) => ms >= 1000 && ms % 1000 === 0)).toBe(true);
    const tweet = await api.createTweet({ text: 'with media', mediaIds: [uploaded.mediaId] });
    expect(emulator.control.tweets().find((t) => t.id === tweet.id)?.mediaIds).toEqual([uploaded.mediaId]);
  });
});
