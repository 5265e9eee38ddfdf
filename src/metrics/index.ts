import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { thinSnapshots } from './metrics.repository.ts';
import { DAY_MS, PRIVATE_METRICS_DAYS } from './schedule.ts';

export { type CollectorSettings, MetricsCollector } from './collector.ts';
export { metricsRoutes } from './metrics.routes.ts';

/** Worker loop `metrics`: the collector (off with XGATE_METRICS=false). */
export const metricsLoop: WorkerLoopFactory = (deps): WorkerLoop => {
  const collector = deps.metricsCollector();
  return {
    name: 'metrics',
    idleMs: deps.config.metricsPollMs,
    runOnce: (signal) => (deps.config.metricsEnabled ? collector.runOnce(signal) : Promise.resolve(0)),
  };
};

/** Snapshots deleted per round of the thinning. */
const THIN_BATCH = 5000;

/** Worker loop: keeps one snapshot per tweet and UTC day once snapshots are older than 30 days. */
export const metricsThinLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'metrics-thin',
  idleMs: 60 * 60_000,
  runOnce: () => thinSnapshots(deps.db, deps.clock.now() - PRIVATE_METRICS_DAYS * DAY_MS, THIN_BATCH),
});
