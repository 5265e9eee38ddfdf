import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ClientInput, Tier } from '../../emulator/index.ts';
import { TIERS } from '../../emulator/state.ts';
import { packageRoot } from '../package-root.ts';
import { registerClientCommands } from './client/commands.ts';
import { OPENAPI_PATH } from './openapi-path.ts';

/** The server's commands, loaded on first use (see server-commands.ts). */
const server = () => import('./server-commands.ts');

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
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    // Usage errors exit 2 (src/cli/main.ts); subcommands added below inherit this.
    .exitOverride()
    .addHelpText(
      'after',
      `
Environment: the client commands (login … completion) read XGATE_URL and XGATE_API_KEY (with both set, nothing is
interactive), else the file \`xgate login\` writes in $XDG_CONFIG_HOME/xgate/ (~/.config/xgate/); NO_COLOR turns
colours off. serve, worker and migrate read the variables in docs/reference.md (DATABASE_URL, X_CLIENT_ID, …).
Exit codes: 0 success, 1 the operation failed, 2 usage error, 4 authentication needed.`,
    );

  program
    .command('serve')
    .description(
      'HTTP server and (unless --no-worker) the background worker. Sandbox mode without X_CLIENT_ID.',
    )
    .option('--no-worker', 'serve HTTP only; run `xgate worker` separately')
    .action(async (options: { worker: boolean }) =>
      (await server()).runService({ http: true, worker: options.worker }),
    );

  program
    .command('worker')
    .description(
      'The background worker alone (refresher, dispatcher, …). Any number may share one PostgreSQL.',
    )
    .action(async () => (await server()).runService({ http: false, worker: true }));

  program
    .command('migrate')
    .description('Apply database migrations (serve and worker also do it on start).')
    .action(async () => (await server()).migrate());

  program
    .command('forget-tokens')
    .description(
      'After the secret key is lost for good: erase every stored X token (each account then needs reconnecting), end every session, and accept the current key from now on.',
    )
    .option('--yes', 'do it (without it, only say what would happen)')
    .action(async (options: { yes?: boolean }) => (await server()).forgetTokens(options));

  program
    .command('openapi')
    .description(`Print the OpenAPI document (or write it with --out ${OPENAPI_PATH}).`)
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (options: { out?: string }) => (await server()).printOpenApi(options));

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
      async (options: { port: number; host: string; tier: Tier; client: ClientInput[]; state?: string }) =>
        (await server()).runEmulator(options),
    );

  registerClientCommands(program);
  return program;
}

/** The version in xgate's package.json. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
}
