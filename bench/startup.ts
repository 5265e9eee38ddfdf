import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from '../test/helpers/cli.ts';
import { freePort } from '../test/helpers/ports.ts';
import { rssMb, spawnUntil } from './process.ts';

const RUNS = Number(process.env.XGATE_BENCH_STARTUP_RUNS ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * How fast xgate starts and how much memory it holds idle, on the Node.js that runs the benchmark: `xgate --help`
 * (the CLI's cost before any work), `xgate queue` against the running server (a client command: start-up and one
 * request), and `xgate serve` in sandbox mode (the emulator in-process, a fresh data dir,
 * SQLite) from spawn to `/readyz` 200, then its resident memory after 3 s idle. Medians of RUNS runs.
 */
export async function run(): Promise<Record<string, unknown>> {
  const help: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = spawnSync(join(import.meta.dirname, '..', 'bin', 'xgate.js'), ['--help'], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`xgate --help failed: ${result.stderr}`);
    help.push(performance.now() - started);
  }

  const ready: number[] = [];
  const idle: number[] = [];
  const client: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-startup-'));
    const port = await freePort();
    let child: ChildProcess | undefined;
    try {
      const serve = await spawnUntil(
        ['serve'],
        {
          HOST: '127.0.0.1',
          PORT: String(port),
          XGATE_SANDBOX_EMULATOR_PORT: '0',
          XGATE_DATA_DIR: dir,
          LOG_LEVEL: 'warn',
        },
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      );
      child = serve.child;
      ready.push(serve.readyMs);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      idle.push(rssMb(child.pid!));
      // The client's cost for one command: start-up plus one request (an unknown key, so it stops at the 401).
      const started = performance.now();
      const queue = spawnSync(join(import.meta.dirname, '..', 'bin', 'xgate.js'), ['queue'], {
        env: {
          PATH: process.env.PATH ?? '',
          XGATE_URL: `http://127.0.0.1:${port}`,
          XGATE_API_KEY: 'xg_bench',
        },
        encoding: 'utf8',
      });
      if (queue.status !== 4) throw new Error(`xgate queue exited ${queue.status}: ${queue.stderr}`);
      client.push(performance.now() - started);
    } finally {
      if (child) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    runs: RUNS,
    helpMs: Math.round(median(help)),
    clientCommandMs: Math.round(median(client)),
    serveReadyMs: Math.round(median(ready)),
    serveIdleRssMb: median(idle),
  };
}
