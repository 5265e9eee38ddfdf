import { Worker } from 'node:worker_threads';
import { createEmulator } from '../emulator/index.ts';
import { authorizeUser } from '../emulator/testing/oauth.ts';

/** Concurrent requests in flight, each lane on its own keep-alive connection. */
const CONCURRENCY = 48;
/** Measured run; a short warm-up before it is not counted. */
const DURATION_MS = 5000;
const WARMUP_MS = 500;

/**
 * The load generator, in a worker thread so it does not share the emulator's event loop: `lanes`
 * loops, each posting unique texts over one keep-alive socket, recording each latency after warm-up.
 */
const LOAD_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, token, lanes, warmupMs, durationMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: lanes });
const latencies = [];
let failures = 0;
let statuses = {};
const started = performance.now();
const measureFrom = started + warmupMs;
const stopAt = measureFrom + durationMs;
function post(text) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ text });
    const req = http.request({ host: '127.0.0.1', port, path: '/2/tweets', method: 'POST', agent, headers: {
      authorization: 'Bearer ' + token, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
    } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
async function lane(n) {
  for (let i = 0; ; i++) {
    const t0 = performance.now();
    if (t0 >= stopAt) return;
    const status = await post('bench lane ' + n + ' tweet ' + i + ' ' + Math.random().toString(36).slice(2));
    const t1 = performance.now();
    if (t0 < measureFrom) continue;
    if (status === 201) latencies.push(t1 - t0); else { failures++; statuses[status] = (statuses[status] || 0) + 1; }
  }
}
Promise.all(Array.from({ length: lanes }, (_, n) => lane(n))).then(() => {
  agent.destroy();
  parentPort.postMessage({ latencies, failures, statuses, measuredMs: Math.min(performance.now(), stopAt) - measureFrom });
});
`;

interface LoadResult {
  latencies: number[];
  failures: number;
  statuses: Record<string, number>;
  measuredMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Emulator throughput: `POST /2/tweets` with unique texts from one user (tier `unlimited`, no state
 * file) over keep-alive connections, `CONCURRENCY` in flight for `DURATION_MS`.
 */
export async function run(): Promise<object> {
  const emulator = await createEmulator({ tier: 'unlimited' });
  const url = await emulator.listen();
  try {
    const client = { clientId: 'bench', redirectUri: 'http://127.0.0.1/cb' };
    emulator.control.registerClient({ clientId: client.clientId, redirectUris: [client.redirectUri] });
    const user = emulator.control.createUser({ username: 'bench' });
    const token = await authorizeUser(url, { ...client, userId: user.id });
    const result = await new Promise<LoadResult>((resolve, reject) => {
      const worker = new Worker(LOAD_SCRIPT, {
        eval: true,
        workerData: {
          port: Number(new URL(url).port),
          token: token.access_token,
          lanes: CONCURRENCY,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
        },
      });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const sorted = result.latencies.sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      tweetsPerSecond: Math.round((sorted.length / result.measuredMs) * 1000),
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      requests: sorted.length + result.failures,
      failures: result.failures,
      ...(result.failures > 0 ? { failureStatuses: result.statuses } : {}),
      concurrency: CONCURRENCY,
      durationMs: Math.round(result.measuredMs),
    };
  } finally {
    await emulator.close();
  }
}
