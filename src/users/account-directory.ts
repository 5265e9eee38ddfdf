import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { AccountsTable, Database } from '../db/schema.ts';

/** An X account as the signed-in user sees it in `GET /api/v1/me` — the same fields as `GET /api/v1/accounts`, never tokens. */
export const accountSummarySchema = z.object({
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
  subscriptionType: z.string().nullable(),
  createdAt: z.number(),
});
export type AccountSummary = z.infer<typeof accountSummarySchema>;

/**
 * Where `/api/v1/me` gets the user's accounts (`deps.accounts`). The accounts module may supply its own
 * implementation; {@link tableAccountDirectory} reads the `accounts` table directly.
 */
export interface AccountDirectory {
  listForUser(userId: string): Promise<AccountSummary[]>;
}

function toAccountSummary(row: Selectable<AccountsTable>): AccountSummary {
  return {
    id: row.id,
    xUserId: row.x_user_id,
    username: row.username,
    name: row.name,
    profileImageUrl: row.profile_image_url,
    status: row.status,
    statusReason: row.status_reason,
    scopes: row.scopes.split(' ').filter((s) => s !== ''),
    tokenExpiresAt: row.token_expires_at,
    lastRefreshedAt: row.last_refreshed_at,
    subscriptionType: row.subscription_type,
    createdAt: row.created_at,
  };
}

/** The default {@link AccountDirectory}: the user's rows of `accounts`, oldest first. */
export function tableAccountDirectory(db: Kysely<Database>): AccountDirectory {
  return {
    async listForUser(userId) {
      const rows = await db
        .selectFrom('accounts')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toAccountSummary);
    },
  };
}
