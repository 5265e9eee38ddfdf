import { existsSync, readFileSync } from 'node:fs';
import { chmod, rename, writeFile } from 'node:fs/promises';
import { createState, type EmulatorState, TIERS, type Tier } from './state.ts';

/** Maps are written as `{"$map": [[key, value]…]}` so any Map field of the state round-trips. */
const MAP_TAG = '$map';

/** The state as JSON text. */
export function serializeState(state: EmulatorState): string {
  return JSON.stringify({ version: 1, state }, (_key, value: unknown) =>
    value instanceof Map ? { [MAP_TAG]: [...value.entries()] } : value,
  );
}

/**
 * Reads JSON written by `serializeState` over a fresh state, so fields added since the file was
 * written start from their defaults.
 */
export function deserializeState(text: string, fallbackTier: Tier): EmulatorState {
  const parsed = JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && MAP_TAG in value) {
      return new Map((value as Record<string, [unknown, unknown][]>)[MAP_TAG]);
    }
    return value;
  }) as { version?: unknown; state?: Partial<EmulatorState> };
  if (parsed.version !== 1 || parsed.state === undefined || typeof parsed.state !== 'object') {
    throw new Error('not an emulator state file (expected {"version":1,"state":{…}})');
  }
  const loaded = { ...createState(fallbackTier), ...parsed.state };
  if (!TIERS.includes(loaded.tier)) loaded.tier = fallbackTier;
  return loaded;
}

/** Wait this long after a change before writing: a burst of changes (a benchmark, a thread) costs one write. */
const WRITE_DELAY_MS = 1000;

/**
 * Keeps the state in a file: `load()` at start, `markDirty()` after each change (a debounced, atomic
 * write: a temporary file then a rename), `close()` writes what is pending.
 */
export class StateFile {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private dirtyWhileWriting = false;

  constructor(
    private readonly path: string,
    private readonly getState: () => EmulatorState,
  ) {}

  /** The stored state, or null when the file does not exist yet. Throws on an unreadable file. */
  load(fallbackTier: Tier): EmulatorState | null {
    if (!existsSync(this.path)) return null;
    try {
      return deserializeState(readFileSync(this.path, 'utf8'), fallbackTier);
    } catch (error) {
      throw new Error(`cannot read emulator state file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  markDirty(): void {
    if (this.writing !== null) {
      this.dirtyWhileWriting = true;
      return;
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.write();
    }, WRITE_DELAY_MS);
    this.timer.unref();
  }

  /** Writes any pending change now and waits for it. */
  async flush(): Promise<void> {
    while (this.timer !== null || this.writing !== null) {
      if (this.writing !== null) {
        await this.writing;
      } else if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
        await this.write();
      }
    }
  }

  private async write(): Promise<void> {
    if (this.writing !== null) {
      this.dirtyWhileWriting = true;
      return this.writing;
    }
    const text = serializeState(this.getState());
    const temporary = `${this.path}.${process.pid}.tmp`;
    // The state holds tokens and client secrets: readable by the owner only (0600), whatever the umask.
    this.writing = writeFile(temporary, text, { mode: 0o600 })
      .then(() => chmod(temporary, 0o600))
      .then(() => rename(temporary, this.path))
      .catch((error: unknown) => {
        // The emulator keeps serving from memory; the next change tries again.
        console.error(`emulator: could not write state file ${this.path}: ${(error as Error).message}`);
      })
      .finally(() => {
        this.writing = null;
        if (this.dirtyWhileWriting) {
          this.dirtyWhileWriting = false;
          this.markDirty();
        }
      });
    return this.writing;
  }
}
