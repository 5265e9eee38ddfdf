import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { ApiClient } from './api.ts';
import { CliError, EXIT, usageError } from './errors.ts';

/** The API's account and post, as the client reads them. */
export interface Account {
  id: string;
  username: string;
  name: string;
  status: 'active' | 'needs_reconnect' | 'disconnected';
  statusReason: string | null;
}

export interface Post {
  id: string;
  accountId: string;
  status: 'scheduled' | 'publishing' | 'published' | 'failed' | 'needs_review' | 'canceled';
  scheduledAt: number;
  publishedAt: number | null;
  error?: { code: string; message: string };
  items: Array<{
    position: number;
    text: string;
    mediaIds: string[];
    tweetId?: string;
    url?: string;
    status: string;
  }>;
}

export const FINAL_STATUSES = new Set(['published', 'failed', 'needs_review', 'canceled']);

/** An item to post: its text and the local files to attach (with their alt text). */
export interface DraftItem {
  text: string;
  media: Array<{ path: string; alt?: string }>;
}

/** The account `wanted` names: its id, or its @username (any case, with or without the @). */
export function findAccount(accounts: readonly Account[], wanted: string): Account | undefined {
  const name = wanted.replace(/^@/, '').toLowerCase();
  return accounts.find((a) => a.id === wanted || a.username.toLowerCase() === name);
}

/**
 * The account a command means: `--account @name` or an id; without it, the only active account (a usage error
 * listing them when there are several).
 */
export async function resolveAccount(api: ApiClient, wanted: string | undefined): Promise<Account> {
  const accounts = await api.request<Account[]>('GET', '/api/v1/accounts');
  if (wanted !== undefined) {
    const found = findAccount(accounts, wanted);
    if (!found) {
      throw usageError(
        `no account ${wanted} here; yours: ${accounts.map((a) => `@${a.username}`).join(', ') || 'none (run `xgate connect`)'}`,
      );
    }
    return found;
  }
  const active = accounts.filter((a) => a.status === 'active');
  if (active.length === 1) return active[0] as Account;
  if (active.length === 0) {
    throw new CliError(
      'no active X account: run `xgate connect` to connect one',
      EXIT.auth,
      'account_needs_reconnect',
    );
  }
  throw usageError(
    `several accounts: choose one with --account (${active.map((a) => `@${a.username}`).join(', ')})`,
  );
}

/** Refuses an account that cannot post, with the command that fixes it. */
export function requireActive(account: Account): void {
  if (account.status === 'active') return;
  throw new CliError(
    `account @${account.username} ${account.status === 'needs_reconnect' ? 'needs reconnect' : 'is disconnected'}${account.statusReason ? ` (${account.statusReason})` : ''}: run \`xgate connect\` and sign in at X as @${account.username}`,
    EXIT.auth,
    `account_${account.status}`,
  );
}

/** Uploads a local file; the key makes a retried upload (or a re-run import) reuse the first one. */
export async function uploadMedia(
  api: ApiClient,
  file: { path: string; alt?: string },
  idempotencyKey: string,
): Promise<string> {
  if (!existsSync(file.path)) throw usageError(`no such file: ${file.path}`);
  const form = new FormData();
  if (file.alt) form.append('altText', file.alt);
  form.append('file', new Blob([readFileSync(file.path)]), basename(file.path));
  const media = await api.request<{ id: string }>('POST', '/api/v1/media', {
    form,
    idempotencyKey,
    timeoutMs: 600_000,
  });
  return media.id;
}

/**
 * A thread file: items separated by a line `---`; `![alt](path)` in an item attaches that file (relative to the
 * thread file) and is removed from the text.
 */
export function parseThread(source: string, baseDir: string): DraftItem[] {
  return source
    .split(/^---\s*$/m)
    .map((chunk) => {
      const media: DraftItem['media'] = [];
      const text = chunk
        .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt: string, path: string) => {
          media.push({ path: isAbsolute(path) ? path : resolve(baseDir, path), ...(alt && { alt }) });
          return '';
        })
        .trim();
      return { text, media };
    })
    .filter((item) => item.text !== '' || item.media.length > 0);
}

export const threadBaseDir = (file: string) => (file === '-' ? process.cwd() : dirname(resolve(file)));

/** A fresh key for one command: every retry of its requests reuses it. */
export const newIdempotencyKey = () => `cli-${randomUUID()}`;

/** A key made from content: the same file (and the same files it attaches) → the same key, so nothing twice. */
export function contentKey(prefix: string, ...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return `${prefix}-${hash.digest('hex').slice(0, 48)}`;
}
