// A load generator in its own thread, so the clients' work does not share the measured server's event loop (as
// real clients would not): posts each of `requests` (JSON bodies) to `url` with `concurrency` in flight, and
// answers the time it took and how many answered each status. Plain JavaScript: worker threads do not inherit
// the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';

const { url, headers, bodies, concurrency } = workerData;
const statuses = {};
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const answer = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      if (answer.status >= 400 && !statuses.firstError) statuses.firstError = await answer.text();
      else await answer.arrayBuffer();
    }
  }),
);
parentPort.postMessage({ elapsedMs: performance.now() - started, statuses });
