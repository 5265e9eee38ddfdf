// Idempotency-Key on the real routes (CONTRACT §3 "Retries are safe"): posts published through the emulator,
// media uploads, a forced 5xx, and two `xgate serve` processes racing on one PostgreSQL database.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { createDatabase, type DatabaseHandle, migrateToLatest } from '../src/db/index.ts';
import { makeAccount } from './fixtures/accounts.ts';
import { png } from './fixtures/media.ts';
import { spawnXgate, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import type { TestEmulator } from './helpers/emulator.ts';
import {
  createHttpClient,
  createPostgresDatabase,
  createTestClock,
  describeEachDialect,
  freePort,
  makeApiKey,
  makeTempDir,
  makeUser,
  TEST_X_CLIENT_ID,
  type TestHttpClient,
  type TestResponse,
  type TestService,
} from './helpers/index.ts';
import { startSignInService } from './helpers/signin-service.ts';
import { signInWithX } from './helpers/x-signin.ts';

const HOUR = 3600_000;
const key = (value: string) => ({ headers: { 'idempotency-key': value } });

/** Repeats `send` while it answers 409 `idempotency_key_in_progress`, waiting as Retry-After says. */
async function untilNotInProgress(send: () => Promise<TestResponse>): Promise<TestResponse> {
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const answer = await send();
    if (answer.status !== 409) return answer;
    expect(answer.json.error.code).toBe('idempotency_key_in_progress');
    await sleep(Number(answer.headers.get('retry-after')) * 1000);
  }
  throw new Error('still in progress after 60 tries');
}

