import { z } from 'zod';
import { findAccountOfUser, listAccountsOfUser } from '../accounts/accounts.repository.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { requireUser } from '../http/auth.ts';
import type { RouteModule } from '../http/types.ts';
import { utcMonth } from './caps.ts';
import { PRICES_AS_OF } from './prices.ts';
import { probeX } from './probe.ts';
import { findSpendSettings, saveSpendSettings, spendByDay } from './spend.repository.ts';

const DAY_MS = 86_400_000;
const dayInput = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day as YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'must be a real day')
  .transform((value) => Math.floor(Date.parse(`${value}T00:00:00Z`) / DAY_MS));
const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
const capInput = z
  .number('must be an amount in USD or null')
  .min(0, 'must not be negative')
  .max(10_000_000, 'must be at most 10,000,000')
  .nullable();

const settingsSchema = z.object({
  accountId: z.string(),
  monthlyCapUsd: z.number().nullable().describe('Estimated X charges allowed per UTC month; null: no cap.'),
  dailyCapUsd: z.number().nullable().describe('Per UTC day; null: no cap.'),
  linkInReply: z
    .boolean()
    .describe('Posts of this account move their first item’s URLs into a reply by default.'),
  monthSpentUsd: z.number().describe('Recorded this UTC month.'),
});

/**
 * What X will charge: `GET /api/v1/spend` (the ledger of the user's accounts), per-account settings
 * (`GET|PUT /api/v1/accounts/:id/spend-settings`: caps and the link-in-reply default), and the app-wide pause
 * (`GET /api/v1/app/status`, `POST /api/v1/admin/resume`).
 */
