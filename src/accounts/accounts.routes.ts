import { z } from 'zod';
import { requireUser } from '../http/auth.ts';
import type { ZodFastify } from '../http/types.ts';
import type { Account } from './accounts.repository.ts';
import type { AccountsService } from './accounts.service.ts';

/** An X account in API answers (CONTRACT §3): never tokens. Times are epoch milliseconds. */
export const accountSchema = z.object({
  id: z.string(),
  xUserId: z.string(),
  username: z.string(),
  name: z.string(),
  profileImageUrl: z.string().nullable(),
  status: z.enum(['active', 'needs_reconnect', 'disconnected']),
  statusReason: z.string().nullable(),
  scopes: z.array(z.string()),
  tokenExpiresAt: z.number().nullable(),
  lastRefreshedAt: z.number().nullable(),
  subscriptionType: z
    .string()
    .nullable()
    .describe('`None`, `Basic`, `Premium` or `PremiumPlus` when X says.'),
  createdAt: z.number().describe('Epoch milliseconds.'),
});
export type AccountView = z.infer<typeof accountSchema>;

/** The one domain → API conversion. */
export function toAccountView(account: Account): AccountView {
  return {
    id: account.id,
    xUserId: account.xUserId,
    username: account.username,
    name: account.name,
    profileImageUrl: account.profileImageUrl,
    status: account.status,
    statusReason: account.statusReason,
    scopes: account.scopes,
    tokenExpiresAt: account.tokenExpiresAt,
    lastRefreshedAt: account.lastRefreshedAt,
    subscriptionType: account.subscriptionType,
    createdAt: account.createdAt,
  };
}

const accountParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9-]+$/, 'must be an account id'),
});

/** `GET /api/v1/accounts`, `DELETE /api/v1/accounts/:id`, `POST /api/v1/accounts/:id/verify`. */
export function accountRoutes(app: ZodFastify, accounts: AccountsService): void {
  app.get(
    '/api/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: "The signed-in user's X accounts, oldest first.",
        response: { 200: z.array(accountSchema) },
      },
    },
    async (request) => (await accounts.listForUser(requireUser(request).id)).map(toAccountView),
  );

  app.delete(
    '/api/v1/accounts/:id',
    {
      schema: {
        tags: ['accounts'],
        summary:
          'Disconnects an X account: revokes its tokens at X, erases them, cancels its scheduled posts. 503 `x_unavailable` (nothing changed) when X cannot be reached.',
        params: accountParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await accounts.disconnect(requireUser(request).id, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/accounts/:id/verify',
    {
      schema: {
        tags: ['accounts'],
        summary:
          'Tests the connection: refreshes the token if due, asks X who the account is, stores the profile. If X refuses the token or the refresh, the account answers `needs_reconnect` with `statusReason` saying why.',
        params: accountParams,
        response: { 200: accountSchema },
      },
    },
    async (request) => toAccountView(await accounts.verify(requireUser(request).id, request.params.id)),
  );
}