describeEachDialect('Idempotency-Key on posts and media', (ctx) => {
  const clock = createTestClock();
  let emulator: TestEmulator;
  let service: TestService;
  let client: TestHttpClient;
  let account: { id: string; username: string; xUserId: string };
  let userId: string;

  beforeAll(async () => {
    ({ emulator, service } = await startSignInService(ctx, {
      clock,
      tier: 'unlimited',
      worker: true,
      env: { XGATE_DISPATCH_POLL_MS: '50', X_TIER: 'unlimited' },
    }));
    client = createHttpClient(service.url);
    await signInWithX(client, { username: `idem_${ctx.dialect}` });
    [account] = (await client.get('/api/v1/accounts')).json;
    userId = (await client.get('/api/v1/me')).json.id;
  });
  afterAll(async () => {
    await service?.stop();
    await emulator?.stop();
  });

  const tweetsWith = (text: string) => emulator.control.tweets().filter((t) => t.text === text);
  const postsWith = async (text: string) =>
    service.app.deps.db
      .selectFrom('post_items')
      .innerJoin('posts', 'posts.id', 'post_items.post_id')
      .select('posts.id')
      .where('post_items.text', '=', text)
      .execute();

  it('a create retried with the same key makes one post and one tweet, and replays the first answer', async () => {
    const text = `Retried once ${randomUUID()}`;
    const body = { accountId: account.id, items: [{ text }] };
    const first = await client.post('/api/v1/posts?wait=10', body, key('create-1'));
    expect(first.status).toBe(201);
    expect(first.json.status).toBe('published');
    const second = await client.post('/api/v1/posts?wait=10', body, key('create-1'));
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await postsWith(text)).toHaveLength(1);
    expect(tweetsWith(text)).toHaveLength(1);
  });

  it('a client that gives up mid-?wait and retries with the same key gets the one post', async () => {
    const text = `Gave up waiting ${randomUUID()}`;
    const body = JSON.stringify({
      accountId: account.id,
      items: [{ text }],
      scheduledAt: clock.now() + 60_000,
    });
    const headers = {
      'content-type': 'application/json',
      'x-xgate-csrf': '1',
      cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      'idempotency-key': 'gave-up-1',
    };
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 1000);
    await expect(
      fetch(`${service.url}/api/v1/posts?wait=30`, { method: 'POST', headers, body, signal: abort.signal }),
    ).rejects.toThrow();

    const retry = untilNotInProgress(() =>
      client.request('POST', '/api/v1/posts?wait=30', {
        body,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'gave-up-1' },
      }),
    );
    await sleep(300);
    clock.advance(61_000);
    const answer = await retry;
    expect(answer.status).toBe(201);
    expect(answer.json.status).toBe('published');
    const posts = await postsWith(text);
    expect(posts).toHaveLength(1);
    expect(answer.json.id).toBe(posts[0]?.id);
    expect(tweetsWith(text)).toHaveLength(1);
  });

  it('the same key with another body is refused with 422, running nothing', async () => {
    const text = `Reused key ${randomUUID()}`;
    const at = clock.now() + 48 * HOUR;
    const first = await client.post(
      '/api/v1/posts',
      { accountId: account.id, items: [{ text }], scheduledAt: at },
      key('reused-1'),
    );
    expect(first.status).toBe(201);
    const other = await client.post(
      '/api/v1/posts',
      { accountId: account.id, items: [{ text: `${text}!` }], scheduledAt: at },
      key('reused-1'),
    );
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency_key_reused');
    expect(await postsWith(`${text}!`)).toHaveLength(0);
  });

  it('the same key from another user makes a separate post', async () => {
    const other = await makeUser(service.app.deps);
    const otherAccount = await makeAccount(service.app.deps, other.id);
    const otherClient = createHttpClient(service.url, {
      bearer: (await makeApiKey(service.app.deps, other.id)).key,
      csrf: false,
    });
    const text = `Shared key ${randomUUID()}`;
    const at = clock.now() + 48 * HOUR;
    const mine = await client.post(
      '/api/v1/posts',
      { accountId: account.id, items: [{ text }], scheduledAt: at },
      key('shared-1'),
    );
    const theirs = await otherClient.post(
      '/api/v1/posts',
      { accountId: otherAccount.id, items: [{ text }], scheduledAt: at },
      key('shared-1'),
    );
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(await postsWith(text)).toHaveLength(2);
  });

  it.each([
    ['empty', ''],
    ['256 characters long', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
    ['holding a control character', 'a\tb'],
  ])(
    'a key that is %s is refused with 400 invalid_idempotency_key, creating nothing',
    async (_name, value) => {
      const text = `Bad key ${randomUUID()}`;
      const answer = await client.post(
        '/api/v1/posts',
        { accountId: account.id, items: [{ text }] },
        key(value),
      );
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('invalid_idempotency_key');
      expect(await postsWith(text)).toHaveLength(0);
    },
  );

  it('a key past its TTL is forgotten: the same request makes a new post', async () => {
    const text = `Expired key ${randomUUID()}`;
    const body = { accountId: account.id, items: [{ text }], scheduledAt: clock.now() + 72 * HOUR };
    const first = await client.post('/api/v1/posts', body, key('expired-1'));
    expect(first.status).toBe(201);
    clock.advance(24 * HOUR);
    const again = await client.post('/api/v1/posts', body, key('expired-1'));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.json.id).not.toBe(first.json.id);
    expect(await postsWith(text)).toHaveLength(2);
  });

  it('the same upload retried with the same key (a new multipart boundary) makes one media object', async () => {
    const upload = () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(png())], { type: 'image/png' }), 'square.png');
      form.append('altText', 'A tiny square.');
      return client.request('POST', '/api/v1/media', { body: form, ...key('upload-1') });
    };
    const count = async () =>
      (await service.app.deps.db.selectFrom('media').select('id').where('user_id', '=', userId).execute())
        .length;
    const before = await count();
    const first = await upload();
    expect(first.status).toBe(201);
    const second = await upload();
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await count()).toBe(before + 1);

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png())], { type: 'image/png' }), 'square.png');
    form.append('altText', 'Another text.');
    const changed = await client.request('POST', '/api/v1/media', { body: form, ...key('upload-1') });
    expect(changed.status).toBe(422);
    expect(await count()).toBe(before + 1);
  });

  it('an API key created with a key is created once; its kept answer never holds the secret in clear', async () => {
    const first = await client.post('/api/v1/api-keys', { name: 'retried script' }, key('api-key-1'));
    expect(first.status).toBe(201);
    const second = await client.post('/api/v1/api-keys', { name: 'retried script' }, key('api-key-1'));
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const keys = await service.app.deps.db
      .selectFrom('api_keys')
      .select('id')
      .where('user_id', '=', userId)
      .where('name', '=', 'retried script')
      .execute();
    expect(keys).toHaveLength(1);
    const rows = await service.app.deps.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(first.json.key);
  });

  it('the OpenAPI document declares the header on every POST under /api/v1', async () => {
    const document = (await client.get('/openapi.json')).json;
    const posts = Object.entries(
      document.paths as Record<string, { post?: { parameters?: { in: string; name: string }[] } }>,
    ).filter(([path, item]) => path.startsWith('/api/v1/') && item.post);
    expect(posts.length).toBeGreaterThanOrEqual(4);
    for (const [, item] of posts) {
      expect(item.post?.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key')).toBe(
        true,
      );
    }
  });

  it('a 5xx is not kept: the retry runs again', async () => {
    emulator.control.setFaults([{ method: 'GET', path: '/2/users/me', kind: 'error', status: 503 }]);
    const failed = await client.post(`/api/v1/accounts/${account.id}/verify`, undefined, key('verify-1'));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    emulator.control.clearFaults();
    const retried = await client.post(`/api/v1/accounts/${account.id}/verify`, undefined, key('verify-1'));
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    const replay = await client.post(`/api/v1/accounts/${account.id}/verify`, undefined, key('verify-1'));
    expect(replay.text).toBe(retried.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

const PG_AVAILABLE = await createPostgresDatabase()
  .then(async (db) => {
    await db.drop();
    return true;
  })
  .catch(() => false);

describe.skipIf(!PG_AVAILABLE && process.env.CI !== 'true')(
  'Idempotency-Key across two xgate serve processes on one PostgreSQL',
  () => {
    let database: { url: string; drop(): Promise<void> };
    let handle: DatabaseHandle;
    const dir = makeTempDir('xgate-idem-');
    const servers: XgateProcess[] = [];
    const urls: string[] = [];

    beforeAll(async () => {
      database = await createPostgresDatabase();
      handle = await createDatabase(database.url);
      await migrateToLatest(handle.db);
      const secretKey = randomBytes(32).toString('base64');
      for (let i = 0; i < 2; i += 1) {
        const port = await freePort();
        const server = spawnXgate(['serve', '--no-worker'], {
          HOST: '127.0.0.1',
          PORT: String(port),
          DATABASE_URL: database.url,
          XGATE_DATA_DIR: dir.path,
          XGATE_SECRET_KEY: secretKey,
          X_CLIENT_ID: TEST_X_CLIENT_ID,
          X_API_URL: 'http://127.0.0.1:9',
          X_TIER: 'unlimited',
          LOG_LEVEL: 'warn',
        });
        servers.push(server);
        urls.push(`http://127.0.0.1:${port}`);
      }
      await Promise.all(servers.map((server, i) => waitUntilReady(urls[i]!, server)));
    });
    afterAll(async () => {
      for (const server of servers) server.process.kill('SIGKILL');
      await handle?.destroy();
      await database?.drop();
      dir.remove();
    });

    it('10 identical requests with one key, split across both processes, make exactly one post', async () => {
      const deps = { db: handle.db, clock: systemClock };
      const user = await makeUser(deps);
      const account = await makeAccount(deps, user.id);
      const apiKey = (await makeApiKey(deps, user.id)).key;
      const clients = urls.map((url) => createHttpClient(url, { bearer: apiKey, csrf: false }));
      const body = { accountId: account.id, items: [{ text: 'Raced' }], scheduledAt: Date.now() + 48 * HOUR };

      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => clients[i % 2]!.post('/api/v1/posts', body, key('race-1'))),
      );

      const posts = await handle.db.selectFrom('posts').select('id').where('user_id', '=', user.id).execute();
      expect(posts).toHaveLength(1);
      for (const answer of answers) expect([201, 409]).toContain(answer.status);
      const created = answers.filter((a) => a.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      for (const answer of created) expect(answer.json.id).toBe(posts[0]?.id);

      const later = await clients[1]!.post('/api/v1/posts', body, key('race-1'));
      expect(later.status).toBe(201);
      expect(later.json.id).toBe(posts[0]?.id);
      expect(later.headers.get('idempotent-replayed')).toBe('true');
    });

    it('a process killed while holding ?wait: the retry on the other gets 409 until its lease ends, then the one post', async () => {
      const deps = { db: handle.db, clock: systemClock };
      const user = await makeUser(deps);
      const account = await makeAccount(deps, user.id);
      const apiKey = (await makeApiKey(deps, user.id)).key;
      const body = {
        accountId: account.id,
        items: [{ text: 'Outlived' }],
        scheduledAt: Date.now() + 48 * HOUR,
      };
      const doomed = createHttpClient(urls[0]!, { bearer: apiKey, csrf: false })
        .post('/api/v1/posts?wait=5', body, key('crash-1'))
        .catch(() => null);
      await sleep(1000);
      servers[0]!.process.kill('SIGKILL');
      await doomed;

      const survivor = createHttpClient(urls[1]!, { bearer: apiKey, csrf: false });
      const first = await survivor.post('/api/v1/posts?wait=5', body, key('crash-1'));
      expect(first.status).toBe(409);
      const answer = await untilNotInProgress(() =>
        survivor.post('/api/v1/posts?wait=5', body, key('crash-1')),
      );
      expect(answer.status).toBe(201);
      const posts = await handle.db.selectFrom('posts').select('id').where('user_id', '=', user.id).execute();
      expect(posts).toHaveLength(1);
      expect(answer.json).toMatchObject({ id: posts[0]?.id, status: 'scheduled' });
      const replay = await survivor.post('/api/v1/posts?wait=5', body, key('crash-1'));
      expect(replay.text).toBe(answer.text);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    });
  },
);
