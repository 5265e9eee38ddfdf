import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const KEY = randomBytes(32).toString('base64');

describe('loadConfig', () => {
  it('has the documented defaults and is frozen', () => {
    const dir = tempDir();
    const config = loadConfig({ XGATE_DATA_DIR: dir, XGATE_SECRET_KEY: KEY });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      databaseUrl: `sqlite:${join(dir, 'xgate.db')}`,
      dataDir: dir,
      sandbox: true,
      xClientId: null,
      xClientSecret: null,
      xApiUrl: 'https://api.x.com',
      xAuthorizeUrl: 'https://x.com/i/oauth2/authorize',
      xTier: 'ppu',
      sandboxEmulatorPort: 8081,
      maxThreadItems: 25,
      scheduleHorizonDays: 365,
      idempotencyTtlHours: 24,
      dbPoolSize: 20,
      warnings: [],
    });
    expect(config.secretKey.equals(Buffer.from(KEY, 'base64'))).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('logs JSON unless stdout is a terminal, and LOG_FORMAT decides when set', () => {
    const dir = tempDir();
    const env = { XGATE_DATA_DIR: dir, XGATE_SECRET_KEY: KEY };
    expect(loadConfig(env, { stdoutIsTTY: false }).logFormat).toBe('json');
    expect(loadConfig(env, { stdoutIsTTY: true }).logFormat).toBe('pretty');
    expect(loadConfig({ ...env, LOG_FORMAT: 'json' }, { stdoutIsTTY: true }).logFormat).toBe('json');
    expect(loadConfig({ ...env, LOG_FORMAT: 'pretty' }, { stdoutIsTTY: false }).logFormat).toBe('pretty');
    expect(() => loadConfig({ ...env, LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT: must be json or pretty/);
  });

  it('has the hardening defaults: 7-day sliding sessions, text, request, key and media limits', () => {
    const config = loadConfig({ XGATE_DATA_DIR: tempDir(), XGATE_SECRET_KEY: KEY });
    expect(config).toMatchObject({
      sessionTtlHours: 168,
      sessionMaxDays: 30,
      textWorkers: 2,
      textTimeoutMs: 2000,
      rateLimitApiPerMinute: 3000,
      rateLimitSignInPerMinute: 30,
      rateLimitAuthFailuresPerMinute: 20,
      maxApiKeysPerUser: 100,
      mediaQuotaBytes: 2 * 1024 ** 3,
      mediaUnusedTtlHours: 24,
      mediaRetentionDays: 30,
      secretKeySource: 'XGATE_SECRET_KEY',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      PUBLIC_URL: 'https://xgate.example.com/',
      DATABASE_URL: 'postgres://u@db/xgate',
      XGATE_DATA_DIR: tempDir(),
      XGATE_SECRET_KEY: KEY,
      X_CLIENT_ID: 'client',
      X_CLIENT_SECRET: 'secret',
      X_API_URL: 'http://127.0.0.1:4010/',
      X_AUTHORIZE_URL: 'http://127.0.0.1:4010/i/oauth2/authorize',
      X_TIER: 'unlimited',
      XGATE_MAX_THREAD_ITEMS: '10',
      XGATE_DB_POOL_SIZE: '40',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      publicUrl: 'https://xgate.example.com',
      databaseUrl: 'postgres://u@db/xgate',
      sandbox: false,
      xClientId: 'client',
      xClientSecret: 'secret',
      xApiUrl: 'http://127.0.0.1:4010',
      xTier: 'unlimited',
      maxThreadItems: 10,
      dbPoolSize: 40,
    });
  });

  it('lists every invalid variable in one error', () => {
    const dir = tempDir();
    let error: unknown;
    try {
      loadConfig({
        XGATE_DATA_DIR: dir,
        PORT: 'eighty',
        PUBLIC_URL: 'not a url',
        DATABASE_URL: 'mysql://x',
        XGATE_SECRET_KEY: 'too-short',
        X_API_URL: 'ftp://x',
        X_TIER: 'gold',
        XGATE_MAX_THREAD_ITEMS: '0',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(
      [
        'DATABASE_URL',
        'PORT',
        'PUBLIC_URL',
        'XGATE_MAX_THREAD_ITEMS',
        'XGATE_SECRET_KEY',
        'X_API_URL',
        'X_TIER',
      ].sort(),
    );
    for (const variable of variables) expect((error as Error).message).toContain(variable);
    // Nothing is written when the configuration is refused.
    expect(() => statSync(join(dir, 'secret.key'))).toThrow();
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({
      XGATE_DATA_DIR: tempDir(),
      XGATE_SECRET_KEY: KEY,
      X_CLIENT_ID: '',
      PORT: '',
    });
    expect(config.sandbox).toBe(true);
    expect(config.port).toBe(8080);
  });

  it('generates the secret key once (mode 0600) and reuses it', () => {
    const dir = tempDir();
    const first = loadConfig({ XGATE_DATA_DIR: dir });
    const path = join(dir, 'secret.key');
    expect(first.warnings).toEqual([expect.stringContaining(path)]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.secretKey).toHaveLength(32);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').equals(first.secretKey)).toBe(true);

    const second = loadConfig({ XGATE_DATA_DIR: dir });
    expect(second.secretKey.equals(first.secretKey)).toBe(true);
    expect(second.warnings).toEqual([]);
  });

  it('warns when the key file is readable by others', () => {
    const dir = tempDir();
    const path = join(dir, 'secret.key');
    writeFileSync(path, `${KEY}\n`, { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(loadConfig({ XGATE_DATA_DIR: dir }).warnings).toEqual([expect.stringContaining('chmod 600')]);
  });

  it('refuses a corrupt key file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'secret.key'), 'garbage\n');
    expect(() => loadConfig({ XGATE_DATA_DIR: dir })).toThrow(/XGATE_SECRET_KEY/);
  });
});
