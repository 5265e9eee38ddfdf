import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmulator } from './index.ts';
import { authorizeUser } from './testing/oauth.ts';
import { useEmulator } from './testing/suite.ts';
import { xCaller } from './testing/x-call.ts';

const CLIENT = { clientId: 'tweets-test', redirectUri: 'http://127.0.0.1/cb' };
const START = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 24 * 60 * 60;

const emu = useEmulator({ client: CLIENT, start: START });
const { call, connect } = emu;

async function tweet(token: string, body: unknown) {
  return call('POST', '/2/tweets', { token, json: body });
}

describe('POST /2/tweets', () => {
  it('creates a tweet: 201 with id, text and edit history; ids increase', async () => {
    const alice = await connect('alice');
    const first = await tweet(alice.token, { text: 'hello world' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      data: {
        id: expect.stringMatching(/^\d{19}$/),
        text: 'hello world',
        edit_history_tweet_ids: [first.body.data.id],
      },
    });
    const second = await tweet(alice.token, { text: 'hello again' });
    expect(BigInt(second.body.data.id)).toBeGreaterThan(BigInt(first.body.data.id));
    expect(emu.emulator.control.tweets().map((t) => t.text)).toEqual(['hello world', 'hello again']);
  });

  it('rewrites URLs to 23-character t.co links', async () => {
    const alice = await connect('alice');
    const answer = await tweet(alice.token, {
      text: 'read https://example.com/a/very/long/path?x=1 and example.org',
    });
    expect(answer.status).toBe(201);
    expect(answer.body.data.text).toMatch(
      /^read https:\/\/t\.co\/[A-Za-z0-9]{10} and https:\/\/t\.co\/[A-Za-z0-9]{10}$/,
    );
    const read = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: answer.body.data.id },
      query: { 'tweet.fields': 'entities' },
    });
    expect(read.body.data.entities.urls).toEqual([
      expect.objectContaining({
        start: 5,
        end: 28,
        expanded_url: 'https://example.com/a/very/long/path?x=1',
      }),
      expect.objectContaining({
        start: 33,
        end: 56,
        expanded_url: 'http://example.org',
        display_url: 'example.org',
      }),
    ]);
  });

  it('shows &, < and > as HTML entities, as X does; the ledger keeps the text as posted', async () => {
    const alice = await connect('alice');
    const answer = await tweet(alice.token, { text: 'Tom & Jerry <3 >_<' });
    expect(answer.body.data.text).toBe('Tom &amp; Jerry &lt;3 &gt;_&lt;');
    const read = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: answer.body.data.id },
    });
    expect(read.body.data.text).toBe('Tom &amp; Jerry &lt;3 &gt;_&lt;');
    expect(emu.emulator.control.tweets()[0]?.text).toBe('Tom & Jerry <3 >_<');
    expect((await tweet(alice.token, { text: 'Tom & Jerry <3 >_<' })).status).toBe(403);
  });

  it('stores text in Unicode NFC, so composed and decomposed forms are the same text', async () => {
    const alice = await connect('alice');
    const decomposed = await tweet(alice.token, { text: 'cafe\u0301' });
    expect(decomposed.body.data.text).toBe('caf\u00e9');
    expect((await tweet(alice.token, { text: 'caf\u00e9' })).status).toBe(403);
  });

  it('refuses unknown body keys and wrong types with the invalid-request envelope', async () => {
    const alice = await connect('alice');
    const unknown = await tweet(alice.token, { text: 'hi', colour: 'blue' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
      errors: [
        {
          parameters: { '$.colour': ['"blue"'] },
          message:
            '$.colour: is not defined in the schema and the schema does not allow additional properties',
        },
      ],
    });
    const badReply = await tweet(alice.token, { text: 'hi', reply: { in_reply_to_tweet_id: 'abc' } });
    expect(badReply.status).toBe(400);
    expect(badReply.body.errors[0].message).toBe(
      '$.reply.in_reply_to_tweet_id: does not match the regex pattern ^[0-9]{1,19}$',
    );
    const notString = await tweet(alice.token, { text: 5 });
    expect(notString.body.errors[0].message).toBe('$.text: integer found, string expected');
    const fiveMedia = await tweet(alice.token, {
      text: 'hi',
      media: { media_ids: ['1', '2', '3', '4', '5'] },
    });
    expect(fiveMedia.body.errors[0].message).toBe(
      '$.media.media_ids: there must be a maximum of 4 items in the array',
    );
    const noMedia = await tweet(alice.token, { text: 'hi', media: { media_ids: [] } });
    expect(noMedia.body.errors[0].message).toBe(
      '$.media.media_ids: there must be a minimum of 1 items in the array',
    );
    const missing = await tweet(alice.token, { text: 'hi', reply: {} });
    expect(missing.body.errors[0].message).toBe(
      '$.reply.in_reply_to_tweet_id: is missing but it is required',
    );
    const notObject = await tweet(alice.token, ['hi']);
    expect(notObject.status).toBe(400);
    expect(emu.emulator.control.tweets()).toEqual([]);
  });

  it('refuses a body with neither text nor media', async () => {
    const alice = await connect('alice');
    const empty = await tweet(alice.token, {});
    expect(empty.status).toBe(400);
    expect(empty.body.type).toBe('https://api.twitter.com/2/problems/invalid-request');
    const blank = await tweet(alice.token, { text: '   ' });
    expect(blank.status).toBe(400);
  });

  it('enforces the mutual exclusions of media, poll, quote and card', async () => {
    const alice = await connect('alice');
    const posted = await tweet(alice.token, { text: 'original' });
    for (const body of [
      { text: 'x', poll: { options: ['a', 'b'], duration_minutes: 5 }, quote_tweet_id: posted.body.data.id },
      { text: 'x', media: { media_ids: ['1'] }, card_uri: 'card://1' },
      { text: 'x', card_uri: 'card://1', direct_message_deep_link: 'https://x.com/messages/compose' },
    ]) {
      const answer = await tweet(alice.token, body);
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].message).toMatch(/^You can only provide one of /);
    }
    const deepLinkAndQuote = await tweet(alice.token, {
      text: 'quote with a deep link',
      quote_tweet_id: posted.body.data.id,
      direct_message_deep_link: 'https://x.com/messages/compose',
    });
    expect(deepLinkAndQuote.status).toBe(201);
  });

  it('validates poll options and duration', async () => {
    const alice = await connect('alice');
    const one = await tweet(alice.token, { text: 'poll', poll: { options: ['only'], duration_minutes: 5 } });
    expect(one.body.errors[0].message).toBe(
      '$.poll.options: there must be a minimum of 2 items in the array',
    );
    const short = await tweet(alice.token, {
      text: 'poll',
      poll: { options: ['a', 'b'], duration_minutes: 4 },
    });
    expect(short.body.errors[0].message).toBe('$.poll.duration_minutes: must have a minimum value of 5');
    const long = await tweet(alice.token, {
      text: 'poll',
      poll: { options: ['a'.repeat(26), 'b'], duration_minutes: 5 },
    });
    expect(long.body.errors[0].message).toBe('$.poll.options[0]: may only be 25 characters long');
    const ok = await tweet(alice.token, { text: 'poll', poll: { options: ['a', 'b'], duration_minutes: 5 } });
    expect(ok.status).toBe(201);
  });

  it('counts weighted length with twitter-text: 280 for everyone, 25,000 for Premium', async () => {
    const alice = await connect('alice');
    expect((await tweet(alice.token, { text: 'a'.repeat(280) })).status).toBe(201);
    const tooLong = await tweet(alice.token, { text: 'b'.repeat(281) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].message).toBe(
      'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
    );
    // CJK counts 2: 141 characters weigh 282.
    expect((await tweet(alice.token, { text: '日'.repeat(141) })).status).toBe(400);
    expect((await tweet(alice.token, { text: '日'.repeat(140) })).status).toBe(201);
    // A URL counts 23 whatever its length.
    expect(
      (await tweet(alice.token, { text: `${'c'.repeat(256)} https://example.com/${'p'.repeat(100)}` }))
        .status,
    ).toBe(201);
    const premium = await connect('paula', { subscriptionType: 'Premium' });
    expect((await tweet(premium.token, { text: 'd'.repeat(25_000) })).status).toBe(201);
    expect((await tweet(premium.token, { text: 'e'.repeat(25_001) })).status).toBe(400);
  });

  it('refuses the same text from the same user with the duplicate-content 403, within the window', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const first = await tweet(alice.token, { text: 'same words https://example.com' });
    expect(first.status).toBe(201);
    const again = await tweet(alice.token, { text: 'same words https://example.com' });
    expect(again.status).toBe(403);
    expect(again.body).toEqual({
      detail: 'You are not allowed to create a Tweet with duplicate content.',
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
    });
    expect((await tweet(bob.token, { text: 'same words https://example.com' })).status).toBe(201);

    emu.emulator.control.advanceClock(DAY + 1);
    // Access tokens live 2 hours: authorize again a day later.
    const later = await emu.reauthorize(alice.id);
    expect((await tweet(later.token, { text: 'same words https://example.com' })).status).toBe(201);
  });

  it('takes the duplicate window from createEmulator, and keeps it across a reset', async () => {
    const short = await createEmulator({ tier: 'unlimited', now: () => START, duplicateWindowSeconds: 60 });
    const shortUrl = await short.listen();
    const shortCall = xCaller(shortUrl);
    try {
      short.control.reset();
      short.control.registerClient({ clientId: CLIENT.clientId, redirectUris: [CLIENT.redirectUri] });
      const user = short.control.createUser({ username: 'brief' });
      const token = (await authorizeUser(shortUrl, { ...CLIENT, userId: user.id })).access_token;
      const post = () => shortCall('POST', '/2/tweets', { token, json: { text: 'once a minute' } });
      expect((await post()).status).toBe(201);
      expect((await post()).status).toBe(403);
      short.control.advanceClock(61);
      expect((await post()).status).toBe(201);
    } finally {
      await short.close();
    }
  });

  it('allows the text of a deleted tweet again', async () => {
    const alice = await connect('alice');
    const first = await tweet(alice.token, { text: 'oops' });
    await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id: first.body.data.id } });
    expect((await tweet(alice.token, { text: 'oops' })).status).toBe(201);
  });

  it('threads: a reply needs an existing, undeleted tweet; conversation_id follows the root', async () => {
    const alice = await connect('alice');
    const root = await tweet(alice.token, { text: '1/3' });
    const second = await tweet(alice.token, {
      text: '2/3',
      reply: { in_reply_to_tweet_id: root.body.data.id },
    });
    const third = await tweet(alice.token, {
      text: '3/3',
      reply: { in_reply_to_tweet_id: second.body.data.id },
    });
    expect(third.status).toBe(201);
    const read = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: third.body.data.id },
      query: { 'tweet.fields': 'conversation_id,in_reply_to_user_id,referenced_tweets,author_id' },
    });
    expect(read.body.data).toMatchObject({
      conversation_id: root.body.data.id,
      in_reply_to_user_id: alice.id,
      author_id: alice.id,
      referenced_tweets: [{ type: 'replied_to', id: second.body.data.id }],
    });

    const missing = await tweet(alice.token, { text: 'to nowhere', reply: { in_reply_to_tweet_id: '123' } });
    expect(missing.status).toBe(403);
    expect(missing.body.detail).toBe(
      'You attempted to reply to a Tweet that is deleted or not visible to you.',
    );
    await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id: root.body.data.id } });
    const toDeleted = await tweet(alice.token, {
      text: 'late',
      reply: { in_reply_to_tweet_id: root.body.data.id },
    });
    expect(toDeleted.status).toBe(403);
    expect(emu.emulator.control.tweets().find((t) => t.text === '2/3')?.inReplyToTweetId).toBe(
      root.body.data.id,
    );
  });

  it('refuses unknown media ids', async () => {
    const alice = await connect('alice');
    const answer = await tweet(alice.token, { text: 'pic', media: { media_ids: ['42'] } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { parameters: { 'media.media_ids': ['42'] }, message: 'Your media IDs are invalid.' },
    ]);
  });

  it('needs tweet.read tweet.write users.read and a valid token', async () => {
    const reader = await connect('reader', { scopes: ['tweet.read', 'users.read'] });
    const forbidden = await tweet(reader.token, { text: 'hi' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toBe('You are not permitted to perform this action.');
    const anonymous = await tweet('not-a-token', { text: 'hi' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({
      title: 'Unauthorized',
      type: 'about:blank',
      status: 401,
      detail: 'Unauthorized',
    });
    expect(emu.emulator.control.tweets()).toEqual([]);
  });

  it('sends both rate-limit header families and 429s on the free tier', async () => {
    emu.emulator.control.setTier('free');
    const alice = await connect('alice');
    let last = await tweet(alice.token, { text: 'tweet 0' });
    expect(last.headers.get('x-rate-limit-limit')).not.toBeNull();
    expect(last.headers.get('x-user-limit-24hour-limit')).toBe('17');
    expect(last.headers.get('x-user-limit-24hour-remaining')).toBe('16');
    for (let i = 1; i < 17; i++) last = await tweet(alice.token, { text: `tweet ${i}` });
    expect(last.status).toBe(201);
    const refused = await tweet(alice.token, { text: 'tweet 17' });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      title: 'Too Many Requests',
      detail: 'Too Many Requests',
      type: 'about:blank',
      status: 429,
    });
    expect(emu.emulator.control.tweets()).toHaveLength(17);
  });
});

