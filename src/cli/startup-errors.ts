import type { Config } from '../config/index.ts';
import { SecretKeyMismatchError } from '../crypto/canary.ts';

type ErrnoLike = Error & { code?: string; port?: number; address?: string; errors?: unknown[] };

/** `postgres://user:secret@host:5432/db` → `host:5432/db` (never the password). */
function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:')) return `the SQLite file ${url.slice('sqlite:'.length)}`;
  try {
    const parsed = new URL(url);
    return `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the database';
  }
}

const POSTGRES_CODES: Record<string, string> = {
  '28P01': 'the password was refused',
  '28000': 'the user may not connect',
  '3D000': 'the database does not exist (create it, or fix the name in DATABASE_URL)',
  '57P03': 'the server is starting up or shutting down; try again in a moment',
};

/**
 * The one sentence to print when `serve`/`worker` cannot start, naming the variable or port and what to do;
 * null for an error that is not one of the known start-up failures (then the stack is worth seeing).
 */
export function describeStartupError(error: unknown, config: Config): string | null {
  if (error instanceof SecretKeyMismatchError) return error.message;
  if (!(error instanceof Error)) return null;
  const e = error as ErrnoLike;
  const code = e.code ?? (e.errors?.[0] as ErrnoLike | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    if (e.port === undefined && code === 'EACCES') {
      return `Permission denied: ${e.message}. Check that the data directory XGATE_DATA_DIR (${config.dataDir}) is writable.`;
    }
    const port = e.port ?? config.port;
    const which =
      config.sandbox && port === config.sandboxEmulatorPort && port !== config.port
        ? `port ${port}, which the sandbox's X emulator uses (PORT+1, or XGATE_SANDBOX_EMULATOR_PORT)`
        : `port ${port} (PORT)`;
    if (code === 'EADDRINUSE')
      return `Cannot listen on ${which}: another process already uses it. Stop that process or choose a free port.`;
    if (code === 'EACCES')
      return `Cannot listen on ${which}: permission denied (ports below 1024 need privileges). Choose a port above 1024.`;
    return `Cannot listen on ${e.address ?? config.host} (HOST): this machine has no such address. Set HOST to one of its addresses, or 0.0.0.0.`;
  }
  const database = describeDatabase(config.databaseUrl);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT') {
    const why =
      code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : code === 'ETIMEDOUT'
          ? 'it did not answer'
          : 'the host name is unknown';
    return `Cannot connect to ${database} (DATABASE_URL): ${why}. Is the server running, and is DATABASE_URL right?`;
  }
  if (code !== undefined && POSTGRES_CODES[code]) {
    return `Cannot use ${database} (DATABASE_URL): ${POSTGRES_CODES[code]}.`;
  }
  if (code?.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_READONLY') {
    return `Cannot open ${database} (DATABASE_URL / XGATE_DATA_DIR): ${e.message}. Check that the directory exists and is writable.`;
  }
  return null;
}
