import { z } from 'zod';
import { pause } from '../clock.ts';
import { ValidationError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import { whileConnected } from '../http/client-gone.ts';
import type { RouteModule } from '../http/types.ts';
import { decodeCursor, type LogPosition, listEvents } from './events.repository.ts';
import { EVENT_TYPES, type EventType } from './events.types.ts';

/** How often a held `?wait` request looks for new events. */
const WAIT_POLL_MS = 250;

const eventSchema = z.object({
  id: z.string().describe('Stable id of the event (the same however often it is read).'),
  type: z.enum(EVENT_TYPES),
  at: z.number().describe('When the change happened, epoch milliseconds.'),
  data: z
    .record(z.string(), z.unknown())
    .describe(
      'Post events: `{postId, accountId, status, items?:[{position, tweetId, url}], error?:{code, message}, scheduledAt?}`; account events: `{accountId, username, reason?}`; `webhook.disabled`: `{webhookId, url, reason}`.',
    ),
});

const typesInput = z
  .string()
  .max(1000)
  .transform((value, ctx) => {
    const types = value
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `lists ${unknown.map((t) => `"${t}"`).join(', ')}, which ${unknown.length === 1 ? 'is not an event type' : 'are not event types'}; the types are ${EVENT_TYPES.join(', ')}`,
      });
      return z.NEVER;
    }
    return types as EventType[];
  })
  .describe(`Comma-separated event types to keep (default all): ${EVENT_TYPES.join(', ')}.`);

/** `GET /api/v1/events`: the user's event log, in order, with a cursor and an optional long poll. */
export const eventsRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'Your events in the order they happened: posts scheduled, published, failed…; accounts needing reconnect.',
        description:
          'Each event is written in the same transaction as the change it records, so none is lost and none is ' +
          'invented. Read from the start, then pass `nextCursor` as `after` to get only newer events. With ' +
          '`wait=SECONDS` (≤ 60) an empty answer is held until an event arrives or the time is up (long poll). ' +
          'Events are kept `XGATE_EVENTS_RETENTION_DAYS` (30).',
        querystring: z.strictObject({
          after: z.string().max(100).optional().describe('`nextCursor` of a previous answer.'),
          types: typesInput.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          wait: z.coerce.number().int().min(0).max(60).optional().describe('Seconds to wait for an event.'),
        }),
        response: {
          200: z.object({
            items: z.array(eventSchema),
            nextCursor: z
              .string()
              .nullable()
              .describe(
                'Where this answer ends; null when it is empty and nothing was read before (`after` absent).',
              ),
          }),
        },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const { after, types, limit, wait } = request.query;
      let position: LogPosition | null = null;
      if (after !== undefined) {
        position = decodeCursor(after);
        if (position === null) {
          throw new ValidationError(
            'The cursor `after` is not one this API gave out: pass the `nextCursor` of a previous answer, or leave it out to read from the start.',
            [{ in: 'querystring', field: 'after', message: 'is not a cursor this API gave out' }],
            'invalid_cursor',
          );
        }
      }
      const read = () => listEvents(deps.db, user.id, { after: position, ...(types && { types }), limit });
      let events = await read();
      if (events.length === 0 && wait) {
        const deadline = Date.now() + wait * 1000;
        events = await whileConnected(request, async (signal) => {
          let found = events;
          while (found.length === 0 && Date.now() < deadline && !signal.aborted) {
            await pause(Math.min(WAIT_POLL_MS, deadline - Date.now()), signal);
            found = await read();
          }
          return found;
        });
      }
      const last = events.at(-1);
      return {
        items: events.map(({ id, type, at, data }) => ({
          id,
          type,
          at,
          data: { ...data },
        })),
        nextCursor: last ? last.cursor : (after ?? null),
      };
    },
  );
};