describe('DELETE /2/tweets/:id', () => {
  it('deletes the author’s tweet and keeps it in the ledger with deletedAt', async () => {
    const alice = await connect('alice');
    const posted = await tweet(alice.token, { text: 'short-lived' });
    const id = posted.body.data.id;
    const deleted = await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id } });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ data: { deleted: true } });
    expect(emu.emulator.control.tweets()).toEqual([expect.objectContaining({ id, deletedAt: START })]);
    const read = await call('GET', '/2/tweets/:id', { token: alice.token, params: { id } });
    expect(read.body.data).toBeUndefined();
    expect(read.body.errors[0]).toMatchObject({
      resource_type: 'tweet',
      resource_id: id,
      title: 'Not Found Error',
    });
  });

  it('refuses other users’ tweets, unknown ids and malformed ids', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const posted = await tweet(alice.token, { text: 'mine' });
    const id = posted.body.data.id;
    const byBob = await call('DELETE', '/2/tweets/:id', { token: bob.token, params: { id } });
    expect(byBob.status).toBe(403);
    expect(emu.emulator.control.tweets()[0]?.deletedAt).toBeNull();
    const unknown = await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id: '99' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toMatchObject({ resource_type: 'tweet', resource_id: '99' });
    const malformed = await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id: 'abc' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].message).toBe(
      'The `id` query parameter value [abc] does not match ^[0-9]{1,19}$',
    );
    await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id } });
    const twice = await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id } });
    expect(twice.status).toBe(404);
  });
});

