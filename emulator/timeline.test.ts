import twitter from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { type SuiteUser, useEmulator } from './testing/suite.ts';

const CLIENT = { clientId: 'timeline-test', redirectUri: 'http://127.0.0.1/cb' };
const START = Date.UTC(2026, 10, 23, 12, 0, 0);
const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

const emu = useEmulator({ client: CLIENT, start: START });
const { call, connect } = emu;

async function post(user: SuiteUser, text: string, replyTo?: string): Promise<string> {
  const answer = await call('POST', '/2/tweets', {
    token: user.token,
    json: replyTo === undefined ? { text } : { text, reply: { in_reply_to_tweet_id: replyTo } },
  });
  expect(answer.status).toBe(201);
  return answer.body.data.id;
}

async function timeline(user: SuiteUser, ownerId: string, query: Record<string, string> = {}) {
  return call('GET', '/2/users/:id/tweets', { token: user.token, params: { id: ownerId }, query });
}

describe('GET /2/users/:id/tweets paging', () => {
  it('pages newest first with next_token and previous_token; the last page has no next_token', async () => {
    const alice = await connect('alice');
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await post(alice, `tweet ${i}`));
    const newestFirst = [...ids].reverse();

    const first = await timeline(alice, alice.id);
    expect(first.body.data.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(0, 10));
    expect(first.body.meta).toEqual({
      result_count: 10,
      newest_id: newestFirst[0],
      oldest_id: newestFirst[9],
      next_token: expect.any(String),
    });

    const second = await timeline(alice, alice.id, { pagination_token: first.body.meta.next_token });
    expect(second.body.data.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(10, 20));
    expect(second.body.meta.previous_token).toEqual(expect.any(String));

    const third = await timeline(alice, alice.id, { pagination_token: second.body.meta.next_token });
    expect(third.body.data.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(20));
    expect(third.body.meta.result_count).toBe(5);
    expect(third.body.meta.next_token).toBeUndefined();

    const back = await timeline(alice, alice.id, { pagination_token: second.body.meta.previous_token });
    expect(back.body.data.map((t: { id: string }) => t.id)).toEqual(newestFirst.slice(0, 10));

    const big = await timeline(alice, alice.id, { max_results: '100' });
    expect(big.body.meta.result_count).toBe(25);
    expect(big.body.meta.next_token).toBeUndefined();
  });

  it('pages stay stable while new tweets arrive', async () => {
    const alice = await connect('alice');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await post(alice, `tweet ${i}`));
    const first = await timeline(alice, alice.id, { max_results: '5' });
    await post(alice, 'a newer tweet');
    const second = await timeline(alice, alice.id, {
      max_results: '5',
      pagination_token: first.body.meta.next_token,
    });
    expect(second.body.data.map((t: { id: string }) => t.id)).toEqual(ids.slice(0, 3).reverse());
  });

  it('refuses max_results outside 5–100 and bad tokens with X’s message', async () => {
    const alice = await connect('alice');
    const zero = await timeline(alice, alice.id, { max_results: '0' });
    expect(zero.status).toBe(400);
    expect(zero.body).toEqual({
      errors: [
        {
          parameters: { max_results: ['0'] },
          message: 'The `max_results` query parameter value [0] is not between 5 and 100',
        },
      ],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    });
    for (const value of ['4', '101', 'ten', '5.5']) {
      expect((await timeline(alice, alice.id, { max_results: value })).status).toBe(400);
    }
    expect((await timeline(alice, alice.id, { max_results: '5' })).status).toBe(200);
    expect((await timeline(alice, alice.id, { pagination_token: 'NOT*A*TOKEN' })).status).toBe(400);
    expect((await timeline(alice, alice.id, { since_id: 'abc' })).status).toBe(400);
    expect((await timeline(alice, alice.id, { start_time: 'yesterday' })).status).toBe(400);
    expect((await timeline(alice, alice.id, { exclude: 'likes' })).status).toBe(400);
    expect((await timeline(alice, alice.id, { colour: 'red' })).status).toBe(400);
    const backwards = await timeline(alice, alice.id, {
      start_time: '2026-11-23T12:00:00Z',
      end_time: '2026-11-23T11:00:00Z',
    });
    expect(backwards.status).toBe(400);
  });

  it('answers an empty timeline with result_count 0 and no data', async () => {
    const alice = await connect('alice');
    const answer = await timeline(alice, alice.id);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ meta: { result_count: 0 } });
  });

  it('answers an unknown user with a resource-not-found error and a malformed id with 400', async () => {
    const alice = await connect('alice');
    const unknown = await timeline(alice, '12345');
    expect(unknown.status).toBe(200);
    expect(unknown.body.errors).toEqual([
      expect.objectContaining({
        resource_type: 'user',
        resource_id: '12345',
        detail: 'Could not find user with id: [12345].',
      }),
    ]);
    expect((await timeline(alice, 'alice')).status).toBe(400);
  });
});

