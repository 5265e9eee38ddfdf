import type { Logger } from 'pino';
import { pause } from './clock.ts';
import type { AppDeps } from './deps.ts';

/**
 * A background loop the worker runs (refresher, dispatcher, purges…). The runner calls `runOnce` again at
 * once while it reports work done, and waits `idleMs` after an idle round or an error.
 */
export interface WorkerLoop {
  /** Short name for logs, e.g. `dispatcher`. */
  name: string;
  /**
   * Does one bounded batch of work and returns how many items it handled (0 = nothing to do).
   * `signal` aborts when the worker stops: stop claiming new work, finish or release what is in hand, return.
   */
  runOnce(signal: AbortSignal): Promise<number>;
  /** Pause after a round that found nothing to do (and after an error), in ms; read after each round, so a loop may
   * shorten it (the dispatcher waits only until the next post is due). */
  idleMs: number;
}

/** Builds a loop from the app's dependencies. List factories in `src/modules.ts`. */
export type WorkerLoopFactory = (deps: AppDeps) => WorkerLoop;

/** Runs loops concurrently until stopped. */
export interface Worker {
  start(): void;
  /** Stops taking work, waits for every in-flight `runOnce` to return. */
  stop(): Promise<void>;
}

/** Longest pause after repeated failures (e.g. the database is down), in ms. */
const MAX_ERROR_PAUSE_MS = 60_000;

/** `idleMs` after the first failure, doubling with each failure in a row, capped at MAX_ERROR_PAUSE_MS. */
export function errorPauseMs(idleMs: number, failuresInARow: number): number {
  return Math.min(
    Math.max(idleMs, 1) * 2 ** Math.min(failuresInARow - 1, 30),
    Math.max(idleMs, MAX_ERROR_PAUSE_MS),
  );
}

/**
 * Creates a worker over `loops`. An error thrown by a loop is logged and the loop carries on after
 * {@link errorPauseMs}, so a loop that keeps failing (database down) backs off instead of flooding the log.
 */
export function createWorker(loops: readonly WorkerLoop[], log: Logger): Worker {
  const controller = new AbortController();
  const running: Promise<void>[] = [];

  async function run(loop: WorkerLoop): Promise<void> {
    const signal = controller.signal;
    let failures = 0;
    while (!signal.aborted) {
      let done = 0;
      try {
        done = await loop.runOnce(signal);
        failures = 0;
      } catch (error) {
        failures++;
        const pauseMs = errorPauseMs(loop.idleMs, failures);
        log.error(
          { err: error, loop: loop.name, failures, pauseMs },
          'worker loop failed; retrying after a pause',
        );
        await pause(pauseMs, signal);
        continue;
      }
      if (done === 0) await pause(loop.idleMs, signal);
    }
  }

  return {
    start() {
      if (running.length > 0 || controller.signal.aborted) throw new Error('the worker was already started');
      for (const loop of loops) running.push(run(loop));
      log.info({ loops: loops.map((l) => l.name) }, 'worker started');
    },
    async stop() {
      controller.abort();
      await Promise.all(running);
    },
  };
}
