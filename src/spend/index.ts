import type { WorkerLoop, WorkerLoopFactory } from '../worker.ts';
import { probeX } from './probe.ts';
import { purgeReadDays } from './spend.repository.ts';

export { type Charge, chargesOf, createOperation, threadCost } from './charges.ts';
export { SpendLedger } from './ledger.ts';
export { AppPauses, pauseReason } from './pause.ts';
export { DEFAULT_PRICES, loadPrices, type Operation, PRICES_AS_OF, type PriceTable } from './prices.ts';
export { spendRoutes } from './spend.routes.ts';

/**
 * Worker loop `app-probe`: while the app is paused, asks X again when the next probe is due ({@link probeX}).
 */
export const appProbeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'app-probe',
  idleMs: 5000,
  async runOnce() {
    const pause = await deps.pauses.current();
    if (!pause || deps.clock.now() < pause.nextProbeAt) return 0;
    await probeX(deps);
    return 1;
  },
});

/** Worker loop: forgets which resources were billed a read on days before yesterday (only today's count). */
export const spendPurgeLoop: WorkerLoopFactory = (deps): WorkerLoop => ({
  name: 'spend-purge',
  idleMs: 60 * 60_000,
  runOnce: () => purgeReadDays(deps.db, Math.floor(deps.clock.now() / 86_400_000) - 1),
});
