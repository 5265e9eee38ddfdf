import { parentPort } from 'node:worker_threads';
import { runTextJob, type TextJob } from './text-jobs.ts';

// The text worker's side of the pool protocol (src/posts/text-workers.ts): "ready" once loaded, then one
// answer per job, matched by id.
parentPort?.postMessage({ ready: true });
parentPort?.on('message', (message: { id: number; job: TextJob }) => {
  try {
    parentPort?.postMessage({ id: message.id, ok: true, result: runTextJob(message.job) });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, ok: false, message: String(error) });
  }
});
