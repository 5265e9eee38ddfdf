import { describe, expect, it } from 'vitest';
import { classifyFailure } from './errors.ts';
import { buildAuthorizationUrl, type XOAuthConfig } from './oauth.ts';
import { parseRateLimitHeaders, retryAfterMs } from './rate-limit.ts';
import {
  createTweetRequest,
  getTweetsRequest,
  getUserTweetsRequest,
  readMedia,
  readTweetPage,
  readUser,
} from './requests.ts';
import { responseError, transportFailure } from './transport.ts';

describe('classifyFailure', () => {
  it.each([
    [{ kind: 'create', transport: 'before_send' }, 'retryable', 'x_network'],
    [{ kind: 'create', transport: 'timeout' }, 'ambiguous', 'x_timeout'],
    [{ kind: 'idempotent', transport: 'timeout' }, 'retryable', 'x_timeout'],
    [{ kind: 'create', transport: 'after_send' }, 'ambiguous', 'x_connection_lost'],
    [{ kind: 'token', transport: 'after_send' }, 'ambiguous', 'x_connection_lost'],
    [{ kind: 'idempotent', transport: 'after_send' }, 'retryable', 'x_connection_lost'],
    [{ kind: 'create', status: 503 }, 'ambiguous', 'x_server_error'],
    [{ kind: 'token', status: 500 }, 'retryable', 'x_server_error'],
    [{ kind: 'idempotent', status: 500 }, 'retryable', 'x_server_error'],
    [{ kind: 'create', status: 429 }, 'retryable', 'x_rate_limited'],
    [{ kind: 'create', status: 401 }, 'auth', 'x_unauthorized'],
    [{ kind: 'token', status: 400, oauthError: 'invalid_request' }, 'terminal', 'x_invalid_grant'],
    [{ kind: 'token', status: 400, oauthError: 'invalid_grant' }, 'terminal', 'x_invalid_grant'],
    [
      {
        kind: 'create',
        status: 403,
        detail: 'You are not allowed to create a Tweet with duplicate content.',
      },
      'terminal',
      'x_duplicate_content',
    ],
    [
      { kind: 'create', status: 403, detail: 'You are not permitted to perform this action.' },
      'terminal',
      'x_forbidden',
    ],
    [{ kind: 'create', status: 400 }, 'terminal', 'x_invalid_request'],
    [{ kind: 'idempotent', status: 404 }, 'terminal', 'x_not_found'],
    [{ kind: 'create', status: 201 }, 'ambiguous', 'x_unreadable_body'],
  ] as const)('%o → %s %s', (facts, failureClass, code) => {
    expect(classifyFailure(facts)).toEqual({ failureClass, code });
  });
});

describe('transportFailure', () => {
  it('tells a refused connection from a cut one', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    const cut = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }),
    });
    expect(transportFailure(refused, false)).toBe('before_send');
    expect(transportFailure(cut, false)).toBe('after_send');
    expect(transportFailure(cut, true)).toBe('timeout');
  });
});

