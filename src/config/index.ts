import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadPrices, type PriceTable } from '../spend/prices.ts';

/** Rate-limit/budget profiles of X's published tiers (CONTRACT §2 `X_TIER`). */
export const X_TIERS = ['free', 'basic', 'pro', 'ppu', 'unlimited'] as const;
export type XTier = (typeof X_TIERS)[number];

/** The validated, frozen configuration. Built once by {@link loadConfig}; the only reader of `process.env`. */
export interface Config {
  host: string;
  port: number;
  /** External base URL without a trailing slash; the OAuth callback is `${publicUrl}/auth/x/callback`. */
  publicUrl: string;
  /** `sqlite:PATH` or `postgres://…`. */
  databaseUrl: string;
  /** Absolute path of the data directory (SQLite file, media files, generated key, sandbox state). */
  dataDir: string;
  /** 32 bytes: seals tokens at rest and cookies. */
  secretKey: Buffer;
  /** Where the key came from, for messages: `XGATE_SECRET_KEY` or the key file's path. */
  secretKeySource: string;
  /** True when no X client is configured: the X emulator runs in-process and stands in for X. */
  sandbox: boolean;
  xClientId: string | null;
  /** Set → confidential client (client_secret_basic); null → public client. */
  xClientSecret: string | null;
  /** Base of every X API call, without a trailing slash. */
  xApiUrl: string;
  xAuthorizeUrl: string;
  xTier: XTier;
  /** Port of the in-process emulator in sandbox mode (default PORT+1; 0 = any free port). */
  sandboxEmulatorPort: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `json` (default when stdout is not a terminal) or `pretty` (default on a terminal). */
  logFormat: 'json' | 'pretty';
  /** A browser session unused this many hours ends (the lifetime slides with use; default 168 = 7 days). */
  sessionTtlHours: number;
  /** No browser session lives longer than this many days, however much it is used (default 30). */
  sessionMaxDays: number;
  /** Trust `X-Forwarded-*` headers (set when behind a load balancer that sets them); default false. */
  trustProxy: boolean;
  /** Largest accepted JSON request body, in bytes. */
  bodyLimitBytes: number;
  /** Most items (tweets) a thread may have. */
  maxThreadItems: number;
  /** How far ahead a post may be scheduled, in days. */
  scheduleHorizonDays: number;
  /** How long an Idempotency-Key is remembered, in hours. */
  idempotencyTtlHours: number;
  /** Upload limits in bytes (X's own limits: 5 MB images, 15 MB GIFs, 512 MB videos). */
  maxImageBytes: number;
  maxGifBytes: number;
  maxVideoBytes: number;
  /** The token vault refreshes an access token when it expires within this many seconds (default 300). */
  refreshMarginSeconds: number;
  /** Token refreshes the refresher runs at once per process (default 8). */
  refreshConcurrency: number;
  /** Timeout of one X API request, in ms (default 30,000). */
  xTimeoutMs: number;
  /** Dispatcher: accounts published in parallel by one process (default 16). */
  dispatchConcurrency: number;
  /** Dispatcher: how long a claim holds without renewal, ms (default 60,000); a dead worker's posts resume after it. */
  dispatchLeaseMs: number;
  /** Dispatcher: pause when nothing is due, ms (default 1,000). */
  dispatchPollMs: number;
  /** After a create whose answer was lost: wait before trusting "not on X" and sending again, ms (default 30,000). */
  publishSettleMs: number;
  /**
   * PostgreSQL connections per process (default 20; unused with SQLite). Each account the dispatcher publishes in
   * parallel holds one while it commits, so more than `dispatchConcurrency` leaves room for HTTP and the refresher.
   */
  dbPoolSize: number;
  /** Threads that measure and split text off the event loop (default 2). */
  textWorkers: number;
  /** Longest one text job (a post's items, or a split) may take before it is refused as too complex, ms (default 2,000). */
  textTimeoutMs: number;
  /** Requests per minute one API key or browser session may make under /api (0 = no limit; default 3,000). */
  rateLimitApiPerMinute: number;
  /** Sign-in requests (`/auth/x/login`, `/auth/x/callback`) per minute from one IP address (default 30). */
  rateLimitSignInPerMinute: number;
  /** Requests with an unknown or malformed API key per minute from one IP address before it gets 429 (default 20). */
  rateLimitAuthFailuresPerMinute: number;
  /** Bytes of media one user may keep (default 2 GiB). */
  mediaQuotaBytes: number;
  /** An upload no post lists is deleted this many hours after it was made (default 24). */
  mediaUnusedTtlHours: number;
  /** Media listed only by published or canceled posts is deleted this many days after upload (default 30). */
  mediaRetentionDays: number;
  /** Events are kept this many days (default 30). */
  eventsRetentionDays: number;
  /** Active API keys one user may have (default 100). */
  maxApiKeysPerUser: number;
  /** Webhook URLs may be plain `http://` and reach loopback/private addresses (default: only in sandbox mode). */
  webhookAllowPrivate: boolean;
  /** A webhook attempt without an answer after this many ms fails (default 15,000). */
  webhookTimeoutMs: number;
  /** How long a worker holds an endpoint without news before another may take it, in ms (default 60,000). */
  webhookLeaseMs: number;
  /** Endpoints one worker delivers to at once (default 16). */
  webhookConcurrency: number;
  /** How often a worker looks for new events to deliver, in ms (default 500). */
  webhookPollMs: number;
  /** Finished deliveries are kept in the delivery log this many days (default 30). */
  webhookRetentionDays: number;
  /** Webhook endpoints one user may have (default 20). */
  maxWebhooksPerUser: number;
  /** The metrics collector runs (default true). */
  metricsEnabled: boolean;
  /** Weekly public metric reads continue to this age in days, then collection stops (default 90). */
  metricsMaxAgeDays: number;
  /** Tweets read for metrics per account per UTC day, at most (default 5,000). */
  metricsReadsPerAccountPerDay: number;
  /** Tweets read for metrics by the whole app per UTC day, at most (default 100,000). */
  metricsReadsPerDay: number;
  /** What X bills per post read, for the estimate in `GET /api/v1/metrics/reads` (default 0.005 USD). */
  metricsPricePerReadUsd: number;
  /** How often the collector looks for due reads, in ms (default 60,000). */
  metricsPollMs: number;
  /** What X charges per operation (USD): the defaults, or XGATE_PRICES_FILE's. */
  prices: PriceTable;
  /** The app's monthly / daily caps on estimated X charges (USD), or null. */
  monthlySpendCapUsd: number | null;
  dailySpendCapUsd: number | null;
  /** Things the operator should know about (e.g. a generated secret key); logged at start-up. */
  warnings: readonly string[];
}

