import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createWorker, errorPauseMs, type WorkerLoop } from './worker.ts';

const silent = pino({ level: 'silent' });

describe('worker', () => {
  it('runs loops again at once while they find work, pauses when idle, and survives errors', async () => {
    const calls: string[] = [];
    let queue = 3;
    let failures = 1;
    const busy: WorkerLoop = {
      name: 'busy',
      idleMs: 5,
      async runOnce() {
        if (failures-- > 0) {
          calls.push('error');
          throw new Error('boom');
        }
        if (queue === 0) return 0;
        queue--;
        calls.push('item');
        return 1;
      },
    };
    const worker = createWorker([busy], silent);
    worker.start();
    while (queue > 0) await new Promise((r) => setTimeout(r, 5));
    await worker.stop();
    expect(calls).toEqual(['error', 'item', 'item', 'item']);
  });

  it('stop() aborts the signal and waits for the in-flight round to finish', async () => {
    let finished = false;
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const slow: WorkerLoop = {
      name: 'slow',
      idleMs: 60_000,
      async runOnce(signal) {
        started();
        await new Promise<void>((r) =>
          signal.addEventListener('abort', () => setTimeout(r, 20), { once: true }),
        );
        finished = true;
        return 1;
      },
    };
    const worker = createWorker([slow], silent);
    worker.start();
    await running;
    await worker.stop();
    expect(finished).toBe(true);
  });

  it('does not wait out an idle pause when stopped', async () => {
    const idle: WorkerLoop = { name: 'idle', idleMs: 3_600_000, runOnce: async () => 0 };
    const worker = createWorker([idle], silent);
    worker.start();
    await new Promise((r) => setTimeout(r, 10));
    await worker.stop();
    expect(() => worker.start()).toThrow();
  });

  it('backs off after failures in a row, up to a minute', () => {
    expect([1, 2, 3, 4].map((n) => errorPauseMs(1000, n))).toEqual([1000, 2000, 4000, 8000]);
    expect(errorPauseMs(1000, 50)).toBe(60_000);
    expect(errorPauseMs(120_000, 3)).toBe(120_000);
  });
});
