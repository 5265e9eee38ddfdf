/** The exit codes of the command-line client (README, "The command line"). */
export const EXIT = {
  ok: 0,
  /** The operation failed: X refused the post, a post ended failed or needs review under --wait, a server error. */
  failed: 1,
  /** A usage error: unknown command or flag, missing text, a time that cannot be read. */
  usage: 2,
  /** Authentication needed: not logged in, key revoked or invalid, or the account needs reconnecting. */
  auth: 4,
} as const;

/** An error the client reports as one sentence on stderr (or `{error}` with --json) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    /** The API's error code, when the server gave one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage, 'usage');