export const spendRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/spend',
    {
      schema: {
        tags: ['spend'],
        summary: 'Estimated X charges of your accounts, per day or month (UTC).',
        description:
          `Every call xgate made to X, priced by the price table (X's pay-per-use prices as of ${PRICES_AS_OF}, ` +
          'or XGATE_PRICES_FILE; reads billed once per tweet and UTC day). By default this UTC month so far.',
        querystring: z.strictObject({
          from: dayInput.optional(),
          to: dayInput.optional(),
          granularity: z.enum(['day', 'month']).default('day'),
        }),
        response: {
          200: z.object({
            currency: z.literal('USD'),
            from: z.string(),
            to: z.string(),
            total: z.number(),
            accounts: z.array(
              z.object({
                accountId: z.string(),
                total: z.number(),
                series: z.array(
                  z.object({
                    period: z.string().describe('YYYY-MM-DD or YYYY-MM.'),
                    usd: z.number(),
                    calls: z.number(),
                  }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const accounts = await listAccountsOfUser(deps.db, requireUser(request).id);
      const now = deps.clock.now();
      const toDay = request.query.to ?? Math.floor(now / DAY_MS);
      const fromDay = request.query.from ?? Math.floor(utcMonth(now).start / DAY_MS);
      if (fromDay > toDay || toDay - fromDay > 731) {
        throw new ValidationError(
          'The period must run forward and cover at most two years: give `from` on or before `to`.',
          [
            {
              in: 'querystring',
              field: 'from',
              message: 'from must be on or before to, at most 731 days apart',
            },
          ],
        );
      }
      const rows = await spendByDay(
        deps.db,
        accounts.map((account) => account.xUserId),
        fromDay,
        toDay,
      );
      const periodOf = (day: number) => {
        const date = new Date(day * DAY_MS).toISOString();
        return request.query.granularity === 'month' ? date.slice(0, 7) : date.slice(0, 10);
      };
      const series = accounts.map((account) => {
        const periods = new Map<string, { usd: number; calls: number }>();
        for (const row of rows.filter((candidate) => candidate.xUserId === account.xUserId)) {
          const entry = periods.get(periodOf(row.day)) ?? { usd: 0, calls: 0 };
          entry.usd += row.usd;
          entry.calls += row.calls;
          periods.set(periodOf(row.day), entry);
        }
        const points = [...periods].map(([period, entry]) => ({
          period,
          usd: round(entry.usd),
          calls: entry.calls,
        }));
        return {
          accountId: account.id,
          total: round(points.reduce((sum, point) => sum + point.usd, 0)),
          series: points,
        };
      });
      return {
        currency: 'USD' as const,
        from: new Date(fromDay * DAY_MS).toISOString().slice(0, 10),
        to: new Date(toDay * DAY_MS).toISOString().slice(0, 10),
        total: round(series.reduce((sum, account) => sum + account.total, 0)),
        accounts: series,
      };
    },
  );

  const settingsView = async (account: { id: string; xUserId: string }) => {
    const settings = await findSpendSettings(deps.db, account.id);
    const month = utcMonth(deps.clock.now());
    const spent = await spendByDay(
      deps.db,
      [account.xUserId],
      Math.floor(month.start / DAY_MS),
      Math.floor((month.end - 1) / DAY_MS),
    );
    return {
      accountId: account.id,
      ...settings,
      monthSpentUsd: round(spent.reduce((sum, row) => sum + row.usd, 0)),
    };
  };
  const ownAccount = async (userId: string, accountId: string) => {
    const account = await findAccountOfUser(deps.db, userId, accountId);
    if (!account) throw new NotFoundError('account', 'account_not_found');
    return account;
  };

  app.get(
    '/api/v1/accounts/:id/spend-settings',
    {
      schema: {
        tags: ['spend'],
        summary: 'The account’s spending caps, its link-in-reply default, and what it spent this month.',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: settingsSchema },
      },
    },
    async (request) => settingsView(await ownAccount(requireUser(request).id, request.params.id)),
  );

  app.put(
    '/api/v1/accounts/:id/spend-settings',
    {
      schema: {
        tags: ['spend'],
        summary:
          'Sets the account’s caps (null: none) and whether its posts move links into a reply by default.',
        description:
          'A post that would pass a cap in its month (or day), counting what was spent and what is scheduled ' +
          'then, is refused with 422 `spend_cap_exceeded`. Fields left out keep their value.',
        params: z.object({ id: z.string().min(1).max(100) }),
        body: z.strictObject({
          monthlyCapUsd: capInput.optional(),
          dailyCapUsd: capInput.optional(),
          linkInReply: z.boolean('must be true or false').optional(),
        }),
        response: { 200: settingsSchema },
      },
    },
    async (request) => {
      const account = await ownAccount(requireUser(request).id, request.params.id);
      const current = await findSpendSettings(deps.db, account.id);
      await saveSpendSettings(deps.db, account.id, {
        monthlyCapUsd:
          request.body.monthlyCapUsd === undefined ? current.monthlyCapUsd : request.body.monthlyCapUsd,
        dailyCapUsd: request.body.dailyCapUsd === undefined ? current.dailyCapUsd : request.body.dailyCapUsd,
        linkInReply: request.body.linkInReply ?? current.linkInReply,
      });
      return settingsView(account);
    },
  );

  const statusSchema = z.object({
    paused: z
      .boolean()
      .describe('X refuses the app: publishing and metrics collection wait (nothing is lost).'),
    code: z.string().nullable().describe('`x_credits_depleted` or `x_client_not_enrolled`.'),
    reason: z.string().nullable().describe('What X said, and what to do.'),
    since: z.number().nullable(),
    nextProbeAt: z.number().nullable().describe('When xgate asks X again (epoch ms).'),
  });
  const statusView = async () => {
    const pause = await deps.pauses.current();
    return {
      paused: pause !== null,
      code: pause?.code ?? null,
      reason: pause?.detail ?? null,
      since: pause?.since ?? null,
      nextProbeAt: pause?.nextProbeAt ?? null,
    };
  };

  app.get(
    '/api/v1/app/status',
    {
      schema: {
        tags: ['spend'],
        summary: 'Whether X refuses the app right now (credits depleted, not enrolled), and why.',
        response: { 200: statusSchema },
      },
    },
    async () => statusView(),
  );

  app.post(
    '/api/v1/admin/resume',
    {
      schema: {
        tags: ['spend'],
        summary: 'After topping up credits (or enrolling the app): ask X now instead of at the next probe.',
        description:
          'Harmless for any signed-in user: it asks X once (`GET /2/users/me`, a $0.01 user read) and the app ' +
          'resumes if X accepts it; otherwise it stays paused and the answer says why.',
        response: { 200: statusSchema },
      },
    },
    async () => {
      await probeX(deps);
      return statusView();
    },
  );
};
