import { describe, expect, it } from 'vitest';
import { type SuiteUser, useEmulator } from './testing/suite.ts';

const CLIENT = { clientId: 'media-test', redirectUri: 'http://127.0.0.1/cb' };
const START = Date.UTC(2026, 10, 23, 12, 0, 0);
const MB = 1024 * 1024;

/** Files that start with real signatures; the rest is filler (the emulator only looks at the first bytes). */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(200, 1),
]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 2)]);
const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(3000, 3)]);
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(5000, 4)]);
const TEXT = Buffer.from('this is not a picture at all, only words');

const emu = useEmulator({ client: CLIENT, start: START });
const { call, connect } = emu;

function form(fields: Record<string, string>, media?: Buffer): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (media !== undefined) data.append('media', new Blob([new Uint8Array(media)]), 'blob');
  return data;
}

async function oneShot(
  user: SuiteUser,
  media: Buffer,
  fields: Record<string, string> = { media_category: 'tweet_image' },
) {
  return call('POST', '/2/media/upload', { token: user.token, multipart: form(fields, media) });
}

async function chunked(
  user: SuiteUser,
  media: Buffer,
  mediaType: string,
  mediaCategory: string,
  chunk = 1024,
) {
  const init = await call('POST', '/2/media/upload/initialize', {
    token: user.token,
    json: { media_type: mediaType, total_bytes: media.length, media_category: mediaCategory },
  });
  expect(init.status).toBe(200);
  const id: string = init.body.data.id;
  for (let i = 0; i * chunk < media.length; i++) {
    const append = await call('POST', '/2/media/upload/:id/append', {
      token: user.token,
      params: { id },
      multipart: form({ segment_index: String(i) }, media.subarray(i * chunk, (i + 1) * chunk)),
    });
    expect(append.status).toBe(200);
  }
  const finalize = await call('POST', '/2/media/upload/:id/finalize', { token: user.token, params: { id } });
  return { id, finalize };
}

async function status(user: SuiteUser, id: string) {
  return call('GET', '/2/media/upload', { token: user.token, query: { command: 'STATUS', media_id: id } });
}

async function tweetWith(user: SuiteUser, mediaIds: string[], text = 'with media') {
  return call('POST', '/2/tweets', { token: user.token, json: { text, media: { media_ids: mediaIds } } });
}