describe('GET /2/tweets/:id and GET /2/tweets', () => {
  it('returns default fields, requested fields and expansions', async () => {
    const alice = await connect('alice');
    const posted = await tweet(alice.token, { text: 'look #emulator @bob' });
    const id = posted.body.data.id;
    const plain = await call('GET', '/2/tweets/:id', { token: alice.token, params: { id } });
    expect(plain.body).toEqual({ data: { id, text: 'look #emulator @bob', edit_history_tweet_ids: [id] } });
    const rich = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id },
      query: {
        'tweet.fields': 'created_at,author_id,entities,public_metrics,edit_controls',
        expansions: 'author_id',
      },
    });
    expect(rich.body.data).toMatchObject({
      created_at: new Date(START).toISOString(),
      author_id: alice.id,
      entities: {
        hashtags: [{ start: 5, end: 14, tag: 'emulator' }],
        mentions: [{ start: 15, end: 19, username: 'bob' }],
      },
      public_metrics: { like_count: 0, impression_count: 0 },
      edit_controls: { is_edit_eligible: true, edits_remaining: 5 },
    });
    expect(rich.body.includes.users).toEqual([{ id: alice.id, name: 'alice', username: 'alice' }]);
    const renamed = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id },
      query: { 'post.fields': 'author_id' },
    });
    expect(renamed.body.data.author_id).toBe(alice.id);
  });

  it('refuses unknown fields and parameters', async () => {
    const alice = await connect('alice');
    const posted = await tweet(alice.token, { text: 'x' });
    const badField = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: posted.body.data.id },
      query: { 'tweet.fields': 'colour' },
    });
    expect(badField.status).toBe(400);
    expect(badField.body.errors[0].message).toMatch(
      /^The `tweet.fields` query parameter value \[colour\] is not one of \[/,
    );
    const badParam = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: posted.body.data.id },
      query: { colour: 'red' },
    });
    expect(badParam.status).toBe(400);
    expect(badParam.body.errors[0].message).toMatch(/^The query parameter \[colour\] is not one of \[/);
  });

  it('looks up several ids with partial errors', async () => {
    const alice = await connect('alice');
    const a = await tweet(alice.token, { text: 'a' });
    const b = await tweet(alice.token, { text: 'b' });
    const answer = await call('GET', '/2/tweets', {
      token: alice.token,
      query: { ids: `${a.body.data.id},5,${b.body.data.id}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data.map((t: { text: string }) => t.text)).toEqual(['a', 'b']);
    expect(answer.body.errors).toEqual([expect.objectContaining({ resource_id: '5', parameter: 'ids' })]);
    const none = await call('GET', '/2/tweets', { token: alice.token });
    expect(none.status).toBe(400);
    const tooMany = await call('GET', '/2/tweets', {
      token: alice.token,
      query: { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)).join(',') },
    });
    expect(tooMany.status).toBe(400);
  });
});

describe('state file', () => {
  it('keeps tweets across a restart: timeline, duplicate check and ledger still work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-tweets-'));
    try {
      const statePath = join(dir, 'state.json');
      const first = await createEmulator({ tier: 'unlimited', now: () => START, statePath });
      const firstUrl = await first.listen();
      first.control.registerClient({ clientId: CLIENT.clientId, redirectUris: [CLIENT.redirectUri] });
      const user = first.control.createUser({ username: 'keeper' });
      const token = (await authorizeUser(firstUrl, { ...CLIENT, userId: user.id })).access_token;
      const firstCall = xCaller(firstUrl);
      const kept = await firstCall('POST', '/2/tweets', {
        token,
        json: { text: 'kept https://example.com' },
      });
      expect(kept.status).toBe(201);
      await first.close();

      const second = await createEmulator({ tier: 'unlimited', now: () => START, statePath });
      const secondCall = xCaller(await second.listen());
      try {
        const again = await secondCall('POST', '/2/tweets', {
          token,
          json: { text: 'kept https://example.com' },
        });
        expect(again.status).toBe(403);
        const timeline = await secondCall('GET', '/2/users/:id/tweets', { token, params: { id: user.id } });
        expect(timeline.body.data).toEqual([
          expect.objectContaining({ id: kept.body.data.id, text: kept.body.data.text }),
        ]);
        expect(second.control.tweets().map((t) => t.id)).toEqual([kept.body.data.id]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
