import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { billWrite } from './billing.ts';
import type { AuthedUser, EmulatorContext } from './context.ts';
import { type BodySchema, checkBody, ID_PATTERN } from './json-body.ts';
import {
  defaultCategory,
  MAX_BYTES,
  MAX_SEGMENT_BYTES,
  MEDIA_CATEGORIES,
  MEDIA_TTL_MS,
  MEDIA_TYPES,
  mediaKeyPrefix,
  mediaKind,
  ONE_SHOT_CATEGORIES,
  processingDurationMs,
} from './media/rules.ts';
import { contentMatches, sniffMediaType } from './media/sniff.ts';
import { uploadData } from './media/status.ts';
import { type Payload, readUploadBody, type UploadBody } from './media/upload-body.ts';
import { type InvalidParameter, invalidRequestProblem, sendProblem } from './problems.ts';
import { badIdError } from './query.ts';
import type { EmuMedia } from './state.ts';
import type { RateLimitedEndpoint } from './tiers.ts';

const MEDIA_SCOPES = ['media.write'] as const;

/** `MediaUploadConfigRequest` (initialize / INIT), with `media_type` and `total_bytes` required as X requires them. */
const INITIALIZE_SCHEMA: BodySchema = {
  type: 'object',
  required: ['media_type', 'total_bytes'],
  properties: {
    media_type: { type: 'string', enum: MEDIA_TYPES },
    total_bytes: { type: 'integer', minimum: 0, maximum: 17_179_869_184 },
    media_category: { type: 'string', enum: MEDIA_CATEGORIES },
    additional_owners: { type: 'array', items: { type: 'string', pattern: ID_PATTERN } },
    shared: { type: 'boolean' },
  },
};

const METADATA_SCHEMA: BodySchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    metadata: {
      type: 'object',
      strict: false,
      properties: {
        alt_text: {
          type: 'object',
          required: ['text'],
          properties: { text: { type: 'string', maxLength: 1000 } },
        },
      },
    },
  },
};

function invalid(reply: FastifyReply, errors: InvalidParameter[]): FastifyReply {
  return sendProblem(reply, invalidRequestProblem(errors));
}

function tooLarge(reply: FastifyReply, parameter: string, size: number, max: number): FastifyReply {
  return invalid(reply, [
    { parameters: { [parameter]: [String(size)] }, message: `File size exceeds ${max} bytes.` },
  ]);
}