describe('one-shot POST /2/media/upload', () => {
  it('takes a multipart image: ready at once, usable in a tweet', async () => {
    const alice = await connect('alice');
    const upload = await oneShot(alice, PNG);
    expect(upload.status).toBe(200);
    expect(upload.body).toEqual({
      data: {
        id: expect.stringMatching(/^\d+$/),
        media_key: `3_${upload.body.data.id}`,
        size: PNG.length,
        expires_after_secs: 86400,
      },
    });
    const posted = await tweetWith(alice, [upload.body.data.id]);
    expect(posted.status).toBe(201);
    // X appends a t.co link to the media to the text.
    expect(posted.body.data.text).toMatch(/^with media https:\/\/t\.co\/\w{10}$/);
    expect(emu.emulator.control.tweets()[0]).toMatchObject({
      text: 'with media',
      mediaIds: [upload.body.data.id],
    });
    const read = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: posted.body.data.id },
      query: {
        'tweet.fields': 'attachments,entities,display_text_range',
        expansions: 'attachments.media_keys',
        'media.fields': 'type,media_key',
      },
    });
    expect(read.body.data.text).toBe(posted.body.data.text);
    expect(read.body.data.display_text_range).toEqual([0, 10]);
    expect(read.body.data.entities.urls).toEqual([
      {
        start: 11,
        end: 34,
        url: posted.body.data.text.slice(11),
        expanded_url: `https://x.com/alice/status/${posted.body.data.id}/photo/1`,
        display_url: `pic.x.com/${posted.body.data.text.slice(24)}`,
        media_key: `3_${upload.body.data.id}`,
      },
    ]);
    expect(read.body.data.attachments).toEqual({ media_keys: [`3_${upload.body.data.id}`] });
    expect(read.body.includes.media).toEqual([{ media_key: `3_${upload.body.data.id}`, type: 'photo' }]);
  });

  it('takes base64 in JSON and decides the type by content', async () => {
    const alice = await connect('alice');
    const upload = await call('POST', '/2/media/upload', {
      token: alice.token,
      json: { media: JPEG.toString('base64'), media_category: 'tweet_image' },
    });
    expect(upload.status).toBe(200);
    expect(upload.body.data.size).toBe(JPEG.length);
    expect((await tweetWith(alice, [upload.body.data.id])).status).toBe(201);
  });

  it('refuses a missing category, a missing file, a wrong type and content that is not what it says', async () => {
    const alice = await connect('alice');
    const noCategory = await oneShot(alice, PNG, {});
    expect(noCategory.status).toBe(400);
    expect(noCategory.body.errors[0].message).toBe('$.media_category: is missing but it is required');
    const badCategory = await oneShot(alice, PNG, { media_category: 'tweet_sticker' });
    expect(badCategory.status).toBe(400);
    const noFile = await call('POST', '/2/media/upload', {
      token: alice.token,
      multipart: form({ media_category: 'tweet_image' }),
    });
    expect(noFile.status).toBe(400);
    expect(noFile.body.errors[0].message).toBe('$.media: is missing but it is required');
    const notImage = await oneShot(alice, TEXT);
    expect(notImage.status).toBe(400);
    const lying = await oneShot(alice, JPEG, { media_category: 'tweet_image', media_type: 'image/png' });
    expect(lying.status).toBe(400);
    const videoAsImage = await oneShot(alice, MP4, { media_category: 'tweet_image' });
    expect(videoAsImage.status).toBe(400);
    const badBase64 = await call('POST', '/2/media/upload', {
      token: alice.token,
      json: { media: '***not base64***', media_category: 'tweet_image' },
    });
    expect(badBase64.status).toBe(400);
  });

  it('refuses an image over 5 MB', async () => {
    const alice = await connect('alice');
    const big = Buffer.concat([PNG, Buffer.alloc(5 * MB)]);
    const answer = await oneShot(alice, big);
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].message).toBe('File size exceeds 5242880 bytes.');
  });

  it('needs the media.write scope', async () => {
    const reader = await connect('reader', { scopes: ['tweet.read', 'tweet.write', 'users.read'] });
    const answer = await oneShot(reader, PNG);
    expect(answer.status).toBe(403);
    const anonymous = await call('POST', '/2/media/upload', {
      multipart: form({ media_category: 'tweet_image' }, PNG),
    });
    expect(anonymous.status).toBe(401);
  });
});

