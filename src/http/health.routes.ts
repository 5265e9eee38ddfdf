import { sql } from 'kysely';
import { z } from 'zod';
import { pendingMigrations } from '../db/index.ts';
import type { RouteModule } from './types.ts';

/** `/healthz` (the process answers), `/readyz` (database reachable and migrated), `/metrics`. */
export const healthRoutes: RouteModule = (app, deps) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up.',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database is reachable and every migration is applied (else 503).',
        description:
          'Ready also while X refuses the app (credits depleted, not enrolled): the service itself works, and ' +
          '`xPaused` says why publishing waits.',
        response: {
          200: z.object({
            status: z.literal('ready'),
            xPaused: z
              .object({ code: z.string(), reason: z.string(), since: z.number(), nextProbeAt: z.number() })
              .optional()
              .describe('Present while X refuses the app: publishing and metrics collection are paused.'),
          }),
          503: z.object({
            status: z.literal('not_ready'),
            reason: z.string(),
            pendingMigrations: z.array(z.string()).optional(),
          }),
        },
      },
    },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(deps.db);
        const pending = await pendingMigrations(deps.db);
        if (pending.length > 0) {
          return reply
            .status(503)
            .send({ status: 'not_ready' as const, reason: 'migrations_pending', pendingMigrations: pending });
        }
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return reply.status(503).send({ status: 'not_ready' as const, reason: 'database_unreachable' });
      }
      const pause = await deps.pauses.current();
      return {
        status: 'ready' as const,
        ...(pause && {
          xPaused: {
            code: pause.code,
            reason: pause.detail,
            since: pause.since,
            nextProbeAt: pause.nextProbeAt,
          },
        }),
      };
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format).' } },
    async (_request, reply) => {
      reply.type(deps.metrics.contentType);
      return deps.metrics.metrics();
    },
  );
};
