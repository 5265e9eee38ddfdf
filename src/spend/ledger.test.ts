import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle, migrateToLatest } from '../db/index.ts';
import type { XCallOutcome } from '../x/index.ts';
import { SpendLedger } from './ledger.ts';
import type { AppPauses } from './pause.ts';
import { DEFAULT_PRICES } from './prices.ts';
import { spendByDay } from './spend.repository.ts';

const NOW = Date.UTC(2026, 11, 1);
const DAY = Math.floor(NOW / 86_400_000);

/** A tweet X published, as the X client reports it. */
const published = (id: string): XCallOutcome => ({
  request: {
    endpoint: 'POST /2/tweets',
    kind: 'create',
    method: 'POST',
    path: '/2/tweets',
    json: { text: 'hi' },
  },
  answer: { data: { id } },
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SpendLedger', () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.destroy();
  });

  it('writes the calls answered soon after a write together, and a flush writes them at once', async () => {
    handle = await createDatabase('sqlite::memory:');
    await migrateToLatest(handle.db);
    const { db } = handle;
    let writes = 0;
    const ledger = new SpendLedger(
      {
        db,
        writes: {
          run: (write) => {
            writes += 1;
            return write(db);
          },
        },
        clock: { now: () => NOW },
        log: pino({ level: 'silent' }),
        prices: DEFAULT_PRICES,
        pauses: { isPaused: async () => false } as unknown as AppPauses,
      },
      new Registry(),
    );
    ledger.observe(published('1'), { xUserId: 'u1' });
    await turn();
    await turn();
    expect(writes).toBe(1);
    // Answered after that write: they wait for its interval, together, instead of one write each.
    for (const id of ['2', '3', '4']) {
      ledger.observe(published(id), { xUserId: 'u1' });
      await turn();
      await turn();
    }
    expect(writes).toBe(1);
    await ledger.flush();
    expect(writes).toBe(2);
    expect(await spendByDay(db, ['u1'], DAY, DAY)).toEqual([
      { xUserId: 'u1', day: DAY, calls: 4, usd: 4 * DEFAULT_PRICES.post },
    ]);
  });
});