describe('GET /2/users/:id/tweets filters', () => {
  it('filters by since_id and until_id (exclusive), which win over start_time and end_time', async () => {
    const alice = await connect('alice');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await post(alice, `tweet ${i}`));
    const between = await timeline(alice, alice.id, { since_id: ids[1]!, until_id: ids[4]! });
    expect(between.body.data.map((t: { id: string }) => t.id)).toEqual([ids[3], ids[2]]);
    const precedence = await timeline(alice, alice.id, {
      since_id: ids[3]!,
      start_time: '2030-01-01T00:00:00Z',
    });
    expect(precedence.body.data.map((t: { id: string }) => t.id)).toEqual([ids[5], ids[4]]);
  });

  it('filters by start_time (inclusive) and end_time (exclusive)', async () => {
    let alice = await connect('alice');
    const early = await post(alice, 'at noon');
    emu.emulator.control.advanceClock(60 * MINUTE);
    alice = await emu.reauthorize(alice.id);
    const middle = await post(alice, 'at one');
    emu.emulator.control.advanceClock(60 * MINUTE);
    alice = await emu.reauthorize(alice.id);
    const late = await post(alice, 'at two');
    const fromOne = await timeline(alice, alice.id, { start_time: '2026-11-23T13:00:00Z' });
    expect(fromOne.body.data.map((t: { id: string }) => t.id)).toEqual([late, middle]);
    const beforeOne = await timeline(alice, alice.id, { end_time: '2026-11-23T13:00:00.000Z' });
    expect(beforeOne.body.data.map((t: { id: string }) => t.id)).toEqual([early]);
  });

  it('excludes replies (a thread keeps only its first tweet) and never shows deleted tweets', async () => {
    const alice = await connect('alice');
    const root = await post(alice, 'thread 1/3');
    const second = await post(alice, 'thread 2/3', root);
    await post(alice, 'thread 3/3', second);
    const gone = await post(alice, 'to be deleted');
    await call('DELETE', '/2/tweets/:id', { token: alice.token, params: { id: gone } });
    const all = await timeline(alice, alice.id);
    expect(all.body.data.map((t: { text: string }) => t.text)).toEqual([
      'thread 3/3',
      'thread 2/3',
      'thread 1/3',
    ]);
    const noReplies = await timeline(alice, alice.id, { exclude: 'replies,retweets' });
    expect(noReplies.body.data.map((t: { text: string }) => t.text)).toEqual(['thread 1/3']);
  });

  it('shows only the timeline’s owner', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    await post(alice, 'from alice');
    await post(bob, 'from bob');
    const answer = await timeline(bob, alice.id, { 'tweet.fields': 'author_id' });
    expect(answer.body.data).toEqual([expect.objectContaining({ text: 'from alice', author_id: alice.id })]);
  });
});

