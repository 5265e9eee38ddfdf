import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { findAccountOfUser, listAccountsOfUser } from '../accounts/accounts.repository.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import type { RouteModule } from '../http/types.ts';
import { toCsv } from './csv.ts';
import {
  accountDaily,
  readTotals,
  setTimelineCollection,
  snapshotsOfPost,
  timelineCollection,
  topPosts,
} from './metrics.repository.ts';
import { DAY_MS, utcDate, utcDay } from './schedule.ts';

const countsSchema = {
  impressions: z.number(),
  likes: z.number(),
  replies: z.number(),
  reposts: z.number().describe('X’s retweet_count.'),
  quotes: z.number(),
  bookmarks: z.number(),
};

const snapshotSchema = z.object({
  at: z.number().describe('When it was read (epoch ms).'),
  ...countsSchema,
  urlClicks: z.number().optional().describe('Private (the author’s, under 30 days): link clicks.'),
  profileClicks: z.number().optional().describe('Private: profile clicks.'),
  engagements: z.number().optional().describe('Private: X’s engagements count.'),
});

const postMetricsSchema = z.object({
  postId: z.string(),
  items: z.array(z.object({ position: z.number(), tweetId: z.string(), series: z.array(snapshotSchema) })),
});

const daySchema = z.object({
  day: z.string().describe('UTC day, YYYY-MM-DD.'),
  ...countsSchema,
  engagements: z.number().describe('Likes + replies + reposts + quotes + bookmarks gained that day.'),
  engagementRate: z.number().describe('engagements / impressions of the day (0 without impressions).'),
});

const accountMetricsSchema = z.object({
  accountId: z.string(),
  granularity: z.literal('day'),
  from: z.string(),
  to: z.string(),
  series: z.array(daySchema).describe('Every day of the period: what the account’s tweets gained that day.'),
  top: z.array(
    z.object({
      postId: z
        .string()
        .nullable()
        .describe('Null for a tweet of the account’s timeline not posted through xgate.'),
      tweetId: z.string().describe('The post’s first tweet.'),
      impressions: z.number(),
      engagements: z.number(),
    }),
  ),
});

const readPeriodSchema = z.object({
  requests: z.number().describe('Calls to X’s GET /2/tweets.'),
  reads: z.number().describe('Tweets read.'),
  billedReads: z.number().describe('Reads X bills: the first read of a tweet in a UTC day.'),
  estimatedUsd: z.number(),
});

const formatQuery = z.enum(['json', 'csv']).default('json').describe('`csv`: one row per snapshot (or day).');
const dayInput = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day as YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'must be a real day')
  .transform((value) => utcDay(Date.parse(`${value}T00:00:00Z`)));

/** The longest period one account request may cover, in days. */
const MAX_PERIOD_DAYS = 366;

function sendCsv(reply: FastifyReply, name: string, csv: string) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .serializer((payload: unknown) => payload as string)
    .send(csv);
}

const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;

/**
 * `GET /api/v1/posts/:id/metrics`, `GET /api/v1/accounts/:id/metrics` and `GET /api/v1/metrics/reads`: what
 * the collector read (src/metrics/collector.ts), as JSON or CSV. Another user's post or account is a 404.
 */
