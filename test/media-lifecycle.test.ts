import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMediaService } from '../src/media/index.ts';
import { makeAccount } from './fixtures/accounts.ts';
import { mp4, padTo, png } from './fixtures/media.ts';
import {
  createTestClock,
  describeEachDialect,
  makeApiClient,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeEachDialect('media lifecycle: delete, purge, quota, video brands', (ctx) => {
  const clock = createTestClock();
  let service: TestService;
  let client: TestHttpClient;
  let other: TestHttpClient;
  let accountId: string;

  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      clock,
      env: { XGATE_MEDIA_QUOTA_BYTES: String(64 * 1024) },
    });
    const made = await makeApiClient(service);
    client = made.client;
    accountId = (await makeAccount(service.app.deps, made.user.id)).id;
    other = (await makeApiClient(service)).client;
  });
  afterAll(() => service?.stop());

  function upload(as: TestHttpClient, file: Buffer) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file)]), 'file.bin');
    return as.request('POST', '/api/v1/media', { body: form });
  }
  const fileOf = (id: string) => join(ctx.dataDir, 'media', id);
  const schedule = (mediaId: string) =>
    client.post('/api/v1/posts', {
      accountId,
      items: [{ text: 'with media', mediaIds: [mediaId] }],
      scheduledAt: clock.now() + DAY,
    });

  it('DELETE removes the row and the file; another user gets 404; a scheduled post’s media is 409 until canceled', async () => {
    const loose = (await upload(client, png())).json;
    expect((await other.delete(`/api/v1/media/${loose.id}`)).status).toBe(404);
    expect((await client.delete(`/api/v1/media/${loose.id}`)).status).toBe(204);
    expect(existsSync(fileOf(loose.id))).toBe(false);
    expect((await client.get(`/api/v1/media/${loose.id}`)).status).toBe(404);
    expect((await client.delete(`/api/v1/media/${loose.id}`)).status).toBe(404);

    const used = (await upload(client, png())).json;
    const post = await schedule(used.id);
    expect(post.status).toBe(201);
    const refused = await client.delete(`/api/v1/media/${used.id}`);
    expect([refused.status, refused.json.error.code]).toEqual([409, 'media_in_use']);
    expect(existsSync(fileOf(used.id))).toBe(true);
    expect((await client.delete(`/api/v1/posts/${post.json.id}`)).status).toBe(204);
    expect((await client.delete(`/api/v1/media/${used.id}`)).status).toBe(204);
  });

  it('purges uploads no post lists after a day, and keeps those a scheduled post needs', async () => {
    const unused = (await upload(client, png())).json;
    const needed = (await upload(client, png())).json;
    expect((await schedule(needed.id)).status).toBe(201);
    const purge = createMediaService(service.app.deps);
    clock.advance(23 * HOUR);
    expect(await purge.purge()).toBe(0);
    clock.advance(2 * HOUR);
    expect(await purge.purge()).toBe(1);
    expect(existsSync(fileOf(unused.id))).toBe(false);
    expect((await client.get(`/api/v1/media/${unused.id}`)).status).toBe(404);
    // The scheduled post's media stays however old it gets.
    clock.advance(60 * DAY);
    await purge.purge();
    expect((await client.get(`/api/v1/media/${needed.id}`)).status).toBe(200);
    expect(existsSync(fileOf(needed.id))).toBe(true);
  });

  it('refuses uploads past the per-user quota with 413 media_quota_exceeded and keeps nothing', async () => {
    // 64 KB quota: the scheduled post's PNG is kept; a 70 KB video does not fit.
    const answer = await upload(client, padTo(mp4(), 70 * 1024));
    expect(answer.status).toBe(413);
    expect(answer.json.error).toMatchObject({
      code: 'media_quota_exceeded',
      details: { quotaBytes: 64 * 1024, uploadBytes: 70 * 1024 },
    });
    expect(answer.json.error.message).toMatch(/DELETE \/api\/v1\/media/);
    // Another user has a quota of their own.
    expect((await upload(other, padTo(mp4(), 60 * 1024))).status).toBe(201);
    expect((await upload(other, padTo(png(), 4 * 1024))).status).toBe(201);
    // The quota is full: refused before the upload is read, and the client still gets the answer.
    const full = await upload(other, padTo(mp4(), 32 * 1024));
    expect([full.status, full.json.error.code]).toEqual([413, 'media_quota_exceeded']);
    expect(full.json.error.details).toEqual({ usedBytes: 64 * 1024, quotaBytes: 64 * 1024 });
  });

  it('takes MP4/MOV video brands only: HEIC, AVIF and M4A audio are 415', async () => {
    for (const brand of ['heic', 'avif', 'M4A ']) {
      const answer = await upload(client, mp4(brand));
      expect([brand, answer.status, answer.json.error.code]).toEqual([brand, 415, 'unsupported_media_type']);
    }
    expect((await upload(client, mp4('mp42'))).status).toBe(201);
  });
});
