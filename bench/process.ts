import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const BIN = join(import.meta.dirname, '..', 'bin', 'xgate.js');

/**
 * Spawns `bin/xgate.js …args` through its shebang (so with the node flags users get, on the `node` first on
 * PATH), and resolves once `ready()` answers true (polled every 10 ms).
 */
export async function spawnUntil(
  args: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
): Promise<{ child: ChildProcess; readyMs: number }> {
  const started = performance.now();
  const child = spawn(BIN, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`xgate ${args[0]} exited with ${child.exitCode}`);
    if (await ready().catch(() => false)) return { child, readyMs: performance.now() - started };
    if (performance.now() - started > 60_000) throw new Error(`xgate ${args[0]} did not get ready in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The resident memory of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * Posts each of `bodies` (as JSON) to `url` with `concurrency` requests in flight, from a worker thread
 * (bench/http-load.js) so the clients do not share the measured server's event loop; resolves with the time it
 * took and the count of each answer's status (`firstError`: the body of the first 4xx/5xx).
 */
export function httpLoad(options: {
  url: string;
  headers: Record<string, string>;
  bodies: unknown[];
  concurrency: number;
}): Promise<{ elapsedMs: number; statuses: Record<string, number> }> {
  const worker = new Worker(new URL('./http-load.js', import.meta.url), { workerData: options });
  return new Promise((resolve, reject) => {
    worker.once('message', (result) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * CPU time (user + system, all threads: the garbage collector's too) this process spends until stopped, in ms. The
 * emulator, PostgreSQL and Redis run in processes of their own and are not in it.
 */
export function cpuMeter(): { stop(): number } {
  const start = process.cpuUsage();
  return {
    stop() {
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1000;
    },
  };
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux). */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** CPU of every process named `comm` now, in ms, children they reaped included (Linux /proc). */
function cpuOfCommand(comm: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (name !== comm) continue;
    // After "pid (comm) ": state is field 0; utime, stime, cutime, cstime are fields 11–14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / ticksPerSecond();
}

/**
 * CPU time the processes named `comm` on this machine (e.g. `postgres`, `redis-server`) spend until stopped, in ms;
 * null where /proc cannot tell (not Linux). A database on another machine is not seen: 0.
 */
export function commandCpuMeter(comm: string): { stop(): number | null } {
  if (!existsSync('/proc/self/stat')) return { stop: () => null };
  const start = cpuOfCommand(comm);
  return { stop: () => Math.round(cpuOfCommand(comm) - start) };
}