/** Form fields arrive as strings; JSON may send numbers, booleans and arrays. */
function asInteger(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

function asList(value: unknown): unknown {
  return typeof value === 'string' ? value.split(',').filter((v) => v !== '') : value;
}

function asBoolean(value: unknown): unknown {
  return value === 'true' ? true : value === 'false' ? false : value;
}

/**
 * Media routes: one-shot `POST /2/media/upload`, chunked `initialize` → `append` → `finalize`,
 * `GET /2/media/upload?command=STATUS`, the legacy `command=INIT|APPEND|FINALIZE|STATUS` form on
 * `/2/media/upload`, and alt text through `POST /2/media/metadata`. Only the first few KB of each upload
 * are kept (for the type check); GIFs and videos are processed over emulator time.
 */
export function registerMediaRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;

  /** The caller's unexpired media with this id, or undefined after answering X's 400. */
  const ownedMedia = (reply: FastifyReply, user: AuthedUser, id: unknown, parameter: string) => {
    const text = typeof id === 'number' ? String(id) : id;
    if (typeof text !== 'string' || !ID_PATTERN.test(text)) {
      invalid(reply, [badIdError(parameter, String(text ?? ''))]);
      return undefined;
    }
    const media = state.media.get(text);
    if (media === undefined || media.ownerId !== user.userId || media.expiresAt <= ctx.clock.now()) {
      invalid(reply, [
        { parameters: { [parameter]: [text] }, message: `The ${parameter} [${text}] was not found.` },
      ]);
      return undefined;
    }
    return media;
  };

  const begin = (req: FastifyRequest, reply: FastifyReply, endpoint: RateLimitedEndpoint) => {
    const user = ctx.requireUser(req, reply, MEDIA_SCOPES);
    if (!user) return undefined;
    return ctx.takeRateLimit(req, reply, endpoint, user.userId) ? user : undefined;
  };

  /** Starts a chunked upload from a `MediaUploadConfigRequest` (strict: unknown keys are refused). */
  const initialize = (reply: FastifyReply, user: AuthedUser, request: unknown) => {
    const errors = checkBody(request, INITIALIZE_SCHEMA);
    if (errors.length > 0) return invalid(reply, errors);
    const config = request as {
      media_type: string;
      total_bytes: number;
      media_category?: string;
      additional_owners?: string[];
    };
    const mediaType = config.media_type;
    const category = config.media_category ?? defaultCategory(mediaType);
    const kind = mediaKind(mediaType, category);
    if (kind === null) return mismatch(reply, mediaType, category);
    const totalBytes = config.total_bytes;
    if (totalBytes > MAX_BYTES[kind]) return tooLarge(reply, 'total_bytes', totalBytes, MAX_BYTES[kind]);
    const media = newMedia(user, mediaType, category, kind, config.additional_owners ?? []);
    media.totalBytes = totalBytes;
    state.media.set(media.id, media);
    ctx.markDirty();
    return reply.send({
      data: {
        id: media.id,
        media_key: media.mediaKey,
        expires_after_secs: Math.floor((media.expiresAt - ctx.clock.now()) / 1000),
      },
    });
  };

  const append = (reply: FastifyReply, media: EmuMedia, body: UploadBody) => {
    if (media.finalizedAt !== null) {
      return invalid(reply, [
        {
          parameters: { media_id: [media.id] },
          message: 'The upload was already finalized; start a new one.',
        },
      ]);
    }
    const segment = asInteger(body.fields.segment_index);
    const errors = checkBody(
      { segment_index: segment },
      {
        type: 'object',
        required: ['segment_index'],
        properties: { segment_index: { type: 'integer', minimum: 0, maximum: 999 } },
      },
    );
    if (body.badBase64) {
      errors.push({ parameters: { media: [] }, message: '$.media: is not valid base64' });
    } else if (body.payload === null) {
      errors.push({ parameters: { '$.media': [] }, message: '$.media: is missing but it is required' });
    }
    if (errors.length > 0 || body.payload === null) return invalid(reply, errors);
    if (body.payload.size > MAX_SEGMENT_BYTES) {
      return tooLarge(reply, 'media', body.payload.size, MAX_SEGMENT_BYTES);
    }
    const index = segment as number;
    media.segments[index] = body.payload.size;
    if (index === 0) media.head = body.payload.head.toString('base64');
    ctx.markDirty();
    return reply.send({ data: { expires_at: Math.floor(media.expiresAt / 1000) } });
  };

  const finalize = (reply: FastifyReply, media: EmuMedia) => {
    const now = ctx.clock.now();
    if (media.finalizedAt === null) {
      const indexes = Object.keys(media.segments).map(Number);
      const received = indexes.reduce((sum, i) => sum + (media.segments[i] ?? 0), 0);
      const contiguous = indexes.length > 0 && indexes.every((i) => i < indexes.length);
      if (!contiguous) {
        return invalid(reply, [
          {
            parameters: { segment_index: indexes.map(String) },
            message:
              'Segments are missing: every segment_index from 0 to the last must be appended before finalize.',
          },
        ]);
      }
      if (received !== media.totalBytes) {
        return invalid(reply, [
          {
            parameters: { total_bytes: [String(media.totalBytes)] },
            message: `File size mismatch: received ${received} bytes, total_bytes is ${media.totalBytes}.`,
          },
        ]);
      }
      complete(media, { head: Buffer.from(media.head, 'base64'), size: received }, now);
      ctx.markDirty();
    }
    return reply.send({ data: uploadData(media, now) });
  };

  const status = (reply: FastifyReply, media: EmuMedia) =>
    reply.send({ data: uploadData(media, ctx.clock.now()) });

  const oneShot = (reply: FastifyReply, user: AuthedUser, body: UploadBody) => {
    const { fields } = body;
    const errors: InvalidParameter[] = [];
    const category = fields.media_category;
    if (category === undefined) {
      errors.push({
        parameters: { media_category: [] },
        message: '$.media_category: is missing but it is required',
      });
    } else if (
      typeof category !== 'string' ||
      !(ONE_SHOT_CATEGORIES as readonly string[]).includes(category)
    ) {
      errors.push({
        parameters: { media_category: [String(category)] },
        message: `$.media_category: does not have a value in the enumeration [${ONE_SHOT_CATEGORIES.join(', ')}]`,
      });
    }
    const declared = fields.media_type;
    if (
      declared !== undefined &&
      (typeof declared !== 'string' || !(MEDIA_TYPES as readonly string[]).includes(declared))
    ) {
      errors.push({
        parameters: { media_type: [String(declared)] },
        message: `$.media_type: does not have a value in the enumeration [${MEDIA_TYPES.join(', ')}]`,
      });
    }
    if (body.badBase64) errors.push({ parameters: { media: [] }, message: '$.media: is not valid base64' });
    else if (body.payload === null) {
      errors.push({ parameters: { media: [] }, message: '$.media: is missing but it is required' });
    }
    if (errors.length > 0 || body.payload === null) return invalid(reply, errors);

    const sniffed = sniffMediaType(body.payload.head);
    // The type is decided by content; a declared type must agree with it.
    const mediaType = (declared as string | undefined) ?? sniffed;
    if (mediaType === null || !contentMatches(mediaType, sniffed)) {
      return invalid(reply, [
        {
          parameters: { media: [], ...(declared === undefined ? {} : { media_type: [String(declared)] }) },
          message: 'Media type unrecognized: the content is not a supported file of the declared type.',
        },
      ]);
    }
    const kind = mediaKind(mediaType, category as string);
    if (kind === null) return mismatch(reply, mediaType, category as string);
    if (body.payload.size > MAX_BYTES[kind])
      return tooLarge(reply, 'media', body.payload.size, MAX_BYTES[kind]);
    const owners = asList(fields.additional_owners);
    const media = newMedia(
      user,
      mediaType,
      category as string,
      kind,
      Array.isArray(owners) ? owners.filter((o): o is string => typeof o === 'string') : [],
    );
    media.totalBytes = body.payload.size;
    media.segments = { 0: body.payload.size };
    const now = ctx.clock.now();
    complete(media, body.payload, now);
    state.media.set(media.id, media);
    ctx.markDirty();
    return reply.send({ data: uploadData(media, now) });
  };

  const newMedia = (
    user: AuthedUser,
    mediaType: string,
    category: string,
    kind: EmuMedia['kind'],
    additionalOwners: string[],
  ): EmuMedia => {
    const id = ctx.nextId();
    const now = ctx.clock.now();
    return {
      id,
      mediaKey: `${mediaKeyPrefix(kind, category)}_${id}`,
      ownerId: user.userId,
      mediaType,
      category,
      totalBytes: 0,
      size: 0,
      segments: {},
      state: 'initialized',
      createdAt: now,
      finalizedAt: null,
      expiresAt: now + MEDIA_TTL_MS,
      error: null,
      kind,
      head: '',
      contentOk: null,
      processingMs: 0,
      altText: null,
      additionalOwners,
    };
  };

  /** Finalizes: decides from the first bytes whether the content is what was declared, then drops them. */
  const complete = (media: EmuMedia, payload: Payload, now: number) => {
    media.size = payload.size;
    media.contentOk = contentMatches(media.mediaType, sniffMediaType(payload.head));
    media.head = '';
    media.finalizedAt = now;
    media.expiresAt = now + MEDIA_TTL_MS;
    media.processingMs = processingDurationMs(media.kind, payload.size);
    media.state = media.kind === 'gif' || media.kind === 'video' ? 'pending' : 'succeeded';
  };

  app.register(async (scope) => {
    await scope.register(multipart, {
      // twitter-api-v2 and other clients send the chunk as a part named `media` without a filename;
      // busboy would otherwise buffer it as a text field.
      isPartAFile: (fieldName, _contentType, fileName) => fileName !== undefined || fieldName === 'media',
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_BYTES.video + 1, files: 2, fields: 20, fieldSize: 20 * 1024 * 1024 },
    });

    scope.post('/2/media/upload', async (req, reply) => {
      const user = begin(req, reply, 'POST /2/media/upload');
      if (!user) return reply;
      const body = await readUploadBody(req);
      const command = body.fields.command;
      if (command === undefined) return oneShot(reply, user, body);
      switch (command) {
        case 'INIT':
          return initialize(reply, user, legacyInitRequest(body.fields));
        case 'APPEND': {
          const media = ownedMedia(reply, user, body.fields.media_id, 'media_id');
          return media ? append(reply, media, body) : reply;
        }
        case 'FINALIZE': {
          const media = ownedMedia(reply, user, body.fields.media_id, 'media_id');
          return media ? finalize(reply, media) : reply;
        }
        case 'STATUS': {
          const media = ownedMedia(reply, user, body.fields.media_id, 'media_id');
          return media ? status(reply, media) : reply;
        }
        default:
          return invalid(reply, [
            {
              parameters: { command: [String(command)] },
              message: `The \`command\` parameter value [${String(command)}] is not one of [INIT, APPEND, FINALIZE, STATUS]`,
            },
          ]);
      }
    });

    scope.get('/2/media/upload', async (req, reply) => {
      const user = begin(req, reply, 'GET /2/media/upload');
      if (!user) return reply;
      const query = req.query as Record<string, unknown>;
      if (query.command !== undefined && query.command !== 'STATUS') {
        return invalid(reply, [
          {
            parameters: { command: [String(query.command)] },
            message: `The \`command\` query parameter value [${String(query.command)}] is not one of [STATUS]`,
          },
        ]);
      }
      if (query.media_id === undefined) {
        return invalid(reply, [
          { parameters: { media_id: [] }, message: 'The `media_id` query parameter can not be empty' },
        ]);
      }
      const media = ownedMedia(reply, user, query.media_id, 'media_id');
      return media ? status(reply, media) : reply;
    });

    scope.post('/2/media/upload/initialize', async (req, reply) => {
      const user = begin(req, reply, 'POST /2/media/upload/initialize');
      if (!user) return reply;
      return initialize(reply, user, req.body ?? null);
    });

    scope.post<{ Params: { id: string } }>('/2/media/upload/:id/append', async (req, reply) => {
      const user = begin(req, reply, 'POST /2/media/upload/:id/append');
      if (!user) return reply;
      const body = await readUploadBody(req);
      const media = ownedMedia(reply, user, req.params.id, 'id');
      return media ? append(reply, media, body) : reply;
    });

    scope.post<{ Params: { id: string } }>('/2/media/upload/:id/finalize', async (req, reply) => {
      const user = begin(req, reply, 'POST /2/media/upload/:id/finalize');
      if (!user) return reply;
      const media = ownedMedia(reply, user, req.params.id, 'id');
      return media ? finalize(reply, media) : reply;
    });

    scope.post('/2/media/metadata', async (req, reply) => {
      const user = ctx.requireUser(req, reply, MEDIA_SCOPES);
      if (!user) return reply;
      const errors = checkBody(req.body ?? null, METADATA_SCHEMA);
      if (errors.length > 0) return invalid(reply, errors);
      const body = req.body as { id: string; metadata?: { alt_text?: { text: string } } };
      const media = ownedMedia(reply, user, body.id, 'id');
      if (!media) return reply;
      const altText = body.metadata?.alt_text;
      if (altText !== undefined) {
        media.altText = altText.text;
        ctx.markDirty();
      }
      billWrite(ctx.state.billing, 'media_metadata', media.id, ctx.clock.now());
      const associated: Record<string, unknown> = {};
      if (media.altText !== null) associated.alt_text = { text: media.altText };
      return reply.send({ data: { id: media.id, associated_metadata: associated } });
    });
  });
}

/** The `MediaUploadConfigRequest` of a legacy `command=INIT`, whose fields arrive as form strings. */
function legacyInitRequest(fields: Record<string, unknown>): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  if (fields.media_type !== undefined) request.media_type = fields.media_type;
  if (fields.total_bytes !== undefined) request.total_bytes = asInteger(fields.total_bytes);
  if (fields.media_category !== undefined) request.media_category = fields.media_category;
  if (fields.additional_owners !== undefined) request.additional_owners = asList(fields.additional_owners);
  if (fields.shared !== undefined) request.shared = asBoolean(fields.shared);
  return request;
}

function mismatch(reply: FastifyReply, mediaType: string, category: string): FastifyReply {
  return invalid(reply, [
    {
      parameters: { media_type: [mediaType], media_category: [category] },
      message: `The media_type [${mediaType}] cannot be used with media_category [${category}].`,
    },
  ]);
}