describe('chunked upload and processing', () => {
  it('a GIF goes pending → in_progress → succeeded as emulator time passes; only then can a tweet use it', async () => {
    const alice = await connect('alice');
    const { id, finalize } = await chunked(alice, GIF, 'image/gif', 'tweet_gif');
    expect(finalize.status).toBe(200);
    expect(finalize.body.data).toEqual({
      id,
      media_key: `16_${id}`,
      size: GIF.length,
      expires_after_secs: 86400,
      processing_info: { state: 'pending', check_after_secs: 1, progress_percent: 0 },
    });
    expect((await tweetWith(alice, [id])).status).toBe(400);

    emu.emulator.control.advanceClock(1);
    const running = await status(alice, id);
    expect(running.body.data.processing_info).toMatchObject({
      state: 'in_progress',
      check_after_secs: expect.any(Number),
    });
    expect((await tweetWith(alice, [id])).status).toBe(400);

    emu.emulator.control.advanceClock(10);
    const done = await status(alice, id);
    expect(done.body.data.processing_info).toEqual({ state: 'succeeded', progress_percent: 100 });
    expect((await tweetWith(alice, [id])).status).toBe(201);
  });

  it('a video whose bytes are not a video fails processing, and a tweet refuses it', async () => {
    const alice = await connect('alice');
    const { id, finalize } = await chunked(
      alice,
      Buffer.concat([PNG, Buffer.alloc(4000)]),
      'video/mp4',
      'tweet_video',
    );
    expect(finalize.body.data.media_key).toBe(`7_${id}`);
    expect(finalize.body.data.processing_info.state).toBe('pending');
    emu.emulator.control.advanceClock(60);
    const failed = await status(alice, id);
    expect(failed.body.data.processing_info).toEqual({
      state: 'failed',
      progress_percent: 100,
      error: {
        code: 1,
        name: 'InvalidMedia',
        message: 'Invalid or Unsupported media, Reason: UnsupportedMedia.',
      },
    });
    expect((await tweetWith(alice, [id])).status).toBe(400);
  });

  it('a real video succeeds after processing', async () => {
    const alice = await connect('alice');
    const { id } = await chunked(alice, MP4, 'video/mp4', 'tweet_video', 2000);
    emu.emulator.control.advanceClock(60);
    expect((await status(alice, id)).body.data.processing_info.state).toBe('succeeded');
    expect((await tweetWith(alice, [id])).status).toBe(201);
  });

  it('takes JSON appends with base64 chunks, and base64 media_data in the legacy form', async () => {
    const alice = await connect('alice');
    const init = await call('POST', '/2/media/upload/initialize', {
      token: alice.token,
      json: { media_type: 'video/mp4', total_bytes: MP4.length, media_category: 'tweet_video' },
    });
    const id = init.body.data.id;
    const halves = [MP4.subarray(0, 2000), MP4.subarray(2000)];
    for (const [segment, half] of halves.entries()) {
      const append = await call('POST', '/2/media/upload/:id/append', {
        token: alice.token,
        params: { id },
        json: { media: half.toString('base64'), segment_index: segment },
      });
      expect(append.status).toBe(200);
    }
    const finalize = await call('POST', '/2/media/upload/:id/finalize', {
      token: alice.token,
      params: { id },
    });
    expect(finalize.body.data).toMatchObject({ size: MP4.length, processing_info: { state: 'pending' } });

    const legacy = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: { command: 'INIT', media_type: 'image/png', total_bytes: String(PNG.length) },
    });
    const legacyId = legacy.body.data.id;
    const appended = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: { command: 'APPEND', media_id: legacyId, segment_index: '0', media_data: PNG.toString('base64') },
    });
    expect(appended.status).toBe(200);
    const done = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: { command: 'FINALIZE', media_id: legacyId },
    });
    expect(done.body.data).toEqual({
      id: legacyId,
      media_key: `3_${legacyId}`,
      size: PNG.length,
      expires_after_secs: 86400,
    });
  });

  it('an image uploaded in chunks with the wrong content fails at finalize', async () => {
    const alice = await connect('alice');
    const { id, finalize } = await chunked(alice, TEXT, 'image/png', 'tweet_image');
    expect(finalize.status).toBe(200);
    expect(finalize.body.data.processing_info).toMatchObject({
      state: 'failed',
      error: { name: 'InvalidMedia' },
    });
    expect((await tweetWith(alice, [id])).status).toBe(400);
  });

  it('an image uploaded in chunks is ready at finalize', async () => {
    const alice = await connect('alice');
    const { id, finalize } = await chunked(alice, JPEG, 'image/jpeg', 'tweet_image', 100);
    expect(finalize.body.data.processing_info).toBeUndefined();
    expect((await tweetWith(alice, [id])).status).toBe(201);
  });

  it('initialize refuses missing fields, unknown keys, bad types, mismatched categories and oversize files', async () => {
    const alice = await connect('alice');
    const init = (json: unknown) => call('POST', '/2/media/upload/initialize', { token: alice.token, json });
    const missing = await init({ media_type: 'image/gif' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].message).toBe('$.total_bytes: is missing but it is required');
    expect((await init({ media_type: 'image/gif', total_bytes: 10, colour: 'red' })).status).toBe(400);
    const badType = await init({ media_type: 'application/pdf', total_bytes: 10 });
    expect(badType.body.errors[0].message).toMatch(
      /^\$\.media_type: does not have a value in the enumeration/,
    );
    const mismatch = await init({ media_type: 'video/mp4', total_bytes: 10, media_category: 'tweet_image' });
    expect(mismatch.status).toBe(400);
    const big = await init({
      media_type: 'image/gif',
      total_bytes: 15 * MB + 1,
      media_category: 'tweet_gif',
    });
    expect(big.body.errors[0].message).toBe('File size exceeds 15728640 bytes.');
    const hugeVideo = await init({ media_type: 'video/mp4', total_bytes: 512 * MB + 1 });
    expect(hugeVideo.status).toBe(400);
    expect((await init({ media_type: 'video/mp4', total_bytes: 512 * MB })).status).toBe(200);
  });

  it('append refuses a bad segment_index, a missing chunk, unknown ids and finalized uploads', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const init = await call('POST', '/2/media/upload/initialize', {
      token: alice.token,
      json: { media_type: 'image/gif', total_bytes: GIF.length, media_category: 'tweet_gif' },
    });
    const id = init.body.data.id;
    const append = (who: SuiteUser, mediaId: string, fields: Record<string, string>, media?: Buffer) =>
      call('POST', '/2/media/upload/:id/append', {
        token: who.token,
        params: { id: mediaId },
        multipart: form(fields, media),
      });
    expect((await append(alice, id, { segment_index: '1000' }, GIF)).status).toBe(400);
    const noChunk = await append(alice, id, { segment_index: '0' });
    expect(noChunk.body.errors[0].message).toBe('$.media: is missing but it is required');
    expect((await append(alice, '123', { segment_index: '0' }, GIF)).status).toBe(400);
    expect((await append(bob, id, { segment_index: '0' }, GIF)).status).toBe(400);
    const ok = await append(alice, id, { segment_index: '0' }, GIF);
    expect(ok.body).toEqual({ data: { expires_at: Math.floor(START / 1000) + 86400 } });
    await call('POST', '/2/media/upload/:id/finalize', { token: alice.token, params: { id } });
    expect((await append(alice, id, { segment_index: '1' }, GIF)).status).toBe(400);
  });

  it('finalize refuses missing segments and a size that is not total_bytes', async () => {
    const alice = await connect('alice');
    const start = async (total: number) =>
      (
        await call('POST', '/2/media/upload/initialize', {
          token: alice.token,
          json: { media_type: 'image/gif', total_bytes: total, media_category: 'tweet_gif' },
        })
      ).body.data.id as string;
    const gap = await start(2000);
    for (const segment of ['0', '2']) {
      await call('POST', '/2/media/upload/:id/append', {
        token: alice.token,
        params: { id: gap },
        multipart: form({ segment_index: segment }, GIF.subarray(0, 1000)),
      });
    }
    expect(
      (await call('POST', '/2/media/upload/:id/finalize', { token: alice.token, params: { id: gap } }))
        .status,
    ).toBe(400);
    const short = await start(GIF.length + 10);
    await call('POST', '/2/media/upload/:id/append', {
      token: alice.token,
      params: { id: short },
      multipart: form({ segment_index: '0' }, GIF),
    });
    const mismatch = await call('POST', '/2/media/upload/:id/finalize', {
      token: alice.token,
      params: { id: short },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0].message).toBe(
      `File size mismatch: received ${GIF.length} bytes, total_bytes is ${GIF.length + 10}.`,
    );
    const empty = await start(10);
    expect(
      (await call('POST', '/2/media/upload/:id/finalize', { token: alice.token, params: { id: empty } }))
        .status,
    ).toBe(400);
  });

  it('STATUS refuses a missing or unknown media_id and another command', async () => {
    const alice = await connect('alice');
    expect(
      (await call('GET', '/2/media/upload', { token: alice.token, query: { command: 'STATUS' } })).status,
    ).toBe(400);
    expect((await status(alice, '77')).status).toBe(400);
    const upload = await oneShot(alice, PNG);
    const other = await call('GET', '/2/media/upload', {
      token: alice.token,
      query: { command: 'INIT', media_id: upload.body.data.id },
    });
    expect(other.status).toBe(400);
    const plain = await call('GET', '/2/media/upload', {
      token: alice.token,
      query: { media_id: upload.body.data.id },
    });
    expect(plain.status).toBe(200);
  });

  it('accepts the legacy command=INIT/APPEND/FINALIZE/STATUS form on /2/media/upload', async () => {
    const alice = await connect('alice');
    const init = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: {
        command: 'INIT',
        media_type: 'image/gif',
        total_bytes: String(GIF.length),
        media_category: 'tweet_gif',
      },
    });
    expect(init.status).toBe(200);
    const id = init.body.data.id;
    const append = await call('POST', '/2/media/upload', {
      token: alice.token,
      multipart: form({ command: 'APPEND', media_id: id, segment_index: '0' }, GIF),
    });
    expect(append.status).toBe(200);
    const finalize = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: { command: 'FINALIZE', media_id: id },
    });
    expect(finalize.body.data.processing_info.state).toBe('pending');
    emu.emulator.control.advanceClock(30);
    expect((await status(alice, id)).body.data.processing_info.state).toBe('succeeded');
    const legacyStatus = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: { command: 'STATUS', media_id: id },
    });
    expect(legacyStatus.body.data.processing_info.state).toBe('succeeded');
    const unknown = await call('POST', '/2/media/upload', {
      token: alice.token,
      form: { command: 'RESET', media_id: id },
    });
    expect(unknown.status).toBe(400);
  });
});