export const metricsRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/posts/:id/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'The metrics of each tweet of a post over time (a snapshot per read).',
        params: z.object({ id: z.string().min(1).max(100) }),
        querystring: z.strictObject({ format: formatQuery }),
        response: { 200: postMetricsSchema.describe('JSON; with `format=csv` a CSV file instead.') },
      },
    },
    async (request, reply) => {
      const post = await deps.posts.get(requireUser(request).id, request.params.id);
      const snapshots = await snapshotsOfPost(deps.db, post.id);
      const items = post.items
        .filter((item) => item.tweetId !== null)
        .map((item) => ({
          position: item.position,
          tweetId: item.tweetId!,
          series: snapshots.get(item.tweetId!) ?? [],
        }));
      if (request.query.format === 'csv') {
        const rows = items.flatMap((item) =>
          item.series.map((snapshot) => ({
            postId: post.id,
            position: item.position,
            tweetId: item.tweetId,
            ...snapshot,
            at: new Date(snapshot.at).toISOString(),
          })),
        );
        const columns = [
          'postId',
          'position',
          'tweetId',
          'at',
          'impressions',
          'likes',
          'replies',
          'reposts',
        ] as const;
        return sendCsv(
          reply,
          `post-${post.id}-metrics`,
          toCsv([...columns, 'quotes', 'bookmarks', 'urlClicks', 'profileClicks', 'engagements'], rows),
        );
      }
      return { postId: post.id, items };
    },
  );

  app.get(
    '/api/v1/accounts/:id/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'What an account’s tweets gained per UTC day, and its top posts of the period.',
        description:
          'Each day holds the growth of the account’s collected tweets that day (between successive reads). ' +
          '`from` and `to` are UTC days (YYYY-MM-DD, inclusive); without `from`, the `days` (default 30) ending on ' +
          '`to` (default today); at most 366 days.',
        params: z.object({ id: z.string().min(1).max(100) }),
        querystring: z.strictObject({
          from: dayInput.optional(),
          to: dayInput.optional(),
          days: z.coerce
            .number()
            .int()
            .min(1)
            .max(MAX_PERIOD_DAYS)
            .default(30)
            .describe('Without `from`: how many days the period has.'),
          granularity: z.literal('day').default('day'),
          format: formatQuery,
        }),
        response: { 200: accountMetricsSchema.describe('JSON; with `format=csv` one row per day instead.') },
      },
    },
    async (request, reply) => {
      const account = await accountOf(requireUser(request).id, request.params.id);
      const toDay = request.query.to ?? utcDay(deps.clock.now());
      const fromDay = request.query.from ?? toDay - request.query.days + 1;
      if (fromDay > toDay || toDay - fromDay >= MAX_PERIOD_DAYS) {
        throw new ValidationError(
          `The period must run forward and cover at most ${MAX_PERIOD_DAYS} days: give \`from\` on or before \`to\` (YYYY-MM-DD).`,
          [
            {
              in: 'querystring',
              field: 'from',
              message: `from must be on or before to, at most ${MAX_PERIOD_DAYS} days apart`,
            },
          ],
        );
      }
      const daily = new Map(
        (await accountDaily(deps.db, account.id, fromDay, toDay)).map((row) => [row.day, row]),
      );
      const series = [];
      for (let day = fromDay; day <= toDay; day++) {
        const row = daily.get(day);
        const totals = {
          impressions: row?.impressions ?? 0,
          likes: row?.likes ?? 0,
          replies: row?.replies ?? 0,
          reposts: row?.reposts ?? 0,
          quotes: row?.quotes ?? 0,
          bookmarks: row?.bookmarks ?? 0,
          engagements: row?.engagements ?? 0,
        };
        series.push({
          day: utcDate(day * DAY_MS),
          ...totals,
          engagementRate: totals.impressions > 0 ? round(totals.engagements / totals.impressions, 4) : 0,
        });
      }
      if (request.query.format === 'csv') {
        return sendCsv(
          reply,
          `account-${account.username}-metrics`,
          toCsv(
            [
              'day',
              'impressions',
              'engagements',
              'likes',
              'replies',
              'reposts',
              'quotes',
              'bookmarks',
              'engagementRate',
            ],
            series,
          ),
        );
      }
      const top = await topPosts(deps.db, {
        accountId: account.id,
        from: fromDay * DAY_MS,
        to: (toDay + 1) * DAY_MS - 1,
        limit: 5,
      });
      return {
        accountId: account.id,
        granularity: 'day' as const,
        from: utcDate(fromDay * DAY_MS),
        to: utcDate(toDay * DAY_MS),
        series,
        top,
      };
    },
  );

  const settingsSchema = z.object({
    accountId: z.string(),
    timeline: z
      .boolean()
      .describe(
        'Also collect the metrics of the account’s own tweets not posted through xgate (read from its timeline ' +
          'hourly, from when this was turned on); off by default: each read is billed by X.',
      ),
    timelineSince: z.number().nullable().describe('Since when (epoch ms), or null when off.'),
  });
  const accountOf = async (userId: string, accountId: string) => {
    const account = await findAccountOfUser(deps.db, userId, accountId);
    if (!account) throw new NotFoundError('account', 'account_not_found');
    return account;
  };
  const settingsView = async (accountId: string) => {
    const timeline = await timelineCollection(deps.db, accountId);
    return { accountId, timeline: timeline !== null, timelineSince: timeline?.enabledAt ?? null };
  };

  app.get(
    '/api/v1/accounts/:id/metrics/settings',
    {
      schema: {
        tags: ['metrics'],
        summary: 'What is collected for the account beyond the posts xgate published.',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: settingsSchema },
      },
    },
    async (request) => settingsView((await accountOf(requireUser(request).id, request.params.id)).id),
  );

  app.put(
    '/api/v1/accounts/:id/metrics/settings',
    {
      schema: {
        tags: ['metrics'],
        summary:
          'Turns the collection of the account’s own timeline (tweets not posted through xgate) on or off.',
        params: z.object({ id: z.string().min(1).max(100) }),
        body: z.strictObject({ timeline: settingsSchema.shape.timeline }),
        response: { 200: settingsSchema },
      },
    },
    async (request) => {
      const account = await accountOf(requireUser(request).id, request.params.id);
      await setTimelineCollection(deps.db, account.id, request.body.timeline, deps.clock.now());
      return settingsView(account.id);
    },
  );

  app.get(
    '/api/v1/metrics/reads',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Metric reads made for your accounts today and this month (UTC), and what X bills for them.',
        response: {
          200: z.object({
            pricePerReadUsd: z.number().describe('XGATE_METRICS_PRICE_PER_READ_USD.'),
            today: readPeriodSchema.extend({ day: z.string() }),
            month: readPeriodSchema.extend({ month: z.string().describe('YYYY-MM') }),
            caps: z.object({
              readsPerAccountPerDay: z.number(),
              readsPerDay: z.number().describe('For the whole app (every user).'),
            }),
          }),
        },
      },
    },
    async (request) => {
      const accounts = await listAccountsOfUser(deps.db, requireUser(request).id);
      const ids = accounts.map((account) => account.id);
      const now = deps.clock.now();
      const today = utcDay(now);
      const monthStart = new Date(now);
      const firstDay = utcDay(Date.UTC(monthStart.getUTCFullYear(), monthStart.getUTCMonth(), 1));
      const price = deps.config.metricsPricePerReadUsd;
      const period = async (from: number) => {
        const totals = await readTotals(deps.db, ids, from, today);
        return {
          requests: totals.requests,
          reads: totals.reads,
          billedReads: totals.billed,
          estimatedUsd: round(totals.billed * price, 6),
        };
      };
      return {
        pricePerReadUsd: price,
        today: { day: utcDate(now), ...(await period(today)) },
        month: { month: utcDate(now).slice(0, 7), ...(await period(firstDay)) },
        caps: {
          readsPerAccountPerDay: deps.config.metricsReadsPerAccountPerDay,
          readsPerDay: deps.config.metricsReadsPerDay,
        },
      };
    },
  );
};
