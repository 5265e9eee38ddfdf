import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/index.ts';
import { appendEvents } from '../events/index.ts';
import { listUserIds } from '../users/users.repository.ts';
import type { XError } from '../x/index.ts';
import { type AppPause, deletePause, findPause, insertPause, scheduleProbe } from './spend.repository.ts';

/** The first probe after a pause, and the longest wait between probes (doubling in between). */
export const FIRST_PROBE_MS = 60_000;
export const MAX_PROBE_MS = 60 * 60_000;
/** How long a process trusts what it last read of the pause (every process reads the same row). */
const CACHE_MS = 1000;

/** What X's refusal means and what the operator does about it, in words. */
export function pauseReason(error: XError): string {
  if (error.code === 'x_client_not_enrolled') {
    return `X answered 403 client-not-enrolled (${error.detail ?? 'client forbidden'}): the X app is not attached to a package that allows this. Move the app to the Pay-per-use package in the X developer console; xgate resumes by itself once X accepts calls again (or POST /api/v1/admin/resume to check now).`;
  }
  return `X answered 402 Payment Required (${error.detail ?? 'credits depleted'}): the app's pay-per-use credits are used up. Top up credits at console.x.com; xgate resumes by itself once X accepts calls again (or POST /api/v1/admin/resume to check now).`;
}

/**
 * The app-wide pause: X's 402 (credits depleted) and 403 `client-not-enrolled` refuse the app, not a post, so on
 * the first one publishing and metrics collection stop for every account (posts stay `scheduled`), every user
 * gets an `app.paused` event, and a probe asks X again with backoff; the first call X accepts resumes everything
 * with `app.resumed`. The state is one row, so every process sees it.
 */
export class AppPauses {
  readonly #deps: { db: Kysely<Database>; clock: Clock; log: Logger };
  #cached: { value: AppPause | null; at: number } | null = null;

  constructor(deps: { db: Kysely<Database>; clock: Clock; log: Logger }) {
    this.#deps = deps;
  }

  /** The pause, or null when X accepts the app (read at most once a second per process). */
  async current(): Promise<AppPause | null> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < CACHE_MS) return this.#cached.value;
    const value = await findPause(this.#deps.db);
    this.#cached = { value, at: now };
    return value;
  }

  async isPaused(): Promise<boolean> {
    return (await this.current()) !== null;
  }

  /** X refused the app: pause (once; a later refusal only pushes the next probe back). */
  async pause(error: XError): Promise<void> {
    const { db, clock, log } = this.#deps;
    const now = clock.now();
    const reason = pauseReason(error);
    const started = await db.transaction().execute(async (trx) => {
      const inserted = await insertPause(trx, {
        code: error.code,
        detail: reason,
        since: now,
        nextProbeAt: now + FIRST_PROBE_MS,
        probeIntervalMs: FIRST_PROBE_MS,
      });
      if (!inserted) return false;
      const users = await listUserIds(trx);
      await appendEvents(
        trx,
        users.map((userId) => ({
          type: 'app.paused' as const,
          userId,
          at: now,
          data: { code: error.code, reason, since: now },
        })),
      );
      return true;
    });
    this.#cached = null;
    if (started) log.error({ code: error.code }, `Publishing and metrics collection are paused: ${reason}`);
  }

  /** X accepted a call: resume, with `app.resumed` for every user. */
  async resume(): Promise<void> {
    const { db, clock, log } = this.#deps;
    const now = clock.now();
    const ended = await db.transaction().execute(async (trx) => {
      const pause = await findPause(trx);
      if (!pause || !(await deletePause(trx))) return null;
      const users = await listUserIds(trx);
      await appendEvents(
        trx,
        users.map((userId) => ({
          type: 'app.resumed' as const,
          userId,
          at: now,
          data: { code: pause.code, reason: 'X accepts calls from the app again.', since: pause.since },
        })),
      );
      return pause;
    });
    this.#cached = null;
    if (ended)
      log.info(
        { code: ended.code, pausedMs: now - ended.since },
        'X accepts the app again: publishing and metrics collection resume.',
      );
  }

  /** A probe was refused again: wait twice as long (at most an hour) before the next. */
  async probeRefused(pause: AppPause): Promise<void> {
    const interval = Math.min(MAX_PROBE_MS, pause.probeIntervalMs * 2);
    await scheduleProbe(this.#deps.db, this.#deps.clock.now() + interval, interval);
    this.#cached = null;
  }
}