describe('media on tweets', () => {
  it('allows up to 4 images, or one GIF or video alone', async () => {
    const alice = await connect('alice');
    const images: string[] = [];
    for (let i = 0; i < 4; i++) images.push((await oneShot(alice, PNG)).body.data.id);
    expect((await tweetWith(alice, images, 'four images')).status).toBe(201);
    const { id: gif } = await chunked(alice, GIF, 'image/gif', 'tweet_gif');
    emu.emulator.control.advanceClock(30);
    const fresh = await emu.reauthorize(alice.id);
    expect((await tweetWith(fresh, [gif, images[0]!], 'gif and image')).status).toBe(400);
    expect((await tweetWith(fresh, [gif], 'gif alone')).status).toBe(201);
  });

  it('refuses another user’s media, subtitles, and media past their expiry', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const mine = (await oneShot(alice, PNG)).body.data.id;
    expect((await tweetWith(bob, [mine])).status).toBe(400);
    const subtitles = await oneShot(alice, Buffer.from('WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n'), {
      media_category: 'subtitles',
      media_type: 'text/vtt',
    });
    expect(subtitles.status).toBe(200);
    expect((await tweetWith(alice, [subtitles.body.data.id])).status).toBe(400);

    emu.emulator.control.advanceClock(24 * 60 * 60 + 1);
    const later = await emu.reauthorize(alice.id);
    expect((await tweetWith(later, [mine])).status).toBe(400);
    expect((await status(later, mine)).status).toBe(400);
  });
});

