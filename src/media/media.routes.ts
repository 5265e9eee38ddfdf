import multipart from '@fastify/multipart';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { AppError, ValidationError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import type { RouteModule, ZodFastify } from '../http/types.ts';
import type { Media } from './media.repository.ts';
import { MAX_ALT_TEXT_LENGTH, type MediaService } from './media.service.ts';
import type { ReceivedFile } from './media.storage.ts';

/** Media as the API shows it (never the stored path or owner). */
export const mediaSchema = z.object({
  id: z.string(),
  mediaType: z.enum(['image', 'gif', 'video']).describe('Decided by content: `gif` means an animated GIF.'),
  mime: z.string(),
  size: z.number().describe('Bytes.'),
  altText: z.string().nullable(),
  createdAt: z.number().describe('Epoch milliseconds.'),
});

/** The one conversion of the domain object to the API shape. */
export function mediaView(media: Media): z.infer<typeof mediaSchema> {
  return {
    id: media.id,
    mediaType: media.mediaType,
    mime: media.mime,
    size: media.size,
    altText: media.altText,
    createdAt: media.createdAt,
  };
}

/**
 * 400 `invalid_multipart` for an error of the multipart parser (no boundary, a truncated part, a malformed part
 * header): the client's body is broken. Errors of our own (AppError) and of the system (disk full) are not.
 */
function malformedMultipart(error: unknown): ValidationError | null {
  if (error instanceof AppError || !(error instanceof Error)) return null;
  if ('syscall' in error || 'errno' in error) return null;
  return new ValidationError(
    `The multipart/form-data body could not be read (${error.message}). Send the file as a "file" part of a complete multipart body with its boundary in the Content-Type header, as curl -F file=@photo.jpg does.`,
    undefined,
    'invalid_multipart',
  );
}

/** `POST /api/v1/media` (multipart upload, streamed to disk) and `GET /api/v1/media/:id`. */
export function mediaRoutes(media: MediaService, largestLimit: number): RouteModule {
  return async (app: ZodFastify, _deps: AppDeps) => {
    // Multipart parsing only where it is needed, with its limits, in its own encapsulated scope.
    await app.register(async (scope: ZodFastify) => {
      await scope.register(multipart, {
        throwFileSizeLimit: false,
        limits: { files: 1, fields: 4, fieldSize: 16 * 1024, parts: 5, fileSize: largestLimit + 1 },
      });

      scope.post(
        '/api/v1/media',
        {
          schema: {
            tags: ['media'],
            summary: 'Uploads an image, GIF or video (multipart/form-data: `file`, optional `altText`).',
            description:
              'The type is decided by the content, not the file name. Limits: images 5 MB, animated GIFs 15 MB, ' +
              'videos 512 MB (lower if configured): 413 `media_too_large`; anything else: 415 `unsupported_media_type`.',
            consumes: ['multipart/form-data'],
            response: { 201: mediaSchema },
          },
          config: {
            // Idempotency-Key: the upload is fingerprinted by the file's sha256 and the fields (the multipart
            // boundary changes on every retry), once the handler has read them; the key is written in the
            // create transaction.
            idempotency: {
              bodyReadInHandler: true,
              answerFor: async (request, mediaId) => {
                const found = await media.find(requireUser(request).id, mediaId);
                return found ? { status: 201, body: mediaView(found) } : null;
              },
            },
          },
        },
        async (request, reply) => {
          const user = requireUser(request);
          await media.checkQuota(user.id);
          if (!request.isMultipart()) {
            throw new ValidationError(
              'Send the upload as multipart/form-data with a "file" part.',
              undefined,
              'file_required',
            );
          }
          let file: ReceivedFile | null = null;
          let altText: string | null = null;
          try {
            for await (const part of request.parts()) {
              if (part.type === 'file') {
                if (part.fieldname !== 'file') {
                  part.file.resume();
                  throw new ValidationError(
                    `Unexpected file part "${part.fieldname}"; send the file as "file".`,
                    {
                      field: part.fieldname,
                    },
                  );
                }
                file = await media.receive(part.file);
              } else if (part.fieldname === 'altText') {
                if (part.valueTruncated) {
                  throw new ValidationError(
                    `The alternative text is too long; X accepts at most ${MAX_ALT_TEXT_LENGTH} characters.`,
                    { field: 'altText', limit: MAX_ALT_TEXT_LENGTH },
                    'alt_text_too_long',
                  );
                }
                altText = String(part.value);
                if (altText.includes('\u0000')) {
                  throw new ValidationError(
                    'The alternative text contains the NUL character (U+0000), which xgate does not accept; remove it.',
                    [
                      {
                        in: 'body',
                        field: 'altText',
                        message: 'must not contain the NUL character (U+0000)',
                      },
                    ],
                  );
                }
              } else {
                throw new ValidationError(
                  `Unexpected field "${part.fieldname}"; only "file" and "altText" are accepted.`,
                  {
                    field: part.fieldname,
                  },
                );
              }
            }
          } catch (error) {
            if (file) await media.discard(file);
            throw malformedMultipart(error) ?? error;
          }
          if (!file)
            throw new ValidationError('The upload has no "file" part.', { field: 'file' }, 'file_required');
          const key = request.idempotency;
          if (key) {
            let answered: boolean;
            try {
              answered = await key.begin(reply, { file: file.sha256, altText });
            } catch (error) {
              await media.discard(file);
              throw error;
            }
            if (answered) {
              await media.discard(file);
              return reply;
            }
          }
          const created = await media.create(
            user.id,
            { file, altText },
            key ? { inTransaction: (trx, kept) => key.record(trx, kept.id) } : {},
          );
          return reply.status(201).send(mediaView(created));
        },
      );
    });

    app.delete(
      '/api/v1/media/:id',
      {
        schema: {
          tags: ['media'],
          summary: 'Deletes an uploaded file (409 `media_in_use` while a scheduled post uses it).',
          description:
            'Frees its space in your quota. Posts that were published with it keep their tweets; a post that may ' +
            'still publish it (scheduled, publishing, failed or needs review) must be deleted or edited first. ' +
            'Uploads no post uses are deleted by themselves after XGATE_MEDIA_UNUSED_TTL_HOURS (default 24).',
          params: z.object({ id: z.string().min(1).max(100) }),
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await media.delete(requireUser(request).id, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/v1/media/:id',
      {
        schema: {
          tags: ['media'],
          summary: 'An uploaded media file’s metadata.',
          params: z.object({ id: z.string().min(1).max(100) }),
          response: { 200: mediaSchema },
        },
      },
      async (request) => mediaView(await media.get(requireUser(request).id, request.params.id)),
    );
  };
}
