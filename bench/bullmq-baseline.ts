import { connect } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { XClient } from '../src/x/index.ts';
import { commandCpuMeter, cpuMeter } from './process.ts';

const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

/** Whether Redis answers at 127.0.0.1:6379 (BullMQ's home); the baseline is skipped without it. */
export function redisAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: REDIS.host, port: REDIS.port, timeout: 1000 });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * The publisher a user would otherwise write: BullMQ delayed jobs, all due at one instant, one Worker with
 * `concurrency`, each job carrying its token and posting straight to X (the emulator) — no database, no guarantee
 * that a crash between the send and the job's completion does not post twice. Posts per second from the due
 * instant to the last completion.
 */
export async function bullmqRun(
  x: XClient,
  tokens: readonly string[],
  options: { posts: number; concurrency: number; label: string },
): Promise<{ postsPerSecond: number; seconds: number; cpuMs: number; redisCpuMs: number | null }> {
  const name = `xgate-bench-${options.label}-${Date.now()}`;
  // BullMQ 6 takes a client made by the caller under native ESM.
  const connection = new Redis(REDIS);
  const queue = new Queue(name, { connection });
  const dueAt = Date.now() + 2000 + options.posts / 5;
  try {
    for (let start = 0; start < options.posts; start += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, options.posts - start) }, (_, k) => {
          const i = start + k;
          return {
            name: 'post',
            data: { token: tokens[i % tokens.length], text: `${options.label} bullmq ${i}` },
            opts: { delay: Math.max(0, dueAt - Date.now()), removeOnComplete: true, removeOnFail: true },
          };
        }),
      );
    }
    let done = 0;
    let finished: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const cpu = cpuMeter();
    const redisCpu = commandCpuMeter('redis-server');
    const worker = new Worker(
      name,
      async (job) => {
        await x.forToken(job.data.token as string).createTweet({ text: job.data.text as string });
      },
      { connection, concurrency: options.concurrency },
    );
    worker.on('completed', () => {
      if (++done === options.posts) finished();
    });
    worker.on('failed', (_job, error) => {
      throw error;
    });
    await all;
    const cpuMs = cpu.stop();
    const redisCpuMs = redisCpu.stop();
    const seconds = (Date.now() - Math.max(dueAt, 0)) / 1000;
    await worker.close();
    return {
      postsPerSecond: Math.round(options.posts / seconds),
      seconds: Number(seconds.toFixed(2)),
      cpuMs,
      redisCpuMs,
    };
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}
