import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from './index.ts';
import { connectUser } from './testing/connect-user.ts';

describe('pay-per-use billing', () => {
  const emu = {
    url: '',
    emulator: undefined as unknown as Emulator,
    control: undefined as unknown as Emulator['control'],
  };
  beforeAll(async () => {
    emu.emulator = await createEmulator({ tier: 'unlimited' });
    emu.control = emu.emulator.control;
    emu.url = await emu.emulator.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await emu.emulator?.close();
  });

  it('bills posts, replies and reads as X does, refuses with 402 when credits run out and 403 when not enrolled', async () => {
    const user = await connectUser(emu.emulator, { username: 'billed' });
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${emu.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const post = (await (await call('POST', '/2/tweets', { text: 'hello https://example.com' })).json()) as {
      data: { id: string };
    };
    await call('POST', '/2/tweets', { text: 'a reply', reply: { in_reply_to_tweet_id: post.data.id } });
    await call('GET', `/2/tweets?ids=${post.data.id}`);
    await call('GET', `/2/tweets?ids=${post.data.id}`);
    await call('GET', '/2/users/me');
    const billing = emu.control.billing();
    expect(billing.charges.map((charge) => charge.operation)).toEqual([
      'post_with_url',
      'reply',
      'post_read',
      'user_read',
    ]);
    expect(billing.totalUsd).toBeCloseTo(0.2 + 0.01 + 0.005 + 0.01, 6);

    const admin = (body: unknown) =>
      fetch(`${emu.url}/__admin/billing`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect((await admin({ creditsUsd: -1 })).status).toBe(400);
    expect((await admin({ creditsUsd: 0.02 })).status).toBe(200);
    expect((await call('POST', '/2/tweets', { text: 'paid' })).status).toBe(201);
    expect((await call('POST', '/2/tweets', { text: 'paid again' })).status).toBe(201);
    const refused = await call('POST', '/2/tweets', { text: 'no credits' });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toEqual({
      detail: 'credits depleted',
      status: 402,
      title: 'Payment Required',
      type: 'https://api.x.com/2/problems/credits-depleted',
    });
    expect(emu.control.tweets().some((tweet) => tweet.text === 'no credits')).toBe(false);

    await admin({ creditsUsd: null, notEnrolled: true });
    const forbidden = await call('GET', '/2/users/me');
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({
      reason: 'client-not-enrolled',
      type: 'https://api.twitter.com/2/problems/client-forbidden',
    });
    await admin({ notEnrolled: false });
    expect((await call('GET', '/2/users/me')).status).toBe(200);
  });
});
