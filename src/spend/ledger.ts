import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { GroupCommit } from '../db/group-commit.ts';
import type { Database } from '../db/index.ts';
import type { XCallContext, XCallOutcome } from '../x/index.ts';
import { chargesOf } from './charges.ts';
import type { AppPauses } from './pause.ts';
import type { PriceTable } from './prices.ts';
import { type CallCharges, recordCharges } from './spend.repository.ts';

const DAY_MS = 86_400_000;
/**
 * Least time between the starts of two writes of the ledger. Under load each then carries the calls of that stretch
 * in one statement (the dispatcher at ~800 calls/s wrote one statement per 4 calls, half of all its statements); a
 * crash loses no more than before, as the calls wait in memory either way.
 */
const WRITE_INTERVAL_MS = 100;

interface SpendLedgerDeps {
  db: Kysely<Database>;
  /** The ledger's writes share commits with the dispatcher's (see `src/db/group-commit.ts`). */
  writes: GroupCommit;
  clock: Clock;
  log: Logger;
  prices: PriceTable;
  pauses: AppPauses;
}

/**
 * The spend ledger: every v2 call X answered is priced by the price table (reads once per resource and UTC day)
 * and recorded per X account and day; the operator's totals are the Prometheus counters
 * `xgate_x_spend_usd_total` and `xgate_x_billed_calls_total` (by operation). It also watches for X refusing the
 * app (402, 403 client-not-enrolled) to pause it, and for any accepted call while paused, to resume.
 *
 * The X client reports synchronously; writes are queued in order (calls batched) and `flush()` waits for them.
 */
export class SpendLedger {
  readonly #deps: SpendLedgerDeps;
  readonly #usd: Counter<'operation'>;
  readonly #calls: Counter<'operation'>;
  #queue: Promise<void> = Promise.resolve();
  /** The calls waiting for the next write (null: the next call starts one). */
  #batch: CallCharges[] | null = null;
  /** When the last write started (monotonic ms), and how to end the wait for the next one early (`flush`). */
  #lastWrite = Number.NEGATIVE_INFINITY;
  #endWait: (() => void) | null = null;
  /** A flush is waiting: the writes before it do not wait for their interval. */
  #flushing = false;

  constructor(deps: SpendLedgerDeps, metrics: Registry) {
    this.#deps = deps;
    this.#usd = new Counter({
      name: 'xgate_x_spend_usd_total',
      help: 'Estimated X charges (USD) of the calls xgate made, by operation (pay-per-use price table).',
      labelNames: ['operation'],
      registers: [metrics],
    });
    this.#calls = new Counter({
      name: 'xgate_x_billed_calls_total',
      help: 'Billed X charges, by operation (reads counted once per resource and UTC day).',
      labelNames: ['operation'],
      registers: [metrics],
    });
  }

  /**
   * The X client's `onOutcome`: never throws, never waits. Calls answered while earlier ones are being written
   * are written together, in one transaction (the dispatcher makes hundreds a second); a refusal that pauses the
   * app closes the batch, so what follows it is written after the pause.
   */
  observe(outcome: XCallOutcome, context: XCallContext): void {
    if ('error' in outcome) {
      if (outcome.error.failureClass === 'app') {
        this.#batch = null;
        this.#enqueue(() => this.#deps.pauses.pause(outcome.error));
      }
      return;
    }
    const charges = chargesOf(outcome).map((charge) => ({
      ...charge,
      usd: this.#deps.prices[charge.operation],
    }));
    const call = {
      xUserId: context.xUserId ?? meOf(outcome) ?? '',
      day: Math.floor(this.#deps.clock.now() / DAY_MS),
      charges,
    };
    if (this.#batch) {
      this.#batch.push(call);
      return;
    }
    const batch = [call];
    this.#batch = batch;
    this.#enqueue(async () => {
      await this.#spaced();
      if (this.#batch === batch) this.#batch = null;
      if (await this.#deps.pauses.isPaused()) await this.#deps.pauses.resume();
      for (const charge of await this.#deps.writes.run((db) => recordCharges(db, batch))) {
        this.#usd.inc({ operation: charge.operation }, charge.usd);
        this.#calls.inc({ operation: charge.operation });
      }
    });
  }

  /** Waits until everything observed so far is written (at once, without the interval between writes). */
  flush(): Promise<void> {
    this.#flushing = true;
    this.#endWait?.();
    const written = this.#queue;
    return written.finally(() => {
      if (this.#queue === written) this.#flushing = false;
    });
  }

  /** Waits until WRITE_INTERVAL_MS after the last write started (or a flush), then marks this one's start. */
  async #spaced(): Promise<void> {
    const wait = this.#lastWrite + WRITE_INTERVAL_MS - performance.now();
    if (wait > 0 && !this.#flushing) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(end, wait);
        timer.unref();
        function end() {
          clearTimeout(timer);
          resolve();
        }
        this.#endWait = end;
      });
      this.#endWait = null;
    }
    this.#lastWrite = performance.now();
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((error) => {
      this.#deps.log.warn({ err: error }, 'could not record the estimated X charges of a call');
    });
  }
}

/** The X user of a `GET /2/users/me` answer (signing in, before the account is known). */
function meOf(outcome: XCallOutcome): string | undefined {
  if (!('answer' in outcome) || outcome.request.endpoint !== 'GET /2/users/me') return undefined;
  const id = (outcome.answer as { data?: { id?: unknown } } | undefined)?.data?.id;
  return typeof id === 'string' ? id : undefined;
}