/** Invalid configuration; `message` lists every invalid variable, one per line. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  ${p.variable}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const int = (min: number, max: number, fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );
/** An optional amount in USD (a spending cap). */
const usdAmount = z.preprocess(
  emptyToUndefined,
  z.coerce
    .number({ error: 'must be an amount in USD, e.g. 50' })
    .min(0, 'must not be negative')
    .max(10_000_000, 'must be at most 10,000,000')
    .optional(),
);
const httpUrlSchema = z
  .string()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));
const optionalHttpUrl = z.preprocess(emptyToUndefined, httpUrlSchema.optional());
const httpUrl = (fallback: string) => z.preprocess(emptyToUndefined, httpUrlSchema.default(fallback));

const MB = 1024 * 1024;

const envSchema = z.object({
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  PORT: int(0, 65535, 8080),
  PUBLIC_URL: optionalHttpUrl,
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v),
        'must be sqlite:PATH or postgres://…',
      )
      .optional(),
  ),
  XGATE_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  XGATE_SECRET_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (v) => decodeKey(v) !== null,
        'must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)',
      )
      .optional(),
  ),
  X_CLIENT_ID: optionalString,
  X_CLIENT_SECRET: optionalString,
  X_API_URL: httpUrl('https://api.x.com'),
  X_AUTHORIZE_URL: httpUrl('https://x.com/i/oauth2/authorize'),
  X_TIER: z.preprocess(
    emptyToUndefined,
    z.enum(X_TIERS, { error: `must be one of ${X_TIERS.join(', ')}` }).default('ppu'),
  ),
  XGATE_SANDBOX_EMULATOR_PORT: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int('must be a whole number').min(0).max(65535, 'must be at most 65535').optional(),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
  ),
  LOG_FORMAT: z.preprocess(
    emptyToUndefined,
    z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).optional(),
  ),
  XGATE_TRUST_PROXY: z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  ),
  XGATE_SESSION_TTL_HOURS: int(1, 24 * 365, 24 * 7),
  XGATE_SESSION_MAX_DAYS: int(1, 365, 30),
  XGATE_BODY_LIMIT_BYTES: int(1024, 64 * MB, MB),
  XGATE_MAX_THREAD_ITEMS: int(1, 1000, 25),
  XGATE_SCHEDULE_HORIZON_DAYS: int(1, 3650, 365),
  XGATE_IDEMPOTENCY_TTL_HOURS: int(1, 24 * 30, 24),
  XGATE_MAX_IMAGE_BYTES: int(1, 1024 * MB, 5 * MB),
  XGATE_MAX_GIF_BYTES: int(1, 1024 * MB, 15 * MB),
  XGATE_MAX_VIDEO_BYTES: int(1, 4096 * MB, 512 * MB),
  XGATE_REFRESH_MARGIN_SECONDS: int(0, 7 * 24 * 3600, 300),
  XGATE_REFRESH_CONCURRENCY: int(1, 256, 8),
  XGATE_X_TIMEOUT_MS: int(100, 10 * 60_000, 30_000),
  XGATE_DISPATCH_CONCURRENCY: int(1, 1024, 16),
  XGATE_DISPATCH_LEASE_MS: int(1000, 60 * 60_000, 60_000),
  XGATE_DISPATCH_POLL_MS: int(10, 60_000, 1000),
  XGATE_PUBLISH_SETTLE_MS: int(0, 60 * 60_000, 30_000),
  XGATE_DB_POOL_SIZE: int(1, 1000, 20),
  XGATE_TEXT_WORKERS: int(1, 64, 2),
  XGATE_RATE_LIMIT_API_PER_MINUTE: int(0, 10_000_000, 3000),
  XGATE_RATE_LIMIT_SIGNIN_PER_MINUTE: int(1, 1_000_000, 30),
  XGATE_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: int(1, 1_000_000, 20),
  XGATE_MAX_API_KEYS_PER_USER: int(1, 100_000, 100),
  XGATE_EVENTS_RETENTION_DAYS: int(1, 3650, 30),
  XGATE_MEDIA_QUOTA_BYTES: int(1, 2 ** 50, 2 * 1024 * MB),
  XGATE_MEDIA_UNUSED_TTL_HOURS: int(1, 24 * 3650, 24),
  XGATE_MEDIA_RETENTION_DAYS: int(1, 3650, 30),
  XGATE_TEXT_TIMEOUT_MS: int(100, 60_000, 2000),
  XGATE_WEBHOOK_ALLOW_PRIVATE: z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1')
      .optional(),
  ),
  XGATE_WEBHOOK_TIMEOUT_MS: int(100, 120_000, 15_000),
  XGATE_WEBHOOK_LEASE_MS: int(1000, 60 * 60_000, 60_000),
  XGATE_WEBHOOK_CONCURRENCY: int(1, 1024, 16),
  XGATE_WEBHOOK_POLL_MS: int(10, 60_000, 500),
  XGATE_WEBHOOK_RETENTION_DAYS: int(1, 3650, 30),
  XGATE_MAX_WEBHOOKS_PER_USER: int(1, 10_000, 20),
  XGATE_METRICS: z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1')
      .default(true),
  ),
  XGATE_METRICS_MAX_AGE_DAYS: int(30, 3650, 90),
  XGATE_METRICS_READS_PER_ACCOUNT_PER_DAY: int(0, 10_000_000, 5_000),
  XGATE_METRICS_READS_PER_DAY: int(0, 100_000_000, 100_000),
  XGATE_METRICS_PRICE_PER_READ_USD: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ error: 'must be a number of dollars, e.g. 0.005' })
      .min(0, 'must not be negative')
      .max(100, 'must be at most 100')
      .default(0.005),
  ),
  XGATE_METRICS_POLL_MS: int(100, 3_600_000, 60_000),
  XGATE_PRICES_FILE: z.preprocess(emptyToUndefined, z.string().optional()),
  XGATE_MONTHLY_SPEND_CAP_USD: usdAmount,
  XGATE_DAILY_SPEND_CAP_USD: usdAmount,
});

function decodeKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 ? key : null;
}

/**
 * Reads and validates the environment once. Throws {@link ConfigError} listing every invalid variable.
 * Without `XGATE_SECRET_KEY` the key is read from `<dataDir>/secret.key`, generated there (mode 0600) on
 * first start, with a warning in `config.warnings`.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  terminal: { stdoutIsTTY: boolean } = { stdoutIsTTY: process.stdout.isTTY === true },
): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const seen = new Set<string>();
    const problems: { variable: string; message: string }[] = [];
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? '(environment)');
      if (seen.has(variable)) continue;
      seen.add(variable);
      problems.push({ variable, message: issue.message });
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  let prices: PriceTable;
  try {
    prices = loadPrices(e.XGATE_PRICES_FILE);
  } catch (error) {
    throw new ConfigError([{ variable: 'XGATE_PRICES_FILE', message: (error as Error).message }]);
  }
  const dataDir = resolve(e.XGATE_DATA_DIR);
  const warnings: string[] = [];
  const publicUrl = e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`;
  const secretKey = e.XGATE_SECRET_KEY
    ? (decodeKey(e.XGATE_SECRET_KEY) as Buffer)
    : loadOrCreateKeyFile(join(dataDir, 'secret.key'), warnings);
  const sandbox = e.X_CLIENT_ID === undefined;

  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    publicUrl,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${join(dataDir, 'xgate.db')}`,
    dataDir,
    secretKey,
    secretKeySource: e.XGATE_SECRET_KEY ? 'XGATE_SECRET_KEY' : join(dataDir, 'secret.key'),
    sandbox,
    xClientId: e.X_CLIENT_ID ?? null,
    xClientSecret: e.X_CLIENT_SECRET ?? null,
    xApiUrl: e.X_API_URL,
    xAuthorizeUrl: e.X_AUTHORIZE_URL,
    xTier: e.X_TIER,
    sandboxEmulatorPort: e.XGATE_SANDBOX_EMULATOR_PORT ?? (e.PORT === 0 ? 0 : e.PORT + 1),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (terminal.stdoutIsTTY ? 'pretty' : 'json'),
    sessionTtlHours: e.XGATE_SESSION_TTL_HOURS,
    sessionMaxDays: e.XGATE_SESSION_MAX_DAYS,
    trustProxy: e.XGATE_TRUST_PROXY,
    bodyLimitBytes: e.XGATE_BODY_LIMIT_BYTES,
    maxThreadItems: e.XGATE_MAX_THREAD_ITEMS,
    scheduleHorizonDays: e.XGATE_SCHEDULE_HORIZON_DAYS,
    idempotencyTtlHours: e.XGATE_IDEMPOTENCY_TTL_HOURS,
    maxImageBytes: e.XGATE_MAX_IMAGE_BYTES,
    maxGifBytes: e.XGATE_MAX_GIF_BYTES,
    maxVideoBytes: e.XGATE_MAX_VIDEO_BYTES,
    refreshMarginSeconds: e.XGATE_REFRESH_MARGIN_SECONDS,
    refreshConcurrency: e.XGATE_REFRESH_CONCURRENCY,
    xTimeoutMs: e.XGATE_X_TIMEOUT_MS,
    dispatchConcurrency: e.XGATE_DISPATCH_CONCURRENCY,
    dispatchLeaseMs: e.XGATE_DISPATCH_LEASE_MS,
    dispatchPollMs: e.XGATE_DISPATCH_POLL_MS,
    publishSettleMs: e.XGATE_PUBLISH_SETTLE_MS,
    dbPoolSize: e.XGATE_DB_POOL_SIZE,
    textWorkers: e.XGATE_TEXT_WORKERS,
    rateLimitApiPerMinute: e.XGATE_RATE_LIMIT_API_PER_MINUTE,
    rateLimitSignInPerMinute: e.XGATE_RATE_LIMIT_SIGNIN_PER_MINUTE,
    rateLimitAuthFailuresPerMinute: e.XGATE_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
    maxApiKeysPerUser: e.XGATE_MAX_API_KEYS_PER_USER,
    eventsRetentionDays: e.XGATE_EVENTS_RETENTION_DAYS,
    mediaQuotaBytes: e.XGATE_MEDIA_QUOTA_BYTES,
    mediaUnusedTtlHours: e.XGATE_MEDIA_UNUSED_TTL_HOURS,
    mediaRetentionDays: e.XGATE_MEDIA_RETENTION_DAYS,
    textTimeoutMs: e.XGATE_TEXT_TIMEOUT_MS,
    webhookAllowPrivate: e.XGATE_WEBHOOK_ALLOW_PRIVATE ?? sandbox,
    webhookTimeoutMs: e.XGATE_WEBHOOK_TIMEOUT_MS,
    // A lease must outlast the longest attempt, after which it is renewed.
    webhookLeaseMs: Math.max(e.XGATE_WEBHOOK_LEASE_MS, e.XGATE_WEBHOOK_TIMEOUT_MS + 1000),
    webhookConcurrency: e.XGATE_WEBHOOK_CONCURRENCY,
    webhookPollMs: e.XGATE_WEBHOOK_POLL_MS,
    webhookRetentionDays: e.XGATE_WEBHOOK_RETENTION_DAYS,
    metricsEnabled: e.XGATE_METRICS,
    metricsMaxAgeDays: e.XGATE_METRICS_MAX_AGE_DAYS,
    metricsReadsPerAccountPerDay: e.XGATE_METRICS_READS_PER_ACCOUNT_PER_DAY,
    metricsReadsPerDay: e.XGATE_METRICS_READS_PER_DAY,
    metricsPricePerReadUsd: e.XGATE_METRICS_PRICE_PER_READ_USD,
    metricsPollMs: e.XGATE_METRICS_POLL_MS,
    prices,
    monthlySpendCapUsd: e.XGATE_MONTHLY_SPEND_CAP_USD ?? null,
    dailySpendCapUsd: e.XGATE_DAILY_SPEND_CAP_USD ?? null,
    maxWebhooksPerUser: e.XGATE_MAX_WEBHOOKS_PER_USER,
    warnings: Object.freeze(warnings),
  });
}

function loadOrCreateKeyFile(path: string, warnings: string[]): Buffer {
  if (existsSync(path)) {
    const key = decodeKey(readFileSync(path, 'utf8'));
    if (!key) {
      throw new ConfigError([
        { variable: 'XGATE_SECRET_KEY', message: `the key file ${path} does not hold 32 bytes of base64` },
      ]);
    }
    if ((statSync(path).mode & 0o077) !== 0) {
      warnings.push(`The key file ${path} is readable by other users; restrict it with: chmod 600 ${path}`);
    }
    return key;
  }
  mkdirSync(resolve(path, '..'), { recursive: true });
  const key = randomBytes(32);
  // 'wx' fails if another process created the file in the meantime: then use theirs.
  try {
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKeyFile(path, warnings);
    throw error;
  }
  chmodSync(path, 0o600);
  warnings.push(
    `XGATE_SECRET_KEY is not set: generated a new key into ${path}. Back it up; without it sealed tokens and sessions are lost.`,
  );
  return key;
}
