import type { Logger } from 'pino';
import { storedTokensOpen } from './accounts/index.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config/index.ts';
import { verifySecretKey } from './crypto/canary.ts';
import { createDatabase, migrateToLatest } from './db/index.ts';
import type { AppDeps } from './deps.ts';
import { buildHttpApp } from './http/app.ts';
import type { RouteModule, ZodFastify } from './http/types.ts';
import { createLogger } from './logger.ts';
import { routeModules as defaultRouteModules, workerLoops as defaultWorkerLoops } from './modules.ts';
import { buildServices } from './services.ts';
import { createWorker, type Worker, type WorkerLoopFactory } from './worker.ts';

/** What tests and the CLI may replace when composing the app. */
export interface AppOverrides {
  /** Time source (tests: a controllable clock). */
  clock?: Clock;
  /** Point the X client somewhere else (tests: an emulator on 127.0.0.1). */
  xApiUrl?: string;
  xAuthorizeUrl?: string;
  /** Serve HTTP (default true). */
  http?: boolean;
  /** Run the background worker loops (default true). */
  worker?: boolean;
  log?: Logger;
  routeModules?: readonly RouteModule[];
  /** How the X client waits (tests: moving a test clock instead). */
  xSleep?: (ms: number) => Promise<void>;
  workerLoops?: readonly WorkerLoopFactory[];
}

/** A composed xgate process: HTTP and/or worker over one database. */
export interface App {
  deps: AppDeps;
  /** The Fastify app (null when HTTP is off); `inject()` works without `start()`. */
  http: ZodFastify | null;
  /** Listens on HOST:PORT (when HTTP is on) and starts the worker; `url` is where it listens. */
  start(): Promise<{ url?: string }>;
  /** Graceful stop: no new requests or claims, in-flight ones finish, then the database closes. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The composition root: opens and migrates the database, builds the dependencies, the HTTP app and the
 * worker. Nothing listens or runs until `start()`.
 */
export async function createApp(baseConfig: Config, overrides: AppOverrides = {}): Promise<App> {
  const config: Config = Object.freeze({
    ...baseConfig,
    xApiUrl: overrides.xApiUrl?.replace(/\/+$/, '') ?? baseConfig.xApiUrl,
    xAuthorizeUrl: overrides.xAuthorizeUrl ?? baseConfig.xAuthorizeUrl,
  });
  const log = overrides.log ?? createLogger(config.logLevel, undefined, config.logFormat);
  const clock = overrides.clock ?? systemClock;
  const handle = await createDatabase(config.databaseUrl, { log, maxConnections: config.dbPoolSize });
  let deps: AppDeps;
  let http: ZodFastify | null;
  let worker: Worker | null;
  try {
    await migrateToLatest(handle.db);
    deps = buildServices(config, handle, clock, log, overrides.xSleep ? { xSleep: overrides.xSleep } : {});
    const { tokenSealer } = deps;
    await verifySecretKey(handle.db, config.secretKey, {
      now: clock.now(),
      keySource: config.secretKeySource,
      storedTokensOpen: () => storedTokensOpen(handle.db, tokenSealer),
    });
    http =
      overrides.http === false
        ? null
        : await buildHttpApp(deps, overrides.routeModules ?? defaultRouteModules);
    worker =
      overrides.worker === false
        ? null
        : createWorker(
            (overrides.workerLoops ?? defaultWorkerLoops).map((make) => make(deps)),
            log,
          );
  } catch (error) {
    await handle.destroy();
    throw error;
  }

  let stopping: Promise<void> | null = null;
  return {
    deps,
    http,
    async start() {
      let url: string | undefined;
      if (http) {
        const address = await http.listen({ host: config.host, port: config.port });
        url = address.replace('://[::1]', '://localhost');
      }
      worker?.start();
      return url === undefined ? {} : { url };
    },
    stop() {
      stopping ??= (async () => {
        // HTTP first (close stops accepting and waits for in-flight requests), the worker meanwhile.
        await Promise.all([http?.close(), worker?.stop()]);
        // The charges of the last calls to X, still waiting for the ledger's next write.
        await deps.spend.flush();
        await Promise.all([handle.destroy(), deps.text.close()]);
      })();
      return stopping;
    },
  };
}
