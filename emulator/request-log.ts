/** One request the emulator received; `status` is null when it never answered (timeout or dropped). */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** The query string (without `?`), when there was one: e.g. how many ids a lookup asked for. */
  query?: string;
  status: number | null;
  /** Emulator time (epoch ms) the request arrived. */
  at: number;
}

/** A bounded ring buffer kept as plain data so it can be persisted with the rest of the state. */
export interface RequestLog {
  capacity: number;
  entries: RequestLogEntry[];
  /** Index the next entry is written to once the buffer is full. */
  next: number;
}

/** Enough for any test or demo; old entries are overwritten so memory stays flat under load. */
export const REQUEST_LOG_CAPACITY = 10_000;

export function createRequestLog(capacity = REQUEST_LOG_CAPACITY): RequestLog {
  return { capacity, entries: [], next: 0 };
}

/** Appends an entry (overwriting the oldest when full) and returns it so its status can be filled in later. */
export function appendRequest(log: RequestLog, entry: RequestLogEntry): RequestLogEntry {
  if (log.entries.length < log.capacity) {
    log.entries.push(entry);
  } else {
    log.entries[log.next] = entry;
    log.next = (log.next + 1) % log.capacity;
  }
  return entry;
}

/** The entries, oldest first. */
export function listRequests(log: RequestLog): RequestLogEntry[] {
  if (log.entries.length < log.capacity) return log.entries.slice();
  return [...log.entries.slice(log.next), ...log.entries.slice(0, log.next)];
}
