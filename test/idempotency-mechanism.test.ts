// The Idempotency-Key mechanism on its own, over HTTP, with test routes standing in for real ones: a
// reserve-first route (no transaction of its own), a create route that records its key in its transaction
// (the created "widget" is a users row), and one whose answer holds a secret. Real routes: idempotency.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import { ServiceUnavailableError } from '../src/errors/index.ts';
import type { RouteModule } from '../src/http/types.ts';
import { idempotencyModule } from '../src/idempotency/index.ts';
import {
  createHttpClient,
  createTestClock,
  describeEachDialect,
  makeApiKey,
  makeUser,
  startTestService,
  type TestClock,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const HOUR = 3600_000;

/** Server-side knobs the tests turn: how many calls ran, and failures to inject. */
const knobs = {
  echoRuns: 0,
  failNextEcho: 0,
  failNextWidgetAfterCommit: 0,
  widgetHoldMs: 0,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const testRoutes: RouteModule = (app, deps) => {
  app.post(
    '/api/v1/test/echo',
    { schema: { body: z.object({ value: z.string() }) } },
    async (request, reply) => {
      knobs.echoRuns += 1;
      if (knobs.failNextEcho > 0) {
        knobs.failNextEcho -= 1;
        throw new ServiceUnavailableError('Injected failure.');
      }
      return reply.status(200).send({ run: knobs.echoRuns, value: request.body.value, at: randomUUID() });
    },
  );

  app.post(
    '/api/v1/test/widgets',
    {
      config: {
        idempotency: {
          answerFor: async (_request, id) => {
            const row = await deps.db
              .selectFrom('users')
              .select('id')
              .where('id', '=', id)
              .executeTakeFirst();
            return row ? { status: 201, body: { id: row.id, fromResource: true } } : null;
          },
        },
      },
      schema: { body: z.object({ name: z.string().min(1) }) },
    },
    async (request, reply) => {
      if (request.body.name === 'invalid') throw new ServiceUnavailableError('never reached');
      const id = randomUUID();
      await deps.db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values({ id, created_at: deps.clock.now() }).execute();
        await request.idempotency?.record(trx, id);
      });
      if (knobs.widgetHoldMs > 0) await sleep(knobs.widgetHoldMs);
      if (knobs.failNextWidgetAfterCommit > 0) {
        knobs.failNextWidgetAfterCommit -= 1;
        throw new ServiceUnavailableError('Injected failure after the commit.');
      }
      return reply.status(201).send({ id, name: request.body.name, at: randomUUID() });
    },
  );

  app.post(
    '/api/v1/test/secrets',
    { config: { idempotency: { sealAnswer: true } } },
    async (_request, reply) => reply.status(201).send({ secret: `xg_${randomUUID()}` }),
  );
};

