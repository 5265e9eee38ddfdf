import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/**
 * Runs `work`; with XGATE_BENCH_CPU_PROFILE=DIR set, records a V8 CPU profile of it alone (not the bench's fill
 * or baselines) into `DIR/<name>.cpuprofile`, to read with `node scripts/profile-top.js`; with
 * XGATE_BENCH_HEAP_PROFILE=DIR, a sampling heap profile of what it allocated (collected or not) into
 * `DIR/<name>.heapprofile`, to read with `node scripts/heap-top.js`.
 */
export async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  const cpuDir = process.env.XGATE_BENCH_CPU_PROFILE;
  const heapDir = process.env.XGATE_BENCH_HEAP_PROFILE;
  if (!cpuDir && !heapDir) return work();
  const session = new Session();
  session.connect();
  if (cpuDir) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (heapDir) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  const save = (dir: string, file: string, profile: unknown) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), JSON.stringify(profile));
  };
  try {
    return await work();
  } finally {
    if (cpuDir) save(cpuDir, `${name}.cpuprofile`, (await session.post('Profiler.stop')).profile);
    if (heapDir)
      save(heapDir, `${name}.heapprofile`, (await session.post('HeapProfiler.stopSampling')).profile);
    session.disconnect();
  }
}
