import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES } from '../errors/index.ts';

const ALL_CODES = Object.values(ERROR_CODES).flat() as [string, ...string[]];

/** The body of every error answer (CONTRACT: `{"error":{"code","message","details"?}}`). */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(ALL_CODES).describe('Stable code: scripts branch on it (README, "Every code").'),
      message: z.string().describe('What went wrong and what to do, for a person.'),
      details: z.unknown().optional().describe('Machine-readable detail, e.g. `[{in, field, message}]`.'),
    }),
  })
  .describe('An error.');

const WHEN: Record<number, string> = {
  400: 'The request is malformed: `invalid_request` (details name each field), `invalid_json`, `invalid_cursor`…',
  401: 'No valid session cookie or API key (`unauthorized`).',
  403: 'A cookie-authenticated change without `X-XGate-CSRF: 1` (`csrf_required`).',
  404: 'No such object of yours (another user’s answers the same), or a path segment that is not an id.',
  409: 'The object’s state does not allow it, or a request with the same Idempotency-Key is still running.',
  413: 'The body or upload is too large.',
  414: 'A path segment is longer than 100 characters (`uri_too_long`).',
  415: 'The content type is not accepted here.',
  422: 'Well-formed but refused by a rule (the code says which), or an Idempotency-Key reused for another request.',
  429: 'Too many requests (`rate_limited`); `Retry-After` says when to try again.',
  500: 'Our fault (`internal_error`); the message quotes the request id.',
  503: 'A dependency is down or the service is stopping; retry later.',
};

/** The error statuses a route can answer, from what every route shares and what its method and path add. */
function errorStatuses(method: string, url: string): number[] {
  const statuses = [400, 401, 429, 500, 503];
  if (url.includes(':')) statuses.push(404, 414);
  if (method !== 'GET' && method !== 'HEAD') statuses.push(403, 404, 409, 422);
  if (method === 'POST' || method === 'PATCH' || method === 'PUT') statuses.push(413, 415);
  return [...new Set(statuses)].sort();
}

/** `GET /api/v1/posts/:id` → `getPostsById`: a stable operationId from the method and the path. */
function operationId(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1/, '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => (segment.startsWith(':') ? `By-${segment.slice(1)}` : segment))
    .flatMap((segment) => segment.split(/[-_]/))
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return `${method.toLowerCase()}${words.join('')}`;
}

/**
 * Completes every documented route's schema: an operationId, and the error answers of the API routes (so the
 * OpenAPI document lists them, with the error body, and answers are checked against them), keeping any a route
 * declares itself.
 */
export function completeRouteSchema(route: RouteOptions): void {
  route.schema ??= {};
  const schema = route.schema as {
    response?: Record<number, unknown>;
    hide?: boolean;
    operationId?: string;
  };
  if (schema.hide) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  schema.operationId ??= operationId(methods[0]!, route.url);
  if (!route.url.startsWith('/api/') && route.url !== '/auth/logout') return;
  schema.response ??= {};
  const response = schema.response;
  for (const method of methods) {
    for (const status of errorStatuses(method, route.url)) {
      response[status] ??= errorResponseSchema.describe(WHEN[status] ?? 'An error.');
    }
  }
}

interface OpenApiDocument {
  paths?: Record<
    string,
    Record<
      string,
      {
        responses?: Record<string, unknown>;
        requestBody?: { content?: Record<string, { examples?: Record<string, unknown> }> } | unknown;
      }
    >
  >;
}

const ACCOUNT_ID = '6f1c2d7e-2b1a-4c7e-9a55-0d9f5e3b8c21';

/** Request examples, by path and method: what a person would send first. */
const REQUEST_EXAMPLES: Record<
  string,
  Record<string, Record<string, { summary: string; value: unknown }>>
> = {
  '/api/v1/posts': {
    post: {
      now: {
        summary: 'A tweet, now',
        value: { accountId: ACCOUNT_ID, items: [{ text: 'Hello from xgate' }] },
      },
      thread: {
        summary: 'A thread with an image, scheduled',
        value: {
          accountId: ACCOUNT_ID,
          items: [
            { text: 'Our numbers are in 🧵', mediaIds: ['b7e0f3a2-5d1c-4f8e-8a3b-2c9d4e6f7a10'] },
            { text: 'Details in the reply.' },
          ],
          scheduledAt: '2026-12-01T09:00:00Z',
        },
      },
    },
  },
  '/api/v1/posts/{id}': {
    patch: {
      reschedule: { summary: 'Move it an hour later', value: { scheduledAt: '2026-12-01T10:00:00Z' } },
    },
  },
  '/api/v1/threads/split': {
    post: {
      essay: { summary: 'Long text into tweets', value: { text: 'A long essay… Every sentence counts.' } },
    },
  },
  '/api/v1/api-keys': {
    post: { script: { summary: 'A key for a script', value: { name: 'deploy script' } } },
  },
};

/**
 * What the route schemas cannot say, added to the generated document: the redirects of the sign-in routes and
 * the multipart body of an upload.
 */
export function completeDocument<T>(document: T): T {
  const paths = (document as OpenApiDocument).paths ?? {};
  const redirect = (description: string) => ({
    description,
    headers: { Location: { description: 'Where the browser goes next.', schema: { type: 'string' } } },
  });
  const html = (description: string) => ({
    description,
    content: { 'text/html': { schema: { type: 'string' } } },
  });
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: z.toJSONSchema(errorResponseSchema) } },
  });
  const login = paths['/auth/x/login']?.get;
  if (login) {
    login.responses = {
      302: redirect('To X’s consent page (PKCE S256, a fresh `state` in a sealed cookie).'),
      400: error('A malformed query (`connect` takes 1, true, 0 or false).'),
      429: error('Too many sign-in attempts from this address.'),
      500: error('Our fault (`internal_error`).'),
    };
  }
  const callback = paths['/auth/x/callback']?.get;
  if (callback) {
    callback.responses = {
      302: redirect('Signed in (the session cookie is set): to `/`.'),
      400: html(
        'A missing, wrong or replayed `state` or `code`, or the person pressed Cancel at X: nothing is stored.',
      ),
      502: html('X did not answer properly; try again.'),
      429: error('Too many sign-in attempts from this address.'),
      500: error('Our fault (`internal_error`).'),
    };
  }
  for (const [path, methods] of Object.entries(REQUEST_EXAMPLES)) {
    for (const [method, examples] of Object.entries(methods)) {
      const body = paths[path]?.[method]?.requestBody as
        | { content?: Record<string, { examples?: unknown }> }
        | undefined;
      const json = body?.content?.['application/json'];
      if (json) json.examples = examples;
    }
  }
  const metrics = paths['/metrics']?.get;
  if (metrics) {
    metrics.responses = {
      200: {
        description: 'The metrics.',
        content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
      },
    };
  }
  const upload = paths['/api/v1/media']?.post;
  if (upload) {
    upload.requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: {
                type: 'string',
                format: 'binary',
                description: 'The image, GIF or video (type decided by content).',
              },
              altText: {
                type: 'string',
                maxLength: 1000,
                description: 'Alternative text sent to X with it.',
              },
            },
          },
          encoding: {
            file: {
              contentType:
                'image/jpeg, image/png, image/webp, image/gif, video/mp4, video/quicktime, video/webm',
            },
          },
        },
      },
    };
  }
  return document;
}
