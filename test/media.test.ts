import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gif, jpeg, mp4, padTo, png, webm, webp } from './fixtures/media.ts';
import {
  countRows,
  createHttpClient,
  describeEachDialect,
  makeApiClient,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const KB = 1024;

describeEachDialect('media', (ctx) => {
  let service: TestService;
  let client: TestHttpClient;
  let userId: string;

  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      // Small limits so over-size uploads are cheap to send.
      env: {
        XGATE_MAX_IMAGE_BYTES: String(4 * KB),
        XGATE_MAX_GIF_BYTES: String(8 * KB),
        XGATE_MAX_VIDEO_BYTES: String(64 * KB),
      },
    });
    ({
      client,
      user: { id: userId },
    } = await makeApiClient(service));
  });
  afterAll(() => service?.stop());

  function upload(
    as: TestHttpClient,
    file: Buffer,
    name: string,
    fields: Record<string, string> = {},
    fieldsFirst = true,
  ) {
    const form = new FormData();
    if (fieldsFirst) for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(file)], { type: 'application/octet-stream' }), name);
    if (!fieldsFirst) for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return as.request('POST', '/api/v1/media', { body: form });
  }

  const mediaDir = () => join(ctx.dataDir, 'media');
  const storedFiles = () => readdirSync(mediaDir()).sort();
  const rowCount = () => countRows(service.app.deps.db, 'media');

  it('decides the type by content, not by name, and stores the file under the data dir', async () => {
    const file = png();
    const answer = await upload(client, file, 'holiday.gif');
    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({
      mediaType: 'image',
      mime: 'image/png',
      size: file.length,
      altText: null,
    });
    expect(Object.keys(answer.json).sort()).toEqual([
      'altText',
      'createdAt',
      'id',
      'mediaType',
      'mime',
      'size',
    ]);
    expect(readFileSync(join(mediaDir(), answer.json.id))).toEqual(file);
    const row = await service.app.deps.db
      .selectFrom('media')
      .selectAll()
      .where('id', '=', answer.json.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ user_id: userId, path: `media/${answer.json.id}` });
    expect(row.sha256).toBe(createHash('sha256').update(file).digest('hex'));

    const kinds: Array<[Buffer, string, string, string]> = [
      [jpeg(), 'a.png', 'image', 'image/jpeg'],
      [webp(), 'a.jpg', 'image', 'image/webp'],
      [gif(1), 'still.gif', 'image', 'image/gif'],
      [gif(4), 'anim.png', 'gif', 'image/gif'],
      [mp4(), 'clip.bin', 'video', 'video/mp4'],
      [mp4('qt  '), 'clip.mp4', 'video', 'video/quicktime'],
      [webm(), 'clip', 'video', 'video/webm'],
    ];
    for (const [bytes, name, mediaType, mime] of kinds) {
      const kind = await upload(client, bytes, name);
      expect(kind.status, name).toBe(201);
      expect(kind.json, name).toMatchObject({ mediaType, mime });
    }
  });

  it('streams a large file to disk intact', async () => {
    const file = padTo(mp4(), 60 * KB);
    for (let i = 64; i < file.length; i++) file[i] = (i * 31) % 251;
    const answer = await upload(client, file, 'big.mp4');
    expect(answer.status).toBe(201);
    expect(answer.json.size).toBe(file.length);
    expect(readFileSync(join(mediaDir(), answer.json.id)).equals(file)).toBe(true);
  });

  it('keeps the alt text, sent before or after the file', async () => {
    const before = await upload(client, png(), 'p.png', { altText: 'A red square.' });
    expect(before.status).toBe(201);
    expect(before.json.altText).toBe('A red square.');
    const after = await upload(client, png(), 'p.png', { altText: 'Same, later.' }, false);
    expect(after.json.altText).toBe('Same, later.');
    expect((await client.get(`/api/v1/media/${after.json.id}`)).json.altText).toBe('Same, later.');
  });

  it('refuses over-size files with 413 naming the limit, keeping nothing', async () => {
    const files = storedFiles();
    const rows = await rowCount();
    const cases: Array<[Buffer, string, number]> = [
      [padTo(png(), 4 * KB + 1), 'image', 4 * KB],
      [padTo(png(), 3 * 1024 * KB), 'image', 4 * KB], // far past every limit: still a clean answer
      [padTo(gif(1), 5 * KB), 'image', 4 * KB], // a still GIF is an image
      [padTo(mp4(), 64 * KB + 1), 'video', 64 * KB],
      [padTo(gif(2), 9 * KB), 'gif', 8 * KB],
    ];
    for (const [file, mediaType, limit] of cases) {
      const answer = await upload(client, file, 'x');
      expect(answer.status).toBe(413);
      expect(answer.json.error).toMatchObject({
        code: 'media_too_large',
        details: { mediaType, limitBytes: limit },
      });
      expect(answer.json.error.message).toContain(
        limit === 4 * KB ? '4 KB' : limit === 8 * KB ? '8 KB' : '64 KB',
      );
    }
    // An animated GIF may use the larger GIF limit.
    const animated = await upload(client, padTo(gif(2), 6 * KB), 'ok.gif');
    expect(animated.status).toBe(201);
    expect(storedFiles()).toEqual([...files, animated.json.id].sort());
    expect(await rowCount()).toBe(rows + 1);
  });

  it('refuses unsupported content with 415, keeping nothing', async () => {
    const files = storedFiles();
    for (const [bytes, name] of [
      [Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'), 'doc.png'],
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'a.svg'],
      [Buffer.alloc(0), 'empty.jpg'],
      [Buffer.from('GIF'), 'short.gif'],
    ] as const) {
      const answer = await upload(client, bytes, name);
      expect(answer.status, name).toBe(415);
      expect(answer.json.error.code).toBe('unsupported_media_type');
    }
    expect(storedFiles()).toEqual(files);
  });

  it('validates the form', async () => {
    const rows = await rowCount();
    const long = await upload(client, png(), 'p.png', { altText: 'x'.repeat(1001) });
    expect(long.status).toBe(400);
    expect(long.json.error).toMatchObject({
      code: 'alt_text_too_long',
      details: { field: 'altText', limit: 1000 },
    });

    const noFile = new FormData();
    noFile.append('altText', 'alone');
    const missing = await client.request('POST', '/api/v1/media', { body: noFile });
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('file_required');

    const json = await client.post('/api/v1/media', { file: 'nope' });
    expect(json.status).toBe(400);
    expect(json.json.error.code).toBe('file_required');

    const extra = await upload(client, png(), 'p.png', { caption: 'what' });
    expect(extra.status).toBe(400);
    expect(extra.json.error.details).toMatchObject({ field: 'caption' });
    expect(await rowCount()).toBe(rows);
  });

  it('answers 404 for another user’s media and 401 without credentials', async () => {
    const mine = await upload(client, png(), 'p.png');
    expect((await client.get(`/api/v1/media/${mine.json.id}`)).status).toBe(200);
    const other = await makeApiClient(service);
    const theirs = await other.client.get(`/api/v1/media/${mine.json.id}`);
    expect(theirs.status).toBe(404);
    expect(theirs.json.error.code).toBe('media_not_found');
    const anonymous = createHttpClient(service.url);
    expect((await anonymous.get(`/api/v1/media/${mine.json.id}`)).status).toBe(401);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png())]), 'p.png');
    expect((await anonymous.request('POST', '/api/v1/media', { body: form })).status).toBe(401);
  });
});
