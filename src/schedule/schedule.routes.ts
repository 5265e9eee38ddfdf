import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import type { RouteModule } from '../http/types.ts';
import { postSchema, postView } from '../posts/index.ts';
import { EMPTY_SCHEDULE, findSchedule, saveSchedule } from './schedule.repository.ts';
import { type PostingSchedule, slotTimes, WEEKDAYS } from './slots.ts';
import { isTimeZone } from './zoned-time.ts';

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

const scheduleInput = z.strictObject({
  timezone: z
    .string()
    .max(64)
    .refine(isTimeZone, 'is not an IANA time zone: use a name like "Europe/Berlin" or "America/New_York"')
    .describe('IANA time zone of the slots; they keep their wall-clock time across daylight-saving changes.'),
  slots: z
    .array(
      z.strictObject({
        days: z
          .array(z.enum(WEEKDAYS))
          .min(1)
          .max(7)
          .refine((days) => new Set(days).size === days.length, 'lists a day twice')
          .describe('Weekdays: "mon" … "sun".'),
        time: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a wall-clock time "HH:MM" from 00:00 to 23:59')
          .describe('Local time, 24-hour "HH:MM".'),
      }),
    )
    .max(100)
    .describe('Recurring slots, e.g. `[{"days":["mon","tue","wed","thu","fri"],"time":"08:30"}]`.'),
  blackout: z
    .array(
      z
        .strictObject({
          from: z.string().regex(DATE, 'must be a date "YYYY-MM-DD"'),
          to: z.string().regex(DATE, 'must be a date "YYYY-MM-DD"'),
        })
        .refine((range) => range.from <= range.to, 'ends before it starts: `from` must not be after `to`'),
    )
    .max(100)
    .default([])
    .describe('Local dates (inclusive) without slots, e.g. holidays.'),
  spacingMinutes: z
    .number()
    .int()
    .min(0)
    .max(720)
    .default(EMPTY_SCHEDULE.spacingMinutes)
    .describe('A slot is taken by any post of the account within this many minutes of it (default 5).'),
  pullForward: z
    .boolean()
    .default(EMPTY_SCHEDULE.pullForward)
    .describe('When a queued post is canceled, the later queued posts move up into the freed slots.'),
});

const scheduleSchema = z.object({
  timezone: z.string(),
  slots: z.array(z.object({ days: z.array(z.enum(WEEKDAYS)), time: z.string() })),
  blackout: z.array(z.object({ from: z.string(), to: z.string() })),
  spacingMinutes: z.number(),
  pullForward: z.boolean(),
  upcoming: z
    .array(z.string())
    .describe('The next slot times (UTC, ISO 8601), whether or not a post holds them.'),
});

const accountParams = z.object({ id: z.string().min(1).max(100) });

/** The view of a schedule: itself, and its next slot times so a person can check them. */
function scheduleView(schedule: PostingSchedule, now: number): z.infer<typeof scheduleSchema> {
  const upcoming: string[] = [];
  if (schedule.slots.length > 0) {
    for (const at of slotTimes(schedule, now, now + 366 * 86_400_000)) {
      upcoming.push(new Date(at).toISOString());
      if (upcoming.length === 5) break;
    }
  }
  return { ...schedule, upcoming };
}

/**
 * Posting schedules ("add to queue"): `GET|PUT /api/v1/accounts/:id/schedule`, `GET /api/v1/accounts/:id/queue`,
 * `POST /api/v1/accounts/:id/queue/shuffle`.
 */
export const scheduleRoutes: RouteModule = (app, deps) => {
  /** The user's account, or 404 (another user's account is not found either). */
  async function ownAccount(userId: string, accountId: string) {
    const account = (await deps.accounts.listForUser(userId)).find((a) => a.id === accountId);
    if (!account) throw new NotFoundError('account', 'account_not_found');
    return account;
  }

  app.get(
    '/api/v1/accounts/:id/schedule',
    {
      schema: {
        tags: ['queue'],
        summary: 'The account’s posting slots (none until set), with its next slot times.',
        params: accountParams,
        response: { 200: scheduleSchema },
      },
    },
    async (request) => {
      const account = await ownAccount(requireUser(request).id, request.params.id);
      return scheduleView((await findSchedule(deps.db, account.id)) ?? EMPTY_SCHEDULE, deps.clock.now());
    },
  );

  app.put(
    '/api/v1/accounts/:id/schedule',
    {
      schema: {
        tags: ['queue'],
        summary:
          'Sets the account’s posting slots: "add to queue" (`"scheduledAt": "next_slot"`) takes the next free one.',
        params: accountParams,
        body: scheduleInput,
        response: { 200: scheduleSchema },
      },
    },
    async (request) => {
      const account = await ownAccount(requireUser(request).id, request.params.id);
      const now = deps.clock.now();
      await saveSchedule(deps.db, account.id, request.body, now);
      return scheduleView(request.body, now);
    },
  );

  app.get(
    '/api/v1/accounts/:id/queue',
    {
      schema: {
        tags: ['queue'],
        summary: 'The account’s queued posts (added with `next_slot`, still waiting), in slot order.',
        params: accountParams,
        response: { 200: z.object({ items: z.array(postSchema) }) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const account = await ownAccount(user.id, request.params.id);
      return { items: (await deps.posts.queue(user.id, account.id)).map(postView) };
    },
  );

  app.post(
    '/api/v1/accounts/:id/queue/shuffle',
    {
      schema: {
        tags: ['queue'],
        summary:
          'Shuffles the account’s queued posts over the same slots; answers the queue in its new order.',
        params: accountParams,
        response: { 200: z.object({ items: z.array(postSchema) }) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const account = await ownAccount(user.id, request.params.id);
      return { items: (await deps.posts.shuffleQueue(user.id, account.id)).map(postView) };
    },
  );
};
