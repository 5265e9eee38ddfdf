import { Worker } from 'node:worker_threads';
import { AppError, ServiceUnavailableError } from '../errors/index.ts';
import { runTextJob, type TextJob, type TextJobResults } from './text-jobs.ts';

/**
 * Text work (X's weighted length, thread splitting) off the event loop. twitter-text is far worse than linear
 * on some inputs (40,000 characters of `a.` take seconds), so every split and every check over {@link INLINE_MAX_CHARS} runs in a
 * worker thread with a time limit: a pathological text costs one worker its limit and its caller a 422, never
 * the requests and the dispatcher that share the event loop. Small checks (every ordinary tweet) run inline,
 * where the worst input costs about 12 ms, so posting never queues behind a pathological text.
 */
export interface TextWorkers {
  run<K extends TextJob['kind']>(job: Extract<TextJob, { kind: K }>): Promise<TextJobResults[K]>;
  /** Ends the workers; jobs still waiting are refused. */
  close(): Promise<void>;
}

/** 422 `text_too_complex`: the text took longer than the limit to measure. */
export class TextTooComplexError extends AppError {
  constructor(limitMs: number) {
    super(
      422,
      'text_too_complex',
      `The text could not be measured within ${limitMs} ms: it is built like no real post (e.g. thousands of dots with nothing between them). Shorten it or break up the long run without spaces.`,
      { details: { field: 'text', limitMs } },
    );
  }
}

export interface TextWorkersOptions {
  /** Threads at most (started when first needed). */
  size: number;
  /** Longest a job may run before its thread is ended and the job refused, in ms. */
  timeoutMs: number;
  /** Jobs that may wait for a thread; beyond that 503 `text_busy`. */
  maxQueue?: number;
}

interface Pending {
  job: TextJob;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  /** Ends the thread after IDLE_MS without a job: most deployments never need one (ordinary posts run inline). */
  idle: NodeJS.Timeout | null;
  /** Set once the thread has loaded the jobs: its boot time does not count against a job's limit. */
  ready: boolean;
  busy: Pending | null;
}

const WORKER_URL = new URL('./text-worker.js', import.meta.url);

/** A text thread unused this long ends (it holds about 25 MB); the next long text starts one again. */
const IDLE_MS = 60_000;

/**
 * Checks with at most this many characters in all run on the calling thread: twitter-text's worst case found
 * (`a.。` repeated) takes about 12 ms for 1,000 characters on this project's 2-core machine
 * (`npm run bench -- text`), and grows with the square of the length. Splits measure many prefixes, so
 * they always go to a worker.
 */
export const INLINE_MAX_CHARS = 1_000;

function runsInline(job: TextJob): boolean {
  return job.kind === 'check' && job.texts.reduce((sum, text) => sum + text.length, 0) <= INLINE_MAX_CHARS;
}

/** Builds the pool; no thread starts before the first job. */
export function createTextWorkers(options: TextWorkersOptions): TextWorkers {
  const maxQueue = options.maxQueue ?? 256;
  const slots = new Set<Slot>();
  const queue: Pending[] = [];
  let nextId = 0;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    // An idle pool must not keep the process alive.
    worker.unref();
    const slot: Slot = { worker, idle: null, ready: false, busy: null };
    worker.once('message', () => {
      slot.ready = true;
      pump();
    });
    worker.on('error', (error) => finish(slot, (p) => p.reject(error), true));
    worker.on('exit', () => {
      if (slots.delete(slot)) finish(slot, (p) => p.reject(new Error('the text worker exited')), false);
    });
    slots.add(slot);
    return slot;
  }

  function finish(slot: Slot, settle: (pending: Pending) => void, dead: boolean): void {
    const pending = slot.busy;
    slot.busy = null;
    if (dead && slots.delete(slot)) void slot.worker.terminate();
    if (pending) settle(pending);
    pump();
    if (!dead && slot.busy === null && slots.has(slot)) {
      slot.idle = setTimeout(() => {
        if (slot.busy === null && slots.delete(slot)) void slot.worker.terminate();
      }, IDLE_MS);
      slot.idle.unref();
    }
  }

  function start(slot: Slot, pending: Pending): void {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    slot.busy = pending;
    const id = nextId++;
    const timer = setTimeout(() => {
      slot.worker.off('message', onMessage);
      finish(slot, (p) => p.reject(new TextTooComplexError(options.timeoutMs)), true);
    }, options.timeoutMs);
    const onMessage = (message: { id: number; ok: boolean; result?: unknown; message?: string }) => {
      if (message.id !== id) return;
      clearTimeout(timer);
      slot.worker.off('message', onMessage);
      finish(
        slot,
        (p) => (message.ok ? p.resolve(message.result) : p.reject(new Error(message.message))),
        false,
      );
    };
    slot.worker.on('message', onMessage);
    slot.worker.postMessage({ id, job: pending.job });
  }

  function pump(): void {
    while (queue.length > 0 && !closed) {
      const slot = [...slots].find((s) => s.ready && s.busy === null);
      if (!slot) {
        if (slots.size < options.size && [...slots].every((s) => s.ready)) spawn();
        return;
      }
      start(slot, queue.shift()!);
    }
  }

  return {
    run(job) {
      if (runsInline(job)) return Promise.resolve(runTextJob(job) as never);
      if (closed) return Promise.reject(new ServiceUnavailableError('The service is stopping.', 'stopping'));
      if (queue.length >= maxQueue) {
        return Promise.reject(
          new ServiceUnavailableError(
            'Too much text is being checked right now; retry in a moment.',
            'text_busy',
          ),
        );
      }
      return new Promise((resolve, reject) => {
        queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const pending of queue.splice(0)) {
        pending.reject(new ServiceUnavailableError('The service is stopping.', 'stopping'));
      }
      await Promise.all([...slots].map((slot) => slot.worker.terminate()));
      slots.clear();
    },
  };
}
