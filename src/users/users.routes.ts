import { z } from 'zod';
import { accountSchema, listAccountsOfUser, toAccountView } from '../accounts/index.ts';
import { NotFoundError, UnprocessableError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import type { RouteModule } from '../http/types.ts';
import { countApiKeys, createApiKey, listApiKeys, revokeApiKey } from './api-keys.repository.ts';

const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to tell keys apart.'),
  createdAt: z.number().describe('Epoch milliseconds.'),
  lastUsedAt: z.number().nullable().describe('Epoch milliseconds, to the minute; null if never used.'),
});

const createApiKeyBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .describe('What the key is for, e.g. "deploy script".'),
});

/** `POST /auth/logout`, `GET /api/v1/me`, and API keys: `POST|GET /api/v1/api-keys`, `DELETE /api/v1/api-keys/:id`. */
export const usersRoutes: RouteModule = (app, deps) => {
  app.post(
    '/auth/logout',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['session'],
        summary: 'Ends the browser session at once, in every process; `?all=1` ends all of your sessions.',
        description:
          'Without `all`, only this browser’s session ends (its cookie then answers 401). With `all=1` every ' +
          'browser session of the signed-in user ends — "sign out everywhere", e.g. after a lost laptop. ' +
          'API keys are not affected: revoke them with `DELETE /api/v1/api-keys/:id`.',
        querystring: z.strictObject({
          all: z
            .enum(['1', 'true', '0', 'false'])
            .optional()
            .describe('`1`: end every session of this user, not only this one.'),
        }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const all = request.query.all === '1' || request.query.all === 'true';
      if (all && request.user) await deps.sessions.endAll(request.user.id);
      await deps.sessions.end(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/me',
    {
      schema: {
        tags: ['session'],
        summary: 'The signed-in user and their X accounts.',
        response: { 200: z.object({ id: z.string(), accounts: z.array(accountSchema) }) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return { id: user.id, accounts: (await listAccountsOfUser(deps.db, user.id)).map(toAccountView) };
    },
  );

  app.post(
    '/api/v1/api-keys',
    {
      // A replayed answer holds the secret: kept sealed, never in clear, for the key's 24 hours.
      config: { idempotency: { sealAnswer: true } },
      schema: {
        tags: ['api keys'],
        summary: 'Creates an API key. The key is in this answer only; xgate keeps just its hash.',
        body: createApiKeyBody,
        response: {
          201: apiKeySchema.extend({
            key: z.string().describe('The secret: `Authorization: Bearer <key>`.'),
          }),
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const limit = deps.config.maxApiKeysPerUser;
      if ((await countApiKeys(deps.db, user.id)) >= limit) {
        throw new UnprocessableError(
          `You already have ${limit} active API keys, the most one user may have (XGATE_MAX_API_KEYS_PER_USER). Revoke keys you no longer use (DELETE /api/v1/api-keys/:id), then create this one.`,
          'api_key_limit',
          { limit },
        );
      }
      const { apiKey, key } = await createApiKey(deps.db, {
        userId: user.id,
        name: request.body.name,
        now: deps.clock.now(),
      });
      return reply.status(201).send({ ...apiKey, key });
    },
  );

  app.get(
    '/api/v1/api-keys',
    {
      schema: {
        tags: ['api keys'],
        summary: "The signed-in user's active API keys (never the secrets).",
        response: { 200: z.array(apiKeySchema) },
      },
    },
    async (request) => listApiKeys(deps.db, requireUser(request).id),
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Revokes an API key: requests with it answer 401 from now on.',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const revoked = await revokeApiKey(deps.db, {
        userId: requireUser(request).id,
        id: request.params.id,
        now: deps.clock.now(),
      });
      if (!revoked) throw new NotFoundError('API key', 'api_key_not_found');
      return reply.status(204).send(null);
    },
  );
};
