import { randomBytes } from 'node:crypto';
import type { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/index.ts';
import { type App, type AppOverrides, createApp } from '../../src/server.ts';
import { freePort } from './ports.ts';

/** A running service for integration tests. */
export interface TestService {
  /** Base URL, e.g. `http://127.0.0.1:43121` (also its PUBLIC_URL). */
  url: string;
  app: App;
  stop(): Promise<void>;
}

/** The OAuth client id tests register at the emulator; the service uses it unless `env` says otherwise. */
export const TEST_X_CLIENT_ID = 'xgate-test-client';

/**
 * Starts xgate on 127.0.0.1 over `databaseUrl`, with the X API at `emulatorUrl` (a non-routable address when
 * omitted, so nothing can reach the real X). The worker is off unless `worker: true`. `env` adds or overrides
 * variables (e.g. `X_CLIENT_SECRET`, `XGATE_MAX_THREAD_ITEMS`).
 */
export async function startTestService(options: {
  databaseUrl: string;
  dataDir: string;
  emulatorUrl?: string;
  clock?: Clock;
  worker?: boolean;
  env?: Record<string, string>;
  overrides?: AppOverrides;
}): Promise<TestService> {
  const port = await freePort();
  const apiUrl = options.emulatorUrl ?? 'http://127.0.0.1:9';
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    XGATE_DATA_DIR: options.dataDir,
    XGATE_SECRET_KEY: randomBytes(32).toString('base64'),
    X_CLIENT_ID: TEST_X_CLIENT_ID,
    X_API_URL: apiUrl,
    X_AUTHORIZE_URL: `${apiUrl}/i/oauth2/authorize`,
    LOG_LEVEL: process.env.XGATE_TEST_LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const app = await createApp(config, {
    worker: options.worker ?? false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.overrides,
  });
  const { url } = await app.start();
  return { url: url ?? `http://127.0.0.1:${port}`, app, stop: () => app.stop() };
}
