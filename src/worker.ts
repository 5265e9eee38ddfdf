import type { Logger } from 'pino';
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
  /** Pause after a round that found nothing to do (and after an error), in ms. */
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Creates a worker over `loops`; errors thrown by a loop are logged and the loop carries on after `idleMs`. */
export function createWorker(loops: readonly WorkerLoop[], log: Logger): Worker {
  const controller = new AbortController();
  const running: Promise<void>[] = [];

  async function run(loop: WorkerLoop): Promise<void> {
    const signal = controller.signal;
    while (!signal.aborted) {
      let done = 0;
      try {
        done = await loop.runOnce(signal);
      } catch (error) {
        log.error({ err: error, loop: loop.name }, 'worker loop failed; retrying after its idle pause');
      }
      if (done === 0) await sleep(loop.idleMs, signal);
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