describe('metrics', () => {
  it('public metrics start at zero and grow deterministically with emulator time', async () => {
    let alice = await connect('alice');
    const id = await post(alice, 'watch me grow');
    const read = async () =>
      (
        await call('GET', '/2/tweets/:id', {
          token: alice.token,
          params: { id },
          query: { 'tweet.fields': 'public_metrics' },
        })
      ).body.data.public_metrics;
    expect(await read()).toEqual({
      retweet_count: 0,
      reply_count: 0,
      like_count: 0,
      quote_count: 0,
      bookmark_count: 0,
      impression_count: 0,
    });
    emu.emulator.control.advanceClock(60 * MINUTE);
    alice = await emu.reauthorize(alice.id);
    const hour = await read();
    expect(hour.impression_count).toBeGreaterThan(0);
    expect(await read()).toEqual(hour);
    emu.emulator.control.advanceClock(DAY);
    alice = await emu.reauthorize(alice.id);
    const day = await read();
    for (const key of Object.keys(hour)) expect(day[key]).toBeGreaterThanOrEqual(hour[key]);
    expect(day.impression_count).toBeGreaterThan(hour.impression_count);
    expect(day.like_count).toBeGreaterThan(0);
  });

  it('private metrics: the author sees them on tweets younger than 30 days', async () => {
    let alice = await connect('alice');
    const id = await post(alice, 'private numbers https://example.com');
    emu.emulator.control.advanceClock(DAY);
    alice = await emu.reauthorize(alice.id);
    const answer = await timeline(alice, alice.id, {
      'tweet.fields': 'public_metrics,non_public_metrics,organic_metrics',
    });
    const [tweet] = answer.body.data;
    expect(tweet.id).toBe(id);
    expect(tweet.non_public_metrics).toEqual({
      impression_count: tweet.public_metrics.impression_count,
      url_link_clicks: expect.any(Number),
      user_profile_clicks: expect.any(Number),
      engagements: expect.any(Number),
    });
    expect(tweet.non_public_metrics.url_link_clicks).toBeGreaterThan(0);
    expect(tweet.organic_metrics).toMatchObject({
      impression_count: tweet.public_metrics.impression_count,
      like_count: tweet.public_metrics.like_count,
    });
  });

  it('private metrics of another user’s tweets: field errors and no tweet', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const id = await post(alice, 'not yours to measure');
    const answer = await timeline(bob, alice.id, { 'tweet.fields': 'non_public_metrics' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.meta.result_count).toBe(0);
    expect(answer.body.errors).toHaveLength(4);
    expect(answer.body.errors[0]).toEqual({
      resource_type: 'tweet',
      field: 'non_public_metrics.impression_count',
      parameter: 'id',
      resource_id: id,
      title: 'Field Authorization Error',
      section: 'data',
      detail: `Sorry, you are not authorized to access 'non_public_metrics.impression_count' on the Tweet with id : [${id}].`,
      value: id,
      type: 'https://api.twitter.com/2/problems/not-authorized-for-field',
    });
    const lookup = await call('GET', '/2/tweets/:id', {
      token: bob.token,
      params: { id },
      query: { 'tweet.fields': 'organic_metrics' },
    });
    expect(lookup.body.data).toBeUndefined();
    expect(lookup.body.errors[0].field).toBe('organic_metrics.impression_count');
    const publicOnly = await timeline(bob, alice.id, { 'tweet.fields': 'public_metrics' });
    expect(publicOnly.body.data).toHaveLength(1);
  });

  it('private metrics of the author’s tweets older than 30 days: left out, result_count 0 with a next_token', async () => {
    let alice = await connect('alice');
    for (let i = 0; i < 6; i++) await post(alice, `old ${i}`);
    emu.emulator.control.advanceClock(31 * DAY);
    alice = await emu.reauthorize(alice.id);
    const fresh = await post(alice, 'fresh');
    const first = await timeline(alice, alice.id, { 'tweet.fields': 'non_public_metrics', max_results: '5' });
    expect(first.body.data.map((t: { id: string }) => t.id)).toEqual([fresh]);
    expect(first.body.meta.result_count).toBe(1);
    const second = await timeline(alice, alice.id, {
      'tweet.fields': 'non_public_metrics',
      max_results: '5',
      pagination_token: first.body.meta.next_token,
    });
    expect(second.body.data).toBeUndefined();
    expect(second.body.meta).toEqual({ result_count: 0, previous_token: expect.any(String) });
    const publicOnly = await timeline(alice, alice.id, { max_results: '10' });
    expect(publicOnly.body.meta.result_count).toBe(7);
  });
});

