import { afterAll, beforeAll, expect, it } from 'vitest';
import { png } from './fixtures/media.ts';
import type { TestEmulator } from './helpers/emulator.ts';
import { createHttpClient, createTestClock, describeEachDialect, type TestService } from './helpers/index.ts';
import { startSignInService } from './helpers/signin-service.ts';
import { signInWithX } from './helpers/x-signin.ts';

describeEachDialect('posts published through the dispatcher', (ctx) => {
  const clock = createTestClock();
  let emulator: TestEmulator;
  let service: TestService;

  beforeAll(async () => {
    ({ emulator, service } = await startSignInService(ctx, {
      clock,
      tier: 'unlimited',
      worker: true,
      env: { XGATE_DISPATCH_POLL_MS: '50' },
    }));
  });
  afterAll(async () => {
    await service?.stop();
    await emulator?.stop();
  });

  it('?wait answers a scheduled thread once it is published; DELETE removes all its tweets from X', async () => {
    const client = createHttpClient(service.url);
    await signInWithX(client, { username: `poster_${ctx.dialect}` });
    const [account] = (await client.get('/api/v1/accounts')).json;

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png())]), 'square.png');
    form.append('altText', 'A tiny square.');
    const image = await client.request('POST', '/api/v1/media', { body: form });
    expect(image.status).toBe(201);

    const pending = client.post('/api/v1/posts?wait=30', {
      accountId: account.id,
      items: [
        { text: 'A thread, first.', mediaIds: [image.json.id] },
        { text: 'Second.' },
        { text: 'Third.' },
      ],
      scheduledAt: clock.now() + 60_000,
    });
    // Not due yet: the answer waits. Then the scheduled time comes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(61_000);
    const answer = await pending;
    expect(answer.status).toBe(201);
    expect(answer.json.status).toBe('published');
    const tweetIds = answer.json.items.map((item: { tweetId: string }) => item.tweetId);
    for (const item of answer.json.items) {
      expect(item).toMatchObject({ status: 'published' });
      expect(item.url).toBe(`https://x.com/${account.username}/status/${item.tweetId}`);
    }

    const ledger = () => emulator.control.tweets().filter((t) => tweetIds.includes(t.id));
    const published = ledger();
    expect(published).toHaveLength(3);
    const byId = new Map(published.map((t) => [t.id, t]));
    expect(byId.get(tweetIds[1])?.inReplyToTweetId).toBe(tweetIds[0]);
    expect(byId.get(tweetIds[2])?.inReplyToTweetId).toBe(tweetIds[1]);
    expect(byId.get(tweetIds[0])?.mediaIds).toHaveLength(1);

    expect(
      (await client.patch(`/api/v1/posts/${answer.json.id}`, { items: [{ text: 'edit' }] })).status,
    ).toBe(409);

    const deleted = await client.delete(`/api/v1/posts/${answer.json.id}`);
    expect(deleted.status).toBe(204);
    expect(ledger().every((t) => t.deletedAt !== null)).toBe(true);
    const after = await client.get(`/api/v1/posts/${answer.json.id}`);
    expect(after.json.status).toBe('canceled');
    for (const [i, item] of after.json.items.entries()) {
      expect(item).toMatchObject({ status: 'deleted', tweetId: tweetIds[i] });
      expect(item.url).toBeUndefined();
    }
    // Deleting again is a no-op.
    expect((await client.delete(`/api/v1/posts/${answer.json.id}`)).status).toBe(204);
  });
});
