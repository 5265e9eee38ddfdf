import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'xgate.js');

/** A running `xgate …` child process with its output so far. */
export interface XgateProcess {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exit: Promise<number | null>;
  /** The JSON log lines printed so far. */
  logLines(): { msg: string; [key: string]: unknown }[];
}

/** The parent's environment without anything that configures xgate (so sandbox mode is not disturbed), plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(X_|XGATE_|DATABASE_URL$|PUBLIC_URL$|HOST$|PORT$|LOG_LEVEL$)/.test(k),
    ),
  );
  return { ...base, ...env };
}

/** Sends `signal` to a child process and resolves once it has exited (at once if it already has). */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Runs `node bin/xgate.js …args` with a clean environment plus `env`. Kill it in `afterEach`/`afterAll`. */
export function spawnXgate(args: string[], env: Record<string, string> = {}): XgateProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exit,
    logLines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string }),
  };
}

/** Polls `probe` (every 100 ms, up to 30 s) until it returns a value; fails early if the process exited. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  child: XgateProcess,
): Promise<T> {
  for (let i = 0; i < 300; i++) {
    if (child.process.exitCode !== null)
      throw new Error(`exited before ${what}:\n${child.stdout()}\n${child.stderr()}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${child.stdout()}\n${child.stderr()}`);
}

/** Waits until `baseUrl/readyz` answers 200. */
export function waitUntilReady(baseUrl: string, child: XgateProcess): Promise<true> {
  return waitFor(
    async () => ((await fetch(`${baseUrl}/readyz`)).status === 200 ? true : undefined),
    '/readyz 200',
    child,
  );
}

/** Runs `node bin/xgate.js …args` to the end with `input` on stdin; resolves with its exit code and output. */
export function runXgate(
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(input);
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}
