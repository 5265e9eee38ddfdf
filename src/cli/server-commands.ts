import { writeFileSync } from 'node:fs';
import { type ClientInput, createEmulator, type Tier } from '../../emulator/index.ts';
import { forgetAllTokens } from '../accounts/index.ts';
import { type Config, ConfigError, loadConfig } from '../config/index.ts';
import { forgetSecretCanary } from '../crypto/canary.ts';
import { createDatabase, migrateToLatest } from '../db/index.ts';
import { forgetAllIdempotencyKeys } from '../idempotency/index.ts';
import { createLogger } from '../logger.ts';
import { type App, createApp } from '../server.ts';
import { deleteAllSessions } from '../users/sessions.repository.ts';
import { generateOpenApi } from './openapi.ts';
import { stopOnSignals } from './process.ts';
import { type Sandbox, startSandbox } from './sandbox.ts';
import { describeStartupError } from './startup-errors.ts';

/**
 * The commands that run xgate itself (serve, worker, migrate, forget-tokens, openapi, emulator). Loaded only
 * when one of them runs, so the command-line client (`xgate post`, `xgate --help`…) starts without the server.
 */

/** Reads the config or prints the one message listing every invalid variable and exits 1. */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`xgate: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Prints the one sentence of a known start-up failure and exits 1; rethrows anything else (its stack helps). */
function exitOnStartupError(error: unknown, config: Config): never {
  const sentence = describeStartupError(error, config);
  if (sentence === null) throw error;
  process.stderr.write(`xgate: ${sentence}\n`);
  process.exit(1);
}

/** `serve` and `worker`: the composed app (HTTP and/or worker), with the emulator in-process in sandbox mode. */
export async function runService(mode: { http: boolean; worker: boolean }): Promise<void> {
  const baseConfig = configOrExit();
  let config = baseConfig;
  const log = createLogger(config.logLevel, undefined, config.logFormat);
  let sandbox: Sandbox | null = null;
  let app: App;
  let url: string | undefined;
  try {
    sandbox = config.sandbox ? await startSandbox(config, log) : null;
    if (sandbox) config = sandbox.config;
    for (const warning of config.warnings) log.warn(warning);
    app = await createApp(config, { http: mode.http, worker: mode.worker, log });
    try {
      ({ url } = await app.start());
    } catch (error) {
      await app.stop();
      throw error;
    }
  } catch (error) {
    await sandbox?.stop();
    log.flush();
    exitOnStartupError(error, baseConfig);
  }
  if (url) {
    log.info(
      { url, publicUrl: config.publicUrl, worker: mode.worker },
      sandbox
        ? `xgate is running (sandbox). Open ${config.publicUrl}/auth/x/login to sign in with a sandbox X account; API docs at ${config.publicUrl}/docs`
        : `xgate is running at ${config.publicUrl}`,
    );
  } else {
    log.info('xgate worker is running');
  }
  stopOnSignals(async () => {
    await app.stop();
    await sandbox?.stop();
  }, log);
}

export async function migrate(): Promise<void> {
  const config = configOrExit();
  for (const warning of config.warnings) process.stderr.write(`xgate: warning: ${warning}\n`);
  const handle = await createDatabase(config.databaseUrl).catch((error) => exitOnStartupError(error, config));
  try {
    const results = await migrateToLatest(handle.db);
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    process.stdout.write(
      applied.length > 0
        ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n`
        : 'Already up to date.\n',
    );
  } finally {
    await handle.destroy();
  }
}

export async function forgetTokens(options: { yes?: boolean }): Promise<void> {
  const config = configOrExit();
  const handle = await createDatabase(config.databaseUrl).catch((error) => exitOnStartupError(error, config));
  try {
    await migrateToLatest(handle.db);
    if (!options.yes) {
      process.stdout.write(
        'This erases every stored X token (each X account must be reconnected), ends every browser session and forgets remembered Idempotency-Keys; posts and API keys are kept. Run again with --yes to do it.\n',
      );
      return;
    }
    const accounts = await forgetAllTokens(
      handle.db,
      'The secret key that sealed this account’s tokens was lost, so they were erased. Reconnect the account.',
      Date.now(),
    );
    await deleteAllSessions(handle.db);
    await forgetAllIdempotencyKeys(handle.db);
    await forgetSecretCanary(handle.db);
    process.stdout.write(
      `Erased the tokens of ${accounts} account(s); they need reconnecting. Start xgate with the new key.\n`,
    );
  } finally {
    await handle.destroy();
  }
}

export async function printOpenApi(options: { out?: string }): Promise<void> {
  const document = await generateOpenApi();
  if (options.out) writeFileSync(options.out, document);
  else process.stdout.write(document);
}

export async function runEmulator(options: {
  port: number;
  host: string;
  tier: Tier;
  client: ClientInput[];
  state?: string;
}): Promise<void> {
  const log = createLogger('info', undefined, process.stdout.isTTY ? 'pretty' : 'json');
  const emulator = await createEmulator({
    tier: options.tier,
    clients: options.client,
    ...(options.state ? { statePath: options.state } : {}),
  });
  const url = await emulator.listen({ port: options.port, host: options.host });
  log.info(
    { url, tier: options.tier, clients: options.client.map((c) => c.clientId) },
    `X emulator listening at ${url} (consent page: ${url}/i/oauth2/authorize, control API: ${url}/__admin)`,
  );
  stopOnSignals(() => emulator.close(), log);
}
