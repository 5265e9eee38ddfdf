import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type ClientInput, createEmulator, TIERS, type Tier } from '../../emulator/index.ts';
import { forgetAllTokens } from '../accounts/index.ts';
import { type Config, ConfigError, loadConfig } from '../config/index.ts';
import { forgetSecretCanary } from '../crypto/canary.ts';
import { createDatabase, migrateToLatest } from '../db/index.ts';
import { forgetAllIdempotencyKeys } from '../idempotency/index.ts';
import { createLogger } from '../logger.ts';
import { type App, createApp } from '../server.ts';
import { deleteAllSessions } from '../users/sessions.repository.ts';
import { generateOpenApi, OPENAPI_PATH } from './openapi.ts';
import { stopOnSignals } from './process.ts';
import { type Sandbox, startSandbox } from './sandbox.ts';
import { describeStartupError } from './startup-errors.ts';

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
async function runService(mode: { http: boolean; worker: boolean }): Promise<void> {
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

/** `--client ID:SECRET:REDIRECT_URI[,REDIRECT_URI…]`; an empty SECRET (`ID::URI`) registers a public client. */
export function parseClientOption(value: string, previous: ClientInput[] = []): ClientInput[] {
  const first = value.indexOf(':');
  const second = first === -1 ? -1 : value.indexOf(':', first + 1);
  const clientId = value.slice(0, first);
  const redirectUris = value
    .slice(second + 1)
    .split(',')
    .filter((u) => u !== '');
  if (
    first <= 0 ||
    second === -1 ||
    redirectUris.length === 0 ||
    !redirectUris.every((u) => URL.canParse(u))
  ) {
    throw new InvalidArgumentError('expected ID:SECRET:REDIRECT_URI (ID::REDIRECT_URI for a public client)');
  }
  const clientSecret = value.slice(first + 1, second);
  return [...previous, { clientId, clientSecret: clientSecret === '' ? null : clientSecret, redirectUris }];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('expected a port number');
  return port;
}

/** The `xgate` command line. */
export function buildProgram(): Command {
  const program = new Command('xgate')
    .description('Self-hosted gateway for posting to X, with a built-in X API emulator.')
    .showHelpAfterError();

  program
    .command('serve')
    .description(
      'HTTP server and (unless --no-worker) the background worker. Sandbox mode without X_CLIENT_ID.',
    )
    .option('--no-worker', 'serve HTTP only; run `xgate worker` separately')
    .action(async (options: { worker: boolean }) => runService({ http: true, worker: options.worker }));

  program
    .command('worker')
    .description(
      'The background worker alone (refresher, dispatcher, …). Any number may share one PostgreSQL.',
    )
    .action(async () => runService({ http: false, worker: true }));

  program
    .command('migrate')
    .description('Apply database migrations (serve and worker also do it on start).')
    .action(async () => {
      const config = configOrExit();
      for (const warning of config.warnings) process.stderr.write(`xgate: warning: ${warning}\n`);
      const handle = await createDatabase(config.databaseUrl).catch((error) =>
        exitOnStartupError(error, config),
      );
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
    });

  program
    .command('forget-tokens')
    .description(
      'After the secret key is lost for good: erase every stored X token (each account then needs reconnecting), end every session, and accept the current key from now on.',
    )
    .option('--yes', 'do it (without it, only say what would happen)')
    .action(async (options: { yes?: boolean }) => {
      const config = configOrExit();
      const handle = await createDatabase(config.databaseUrl).catch((error) =>
        exitOnStartupError(error, config),
      );
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
    });

  program
    .command('openapi')
    .description(`Print the OpenAPI document (or write it with --out ${OPENAPI_PATH}).`)
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (options: { out?: string }) => {
      const document = await generateOpenApi();
      if (options.out) writeFileSync(options.out, document);
      else process.stdout.write(document);
    });

  program
    .command('emulator')
    .description('The X API emulator as a standalone server.')
    .option('--port <port>', 'port to listen on', parsePort, 4010)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--tier <tier>', 'rate-limit profile').choices(TIERS as string[]).default('ppu'))
    .option(
      '--client <ID:SECRET:REDIRECT_URI>',
      'register an OAuth client (repeatable; ID::REDIRECT_URI for a public client; several URIs comma-separated)',
      parseClientOption,
      [],
    )
    .option('--state <file>', 'keep users, tweets and clients in this JSON file across restarts')
    .action(
      async (options: { port: number; host: string; tier: Tier; client: ClientInput[]; state?: string }) => {
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
      },
    );

  return program;
}
