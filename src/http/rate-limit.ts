/** What {@link RateLimiter.take} decided. */
export interface RateDecision {
  allowed: boolean;
  /** When the caller may try again (0 when allowed), in whole seconds for `Retry-After`. */
  retryAfterSeconds: number;
}

/**
 * A fixed-window counter per key (an IP, an API key, a session), in this process's memory: with several
 * processes each allows `limit` per window (the README says so). Holds at most `maxKeys` keys; past that the
 * oldest are forgotten, so a flood of distinct keys costs bounded memory.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one use of `key` at `now` (epoch ms) and says whether it is within the limit. */
  take(key: string, now: number): RateDecision {
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      this.#windows.delete(key);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
      if (this.#windows.size > this.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
    }
    window.count++;
    if (window.count <= this.limit) return { allowed: true, retryAfterSeconds: 0 };
    return this.#refused(window.start, now);
  }

  /** Whether `key` is already over the limit at `now`, without counting a use. */
  exceeded(key: string, now: number): RateDecision {
    const window = this.#windows.get(key);
    if (!window || now - window.start >= this.windowMs || window.count < this.limit) {
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return this.#refused(window.start, now);
  }

  /** A refusal until the window that started at `start` ends. */
  #refused(start: number, now: number): RateDecision {
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((start + this.windowMs - now) / 1000)),
    };
  }
}
