import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What `xgate login` keeps: the server and the API key made for this machine. */
export interface StoredLogin {
  url: string;
  apiKey: string;
  /** The key's id, so `xgate logout` can revoke it. */
  apiKeyId?: string;
}

/** Where the client finds its server and key, and where they came from. */
export interface Credentials {
  url: string;
  apiKey: string | null;
  apiKeyId: string | null;
  /** `env` when XGATE_URL and XGATE_API_KEY are both set: then nothing is ever interactive. */
  source: 'env' | 'file' | 'none';
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `$XDG_CONFIG_HOME/xgate` (default `~/.config/xgate`). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'xgate');
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.json');
}

function readStored(env: NodeJS.ProcessEnv): Partial<StoredLogin> {
  const file = configFile(env);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredLogin>;
  } catch {
    return {};
  }
}

/** XGATE_URL and XGATE_API_KEY override the file, each on its own. */
export function loadCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  const stored = readStored(env);
  // An empty variable counts as unset.
  const envUrl = env.XGATE_URL || undefined;
  const envKey = env.XGATE_API_KEY || undefined;
  const url = (envUrl ?? stored.url ?? DEFAULT_URL).replace(/\/+$/, '');
  const apiKey = envKey ?? stored.apiKey ?? null;
  const fromEnv = envUrl !== undefined && envKey !== undefined;
  return {
    url,
    apiKey,
    apiKeyId: envKey === undefined ? (stored.apiKeyId ?? null) : null,
    source: fromEnv ? 'env' : stored.apiKey ? 'file' : 'none',
  };
}

/** Saves the login readable only by this user (directory 0700, file 0600). */
export function saveLogin(login: StoredLogin, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  writeFileSync(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export function forgetLogin(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(configFile(env), { force: true });
}