describeEachDialect('Idempotency-Key mechanism', (ctx) => {
  let service: TestService;
  let clock: TestClock;
  let client: TestHttpClient;
  let userId: string;

  beforeAll(async () => {
    clock = createTestClock();
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      overrides: { routeModules: [idempotencyModule, testRoutes] },
    });
  });
  afterAll(() => service?.stop());

  beforeEach(async () => {
    Object.assign(knobs, { failNextEcho: 0, failNextWidgetAfterCommit: 0, widgetHoldMs: 0 });
    const user = await makeUser(service.app.deps);
    userId = user.id;
    client = createHttpClient(service.url, {
      bearer: (await makeApiKey(service.app.deps, user.id)).key,
      csrf: false,
    });
  });

  const withKey = (key: string) => ({ headers: { 'idempotency-key': key } });
  const users = async () => (await service.app.deps.db.selectFrom('users').select('id').execute()).length;
  const keyRow = (key: string) =>
    service.app.deps.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .executeTakeFirst();

  it('replays the first answer byte for byte, without running again', async () => {
    const before = knobs.echoRuns;
    const first = await client.post('/api/v1/test/echo', { value: 'a' }, withKey('k-replay'));
    const second = await client.post('/api/v1/test/echo', { value: 'a' }, withKey('k-replay'));
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(knobs.echoRuns).toBe(before + 1);
  });

  it('runs every request without a key', async () => {
    const before = knobs.echoRuns;
    await client.post('/api/v1/test/echo', { value: 'a' });
    await client.post('/api/v1/test/echo', { value: 'a' });
    expect(knobs.echoRuns).toBe(before + 2);
  });

  it('matches the same JSON whatever its key order, and refuses another body or path with 422', async () => {
    const first = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-reuse'));
    const reordered = await client.request('POST', '/api/v1/test/widgets', {
      body: '{ "name" : "w" }',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-reuse' },
    });
    expect(reordered.text).toBe(first.text);
    const otherBody = await client.post('/api/v1/test/widgets', { name: 'x' }, withKey('k-reuse'));
    expect(otherBody.status).toBe(422);
    expect(otherBody.json.error.code).toBe('idempotency_key_reused');
    const otherPath = await client.post('/api/v1/test/echo', { value: 'w' }, withKey('k-reuse'));
    expect(otherPath.status).toBe(422);
    expect(otherPath.json.error.code).toBe('idempotency_key_reused');
  });

  it('scopes keys to the user', async () => {
    const other = await makeUser(service.app.deps);
    const otherClient = createHttpClient(service.url, {
      bearer: (await makeApiKey(service.app.deps, other.id)).key,
      csrf: false,
    });
    const mine = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('shared-key'));
    const theirs = await otherClient.post('/api/v1/test/widgets', { name: 'w' }, withKey('shared-key'));
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.json.id).not.toBe(mine.json.id);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['non-ASCII', 'clé'],
    ['a control character', 'a\tb'],
  ])('refuses a key that is %s with 400 invalid_idempotency_key, running nothing', async (_name, key) => {
    const before = knobs.echoRuns;
    const answer = await client.post('/api/v1/test/echo', { value: 'a' }, withKey(key));
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('invalid_idempotency_key');
    expect(knobs.echoRuns).toBe(before);
  });

  it('accepts a key of 255 printable characters', async () => {
    const answer = await client.post('/api/v1/test/echo', { value: 'a' }, withKey(`~ ${'k'.repeat(253)}`));
    expect(answer.status).toBe(200);
  });

  it('forgets a key after its TTL: the same key then runs again', async () => {
    const first = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-ttl'));
    clock.advance(24 * HOUR - 1);
    const replay = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-ttl'));
    expect(replay.json.id).toBe(first.json.id);
    clock.advance(1);
    const fresh = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-ttl'));
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(fresh.json.id).not.toBe(first.json.id);
  });

  it('does not keep a 5xx: the retry runs again', async () => {
    const before = knobs.echoRuns;
    knobs.failNextEcho = 1;
    const failed = await client.post('/api/v1/test/echo', { value: 'b' }, withKey('k-5xx'));
    expect(failed.status).toBe(503);
    expect(await keyRow('k-5xx')).toBeUndefined();
    const retried = await client.post('/api/v1/test/echo', { value: 'b' }, withKey('k-5xx'));
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(knobs.echoRuns).toBe(before + 2);
  });

  it('after a 5xx that came after the create committed, answers the retry from the resource, creating nothing', async () => {
    const before = await users();
    knobs.failNextWidgetAfterCommit = 1;
    const failed = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-5xx-created'));
    expect(failed.status).toBe(503);
    expect(await users()).toBe(before + 1);
    const retried = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-5xx-created'));
    expect(retried.status).toBe(201);
    expect(retried.json.fromResource).toBe(true);
    expect(await users()).toBe(before + 1);
    const again = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-5xx-created'));
    expect(again.text).toBe(retried.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 409 with Retry-After while the first request runs, then replays its answer', async () => {
    knobs.widgetHoldMs = 1500;
    const first = client.post('/api/v1/test/widgets', { name: 'slow' }, withKey('k-busy'));
    await sleep(500);
    const during = await client.post('/api/v1/test/widgets', { name: 'slow' }, withKey('k-busy'));
    expect(during.status).toBe(409);
    expect(during.json.error.code).toBe('idempotency_key_in_progress');
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const done = await first;
    const after = await client.post('/api/v1/test/widgets', { name: 'slow' }, withKey('k-busy'));
    expect(after.text).toBe(done.text);
  });

  it('creates one resource from many concurrent requests with one key', async () => {
    knobs.widgetHoldMs = 200;
    const before = await users();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        client.post('/api/v1/test/widgets', { name: 'race' }, withKey('k-race')),
      ),
    );
    expect(await users()).toBe(before + 1);
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.json.id)).size).toBe(1);
    for (const a of answers) expect([201, 409]).toContain(a.status);
  });

  it('after the holder died before answering, answers a retry from its resource', async () => {
    const first = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-crash'));
    // What a crash between the create transaction and storing the answer leaves behind.
    await service.app.deps.db
      .updateTable('idempotency_keys')
      .set({
        status: 'in_progress',
        response_status: null,
        response_body: null,
        lease_owner: 'dead',
        lease_until: clock.now() + 15_000,
      })
      .where('user_id', '=', userId)
      .where('key', '=', 'k-crash')
      .execute();
    const whileLeased = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-crash'));
    expect(whileLeased.status).toBe(409);
    clock.advance(15_000);
    const before = await users();
    const retried = await client.post('/api/v1/test/widgets', { name: 'w' }, withKey('k-crash'));
    expect(retried.status).toBe(201);
    expect(retried.json).toEqual({ id: first.json.id, fromResource: true });
    expect(await users()).toBe(before);
  });

  it('runs a reserve-first request again when its holder died', async () => {
    const before = knobs.echoRuns;
    await service.app.deps.db
      .insertInto('idempotency_keys')
      .values({
        user_id: userId,
        key: 'k-dead-reservation',
        fingerprint: 'replaced below',
        status: 'in_progress',
        resource_id: null,
        lease_owner: 'dead',
        lease_until: clock.now() - 1,
        response_status: null,
        response_content_type: null,
        response_body: null,
        created_at: clock.now(),
        expires_at: clock.now() + 24 * HOUR,
      })
      .execute();
    const mismatch = await client.post('/api/v1/test/echo', { value: 'c' }, withKey('k-dead-reservation'));
    expect(mismatch.status).toBe(422);
    await client.post('/api/v1/test/echo', { value: 'c' }, withKey('k-probe'));
    const probe = await keyRow('k-probe');
    await service.app.deps.db
      .updateTable('idempotency_keys')
      .set({ fingerprint: probe?.fingerprint ?? '' })
      .where('user_id', '=', userId)
      .where('key', '=', 'k-dead-reservation')
      .execute();
    const retried = await client.post('/api/v1/test/echo', { value: 'c' }, withKey('k-dead-reservation'));
    expect(retried.status).toBe(200);
    expect(knobs.echoRuns).toBe(before + 2);
    expect((await keyRow('k-dead-reservation'))?.status).toBe('done');
  });

  it('keeps an answer holding a secret sealed, and replays it in clear', async () => {
    const first = await client.post('/api/v1/test/secrets', undefined, withKey('k-secret'));
    expect(first.status).toBe(201);
    const row = await keyRow('k-secret');
    expect(row?.response_body).not.toContain(first.json.secret);
    const replay = await client.post('/api/v1/test/secrets', undefined, withKey('k-secret'));
    expect(replay.text).toBe(first.text);
  });
});