describe('long posts (Premium): text shortened, note_tweet on request', () => {
  /** 1,000 characters of words, a hashtag near the end and a URL in the middle. */
  const words = Array.from({ length: 200 }, (_, i) => `w${String(i).padStart(3, '0')}`);
  words.splice(100, 0, 'https://example.com/long');
  words.push('#end');
  const longText = words.join(' ');

  it('shows the leading words, … and a post link in text; the whole text in note_tweet.text when asked', async () => {
    const paula = await connect('paula', { subscriptionType: 'Premium' });
    const created = await call('POST', '/2/tweets', { token: paula.token, json: { text: longText } });
    expect(created.status).toBe(201);
    const id: string = created.body.data.id;
    const shortened: string = created.body.data.text;
    expect(shortened).toMatch(/^w000 w001 .* w\d{3}… https:\/\/t\.co\/\w{10}$/);
    expect(twitter.parseTweet(shortened).weightedLength).toBeLessThanOrEqual(280);
    expect(longText.startsWith(shortened.slice(0, shortened.indexOf('…')))).toBe(true);

    const plain = await timeline(paula, paula.id);
    expect(plain.body.data).toEqual([{ id, text: shortened, edit_history_tweet_ids: [id] }]);

    const asked = await timeline(paula, paula.id, {
      'tweet.fields': 'note_tweet,entities,display_text_range',
    });
    const [shown] = asked.body.data;
    expect(shown.text).toBe(shortened);
    expect(shown.note_tweet.text).toMatch(/^w000 .* https:\/\/t\.co\/\w{10} w100 .* w199 #end$/);
    expect(shown.note_tweet.text.length).toBe(longText.length - 'https://example.com/long'.length + 23);
    expect(shown.note_tweet.entities.hashtags).toEqual([
      { start: expect.any(Number), end: expect.any(Number), tag: 'end' },
    ]);
    expect(shown.note_tweet.entities.urls[0].expanded_url).toBe('https://example.com/long');
    expect(shown.entities.urls).toEqual([
      expect.objectContaining({
        url: shortened.slice(-23),
        expanded_url: `https://x.com/i/web/status/${id}`,
      }),
    ]);
    expect(shown.entities.hashtags).toBeUndefined();
    expect(shown.display_text_range).toEqual([0, shortened.indexOf('…') + 1]);

    const lookup = await call('GET', '/2/tweets/:id', {
      token: paula.token,
      params: { id },
      query: { 'post.fields': 'note_tweet' },
    });
    expect(lookup.body.data.note_tweet.text).toBe(shown.note_tweet.text);
    expect(emu.emulator.control.tweets().find((t) => t.id === id)?.text).toBe(shown.note_tweet.text);
  });

  // `…` weighs 2 and the link 23: 254 + 2 + 1 + 23 = 280.
  it('keeps a text of 280 whole, without note_tweet; cuts a 1,000-character word mid-word', async () => {
    const paula = await connect('paula', { subscriptionType: 'Premium' });
    const fits = await post(paula, 'f'.repeat(280));
    const word = await post(paula, 'g'.repeat(1000));
    const answer = await timeline(paula, paula.id, { 'tweet.fields': 'note_tweet' });
    const [long, short] = answer.body.data;
    expect(short).toEqual({ id: fits, text: 'f'.repeat(280), edit_history_tweet_ids: [fits] });
    expect(long.id).toBe(word);
    expect(long.text).toMatch(/^g{254}… https:\/\/t\.co\/\w{10}$/);
    expect(long.note_tweet).toEqual({ text: 'g'.repeat(1000) });
  });
});
