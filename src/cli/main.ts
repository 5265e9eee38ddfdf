// Entry point of the `xgate` command (bin/xgate.js loads this through tsx).
import { CommanderError } from 'commander';
import { CliError, EXIT } from './client/errors.ts';
import { buildProgram } from './program.ts';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the help, the version or the usage error already.
    const shown = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code);
    process.exit(shown ? EXIT.ok : EXIT.usage);
  }
  if (error instanceof CliError) {
    if (process.argv.includes('--json')) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: error.code ?? 'error', message: error.message } })}\n`,
      );
    }
    process.stderr.write(`xgate: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  throw error;
}