describe('POST /2/media/metadata', () => {
  it('sets alt text, shown in includes.media with media.fields=alt_text', async () => {
    const alice = await connect('alice');
    const id = (await oneShot(alice, PNG)).body.data.id;
    const set = await call('POST', '/2/media/metadata', {
      token: alice.token,
      json: { id, metadata: { alt_text: { text: 'A cat asleep on a keyboard' } } },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      data: { id, associated_metadata: { alt_text: { text: 'A cat asleep on a keyboard' } } },
    });
    const posted = await tweetWith(alice, [id]);
    const read = await call('GET', '/2/tweets/:id', {
      token: alice.token,
      params: { id: posted.body.data.id },
      query: { expansions: 'attachments.media_keys', 'media.fields': 'alt_text' },
    });
    expect(read.body.includes.media[0].alt_text).toBe('A cat asleep on a keyboard');
  });

  it('refuses alt text over 1000 characters, a missing id and unknown media', async () => {
    const alice = await connect('alice');
    const id = (await oneShot(alice, PNG)).body.data.id;
    const long = await call('POST', '/2/media/metadata', {
      token: alice.token,
      json: { id, metadata: { alt_text: { text: 'x'.repeat(1001) } } },
    });
    expect(long.status).toBe(400);
    expect(long.body.errors[0].message).toBe('$.metadata.alt_text.text: may only be 1000 characters long');
    expect(
      (await call('POST', '/2/media/metadata', { token: alice.token, json: { metadata: {} } })).status,
    ).toBe(400);
    expect((await call('POST', '/2/media/metadata', { token: alice.token, json: { id: '5' } })).status).toBe(
      400,
    );
  });
});
