import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { createContext } from './context.ts';
import { type ClientInput, createControl, type EmulatorControl } from './control.ts';
import { StateFile } from './persistence.ts';
import { createState, type EmulatorState, type Tier } from './state.ts';

export type { AuthedUser, EmulatorClock, EmulatorContext } from './context.ts';
export type { AdminTweet, ClientInput, EmulatorControl, FaultRuleInput, UserInput } from './control.ts';
export type { RequestLogEntry } from './request-log.ts';
export type { EmuMedia, EmuTweet, SubscriptionType, Tier } from './state.ts';
export { TIERS } from './state.ts';
export { ControlError } from './validation.ts';

/** How to start an emulator. */
export interface EmulatorOptions {
  /** Rate-limit profile; default `ppu`. When given it overrides the tier stored in `statePath`. */
  tier?: Tier;
  /** OAuth clients registered at start (and again after a reset). */
  clients?: ClientInput[];
  /** A JSON file holding the state across restarts: read at start if present, written after changes and on close. */
  statePath?: string;
  /** Base time source in epoch ms (default `Date.now`); `control.advanceClock` moves the emulator ahead of it. */
  now?: () => number;
  /** Fastify's request logging (pino to stdout); default off. */
  log?: boolean;
  /**
   * A text equal to one of the same user's live tweets created this many seconds ago or less is refused as
   * duplicate content (default 86,400; X does not document its window). Kept across resets.
   */
  duplicateWindowSeconds?: number;
}

/** A running (or ready to listen) X API emulator. */
export interface Emulator {
  /** Starts listening (default `127.0.0.1`, port 0 = any free port) and returns the base URL. */
  listen(opts?: { port?: number; host?: string }): Promise<string>;
  /** Base URL once listening (e.g. `http://127.0.0.1:4010`), else an empty string. */
  readonly url: string;
  /** Stops listening, cuts held connections, writes the state file. */
  close(): Promise<void>;
  control: EmulatorControl;
  /** The Fastify instance, for in-process `inject()` calls. */
  app: FastifyInstance;
}

/** Builds an X API emulator (see emulator/README.md). */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const startTier = options.tier ?? 'ppu';
  const baseNow = options.now ?? Date.now;
  let state: EmulatorState = createState(startTier);
  const stateFile = options.statePath === undefined ? null : new StateFile(options.statePath, () => state);
  const loaded = stateFile?.load(startTier) ?? null;
  if (loaded !== null) {
    state = loaded;
    if (options.tier !== undefined) state.tier = options.tier;
  }
  if (options.duplicateWindowSeconds !== undefined)
    state.duplicateWindowMs = options.duplicateWindowSeconds * 1000;

  const ctx = createContext({
    state,
    clock: { now: () => baseNow() + state.clockOffsetMs },
    markDirty: () => stateFile?.markDirty(),
  });
  const initialClients = options.clients ?? [];
  const control = createControl({ ctx, initialTier: startTier, initialClients });
  for (const client of initialClients) control.registerClient(client);

  const app = await buildApp({ ctx, control, log: options.log ?? false });
  let url = '';
  return {
    async listen(opts = {}) {
      const address = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
      url = address.replace('://[::1]', '://localhost');
      return url;
    },
    get url() {
      return url;
    },
    async close() {
      await app.close();
      await stateFile?.flush();
    },
    control,
    app,
  };
}
