import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/helpers/dialects.ts';
import { createDatabase, type DatabaseHandle, migrateToLatest } from '../db/index.ts';
import {
  completeIdempotencyKey,
  findIdempotencyKey,
  insertIdempotencyKey,
  type NewIdempotencyKey,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  takeOverIdempotencyKey,
} from './idempotency.repository.ts';

const T0 = 1_800_000_000_000;
const DAY = 24 * 3600_000;
const answer = { status: 201, contentType: 'application/json; charset=utf-8', body: '{"id":"p1"}' };

describeEachDialect('idempotency repository', (ctx) => {
  let handle: DatabaseHandle;
  let userId: string;

  beforeAll(async () => {
    handle = await createDatabase(ctx.databaseUrl);
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle.destroy();
  });
  beforeEach(async () => {
    userId = randomUUID();
    await handle.db.insertInto('users').values({ id: userId, created_at: T0 }).execute();
  });

  const claim = (over: Partial<NewIdempotencyKey> = {}): NewIdempotencyKey => ({
    userId,
    key: 'k1',
    fingerprint: 'f1',
    now: T0,
    expiresAt: T0 + DAY,
    lease: { owner: 'r1', until: T0 + 10_000 },
    ...over,
  });

  it('claims a new key once; a second claim while the first holds it is refused', async () => {
    expect(await findIdempotencyKey(handle.db, userId, 'k1', T0)).toBeNull();
    expect(await insertIdempotencyKey(handle.db, claim())).toBe(true);
    expect(await insertIdempotencyKey(handle.db, claim({ lease: { owner: 'r2', until: T0 + 10_000 } }))).toBe(
      false,
    );
    const record = await findIdempotencyKey(handle.db, userId, 'k1', T0);
    expect(record).toMatchObject({
      status: 'in_progress',
      leaseOwner: 'r1',
      leaseUntil: T0 + 10_000,
      answer: null,
    });
  });

  it('scopes keys to the user', async () => {
    const other = randomUUID();
    await handle.db.insertInto('users').values({ id: other, created_at: T0 }).execute();
    expect(await insertIdempotencyKey(handle.db, claim())).toBe(true);
    expect(await insertIdempotencyKey(handle.db, claim({ userId: other }))).toBe(true);
  });

  it('stores the final answer of the holder only, and finds it until the key expires', async () => {
    await insertIdempotencyKey(handle.db, claim());
    expect(await completeIdempotencyKey(handle.db, { userId, key: 'k1', owner: 'r2', answer })).toBe(false);
    expect(await completeIdempotencyKey(handle.db, { userId, key: 'k1', owner: 'r1', answer })).toBe(true);
    expect(await findIdempotencyKey(handle.db, userId, 'k1', T0 + DAY - 1)).toMatchObject({
      status: 'done',
      answer,
    });
    expect(await findIdempotencyKey(handle.db, userId, 'k1', T0 + DAY)).toBeNull();
    expect(await insertIdempotencyKey(handle.db, claim())).toBe(false);
  });

  it('lets an expired key be claimed again, whatever it held', async () => {
    await insertIdempotencyKey(handle.db, claim({ answer, lease: undefined }));
    const later = T0 + DAY;
    expect(
      await insertIdempotencyKey(handle.db, claim({ fingerprint: 'f2', now: later, expiresAt: later + DAY })),
    ).toBe(true);
    expect(await findIdempotencyKey(handle.db, userId, 'k1', later)).toMatchObject({
      fingerprint: 'f2',
      status: 'in_progress',
      answer: null,
      expiresAt: later + DAY,
    });
  });

  it('lets the same request take over a claim abandoned before it created anything', async () => {
    await insertIdempotencyKey(handle.db, claim());
    const late = T0 + 10_000;
    expect(
      await insertIdempotencyKey(
        handle.db,
        claim({ now: late - 1, lease: { owner: 'r2', until: late + 9_999 } }),
      ),
    ).toBe(false);
    expect(
      await insertIdempotencyKey(
        handle.db,
        claim({ now: late, fingerprint: 'other', lease: { owner: 'r2', until: late + 10_000 } }),
      ),
    ).toBe(false);
    expect(
      await insertIdempotencyKey(
        handle.db,
        claim({ now: late, lease: { owner: 'r2', until: late + 10_000 } }),
      ),
    ).toBe(true);
    expect(await findIdempotencyKey(handle.db, userId, 'k1', late)).toMatchObject({ leaseOwner: 'r2' });
  });

  it('never replaces a claim that points at a created resource; it can only be taken over to answer from it', async () => {
    await insertIdempotencyKey(handle.db, claim({ resourceId: 'post-1' }));
    const late = T0 + 10_000;
    expect(
      await insertIdempotencyKey(
        handle.db,
        claim({ now: late, lease: { owner: 'r2', until: late + 10_000 } }),
      ),
    ).toBe(false);
    expect(
      await takeOverIdempotencyKey(handle.db, {
        userId,
        key: 'k1',
        owner: 'r2',
        now: late - 1,
        until: late + 10_000,
      }),
    ).toBe(false);
    expect(
      await takeOverIdempotencyKey(handle.db, {
        userId,
        key: 'k1',
        owner: 'r2',
        now: late,
        until: late + 10_000,
      }),
    ).toBe(true);
    expect(
      await takeOverIdempotencyKey(handle.db, {
        userId,
        key: 'k1',
        owner: 'r3',
        now: late,
        until: late + 10_000,
      }),
    ).toBe(false);
    expect(await completeIdempotencyKey(handle.db, { userId, key: 'k1', owner: 'r1', answer })).toBe(false);
    expect(await completeIdempotencyKey(handle.db, { userId, key: 'k1', owner: 'r2', answer })).toBe(true);
    expect(await findIdempotencyKey(handle.db, userId, 'k1', late)).toMatchObject({
      resourceId: 'post-1',
      answer,
    });
  });

  it('renews the lease of the holder only', async () => {
    await insertIdempotencyKey(handle.db, claim());
    expect(
      await renewIdempotencyLease(handle.db, { userId, key: 'k1', owner: 'r2', until: T0 + 99_000 }),
    ).toBe(false);
    expect(
      await renewIdempotencyLease(handle.db, { userId, key: 'k1', owner: 'r1', until: T0 + 99_000 }),
    ).toBe(true);
    expect((await findIdempotencyKey(handle.db, userId, 'k1', T0))?.leaseUntil).toBe(T0 + 99_000);
  });

  it('on release forgets a claim that created nothing, and frees one that did for an answer from its resource', async () => {
    await insertIdempotencyKey(handle.db, claim());
    await releaseIdempotencyKey(handle.db, { userId, key: 'k1', owner: 'r1' });
    expect(await findIdempotencyKey(handle.db, userId, 'k1', T0)).toBeNull();

    await insertIdempotencyKey(handle.db, claim({ key: 'k2', resourceId: 'post-1' }));
    await releaseIdempotencyKey(handle.db, { userId, key: 'k2', owner: 'r1' });
    expect(await findIdempotencyKey(handle.db, userId, 'k2', T0)).toMatchObject({
      status: 'in_progress',
      resourceId: 'post-1',
      leaseOwner: null,
      leaseUntil: 0,
    });
    expect(
      await takeOverIdempotencyKey(handle.db, { userId, key: 'k2', owner: 'r2', now: T0, until: T0 + 1 }),
    ).toBe(true);
  });

  it('purges expired keys only', async () => {
    await insertIdempotencyKey(handle.db, claim({ key: 'old', expiresAt: T0 + 5 }));
    await insertIdempotencyKey(handle.db, claim({ key: 'new', expiresAt: T0 + DAY }));
    const purged = await purgeExpiredIdempotencyKeys(handle.db, T0 + 5);
    expect(purged).toBeGreaterThanOrEqual(1);
    const left = await handle.db
      .selectFrom('idempotency_keys')
      .select('key')
      .where('user_id', '=', userId)
      .execute();
    expect(left.map((r) => r.key)).toEqual(['new']);
  });

  it('lets exactly one of many concurrent transactions claim a key', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        handle.db.transaction().execute(async (trx) => {
          const won = await insertIdempotencyKey(
            trx,
            claim({ key: 'race', resourceId: `post-${i}`, lease: { owner: `r${i}`, until: T0 + 10_000 } }),
          );
          return won;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