describe('rate-limit headers', () => {
  const headers = new Headers({
    'x-rate-limit-limit': '100',
    'x-rate-limit-remaining': '99',
    'x-rate-limit-reset': '1000',
    'x-user-limit-24hour-limit': '17',
    'x-user-limit-24hour-remaining': '0',
    'x-user-limit-24hour-reset': '5000',
  });

  it('reads the 15-minute and 24-hour windows', () => {
    expect(parseRateLimitHeaders('POST /2/tweets', headers)).toEqual({
      endpoint: 'POST /2/tweets',
      window15m: { limit: 100, remaining: 99, resetAt: 1_000_000 },
      user24h: { limit: 17, remaining: 0, resetAt: 5_000_000 },
    });
    expect(parseRateLimitHeaders('GET /2/users/me', new Headers())).toBeUndefined();
  });

  it('waits for the exhausted 24-hour window rather than the 15-minute one', () => {
    const info = parseRateLimitHeaders('POST /2/tweets', headers);
    expect(retryAfterMs(info, 4_000_000)).toBe(1_000_000);
  });

  it('puts the wait on a 429 XError', () => {
    const info = parseRateLimitHeaders('POST /2/tweets', headers);
    const error = responseError(
      'POST /2/tweets',
      'create',
      429,
      { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
      info,
      4_500_000,
    );
    expect(error).toMatchObject({ code: 'x_rate_limited', failureClass: 'retryable', retryAfterMs: 500_000 });
  });
});

describe('request builders', () => {
  it('builds a reply with media', () => {
    expect(createTweetRequest({ text: 'hi', replyToTweetId: '12', mediaIds: ['7'] }).json).toEqual({
      text: 'hi',
      reply: { in_reply_to_tweet_id: '12' },
      media: { media_ids: ['7'] },
    });
    expect(createTweetRequest({ text: 'hi', mediaIds: [] }).json).toEqual({ text: 'hi' });
  });

  it('formats start_time the way X wants it', () => {
    const request = getUserTweetsRequest('42', {
      startTime: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      maxResults: 5,
    });
    expect(request.path).toBe('/2/users/42/tweets');
    expect(request.query).toMatchObject({ start_time: '2026-01-02T03:04:05Z', max_results: '5' });
  });

  it('asks for note_tweet, the whole text of a long post, when reading tweets', () => {
    for (const request of [getUserTweetsRequest('42'), getTweetsRequest(['1'])]) {
      expect(request.query?.['tweet.fields']?.split(',')).toContain('note_tweet');
    }
  });

  it('builds the authorize URL with PKCE S256', () => {
    const config: XOAuthConfig = {
      apiUrl: 'http://127.0.0.1:1',
      authorizeUrl: 'http://127.0.0.1:1/i/oauth2/authorize',
      clientId: 'cid',
      redirectUri: 'http://127.0.0.1:2/auth/x/callback',
      scopes: ['tweet.read', 'offline.access'],
    };
    const url = buildAuthorizationUrl(config, 'st', 'ch');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'http://127.0.0.1:2/auth/x/callback',
      scope: 'tweet.read offline.access',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });
});

describe('response readers', () => {
  it('reads a user, a page and a processing media', () => {
    expect(readUser({ data: { id: '1', username: 'a', name: 'A', subscription_type: 'Premium' } })).toEqual({
      id: '1',
      username: 'a',
      name: 'A',
      profileImageUrl: null,
      subscriptionType: 'Premium',
    });
    expect(
      readTweetPage({
        data: [{ id: '2', text: 't', referenced_tweets: [{ type: 'replied_to', id: '1' }] }],
        meta: { result_count: 1, next_token: 'n' },
      }),
    ).toEqual({ tweets: [{ id: '2', text: 't', inReplyToTweetId: '1' }], nextToken: 'n' });
    expect(readTweetPage({ meta: { result_count: 0 } })).toEqual({ tweets: [] });
    expect(
      readMedia({ data: { id: '9', processing_info: { state: 'pending', check_after_secs: 2 } } }, 'x'),
    ).toMatchObject({ mediaId: '9', processing: { state: 'pending', checkAfterSecs: 2 } });
  });

  it('reads a long post by its whole text: note_tweet.text over the shortened text', () => {
    const whole = `${'word '.repeat(200)}end`;
    const shortened = `${'word '.repeat(50).trimEnd()}… https://t.co/abcdefghij`;
    expect(
      readTweetPage({
        data: [
          { id: '3', text: shortened, note_tweet: { text: whole } },
          { id: '4', text: 'short' },
        ],
      }),
    ).toEqual({
      tweets: [
        { id: '3', text: whole },
        { id: '4', text: 'short' },
      ],
    });
  });

  it('refuses a body without data', () => {
    expect(() => readUser({})).toThrow(expect.objectContaining({ code: 'x_unreadable_body' }));
  });
});
