import { randomBytes } from 'node:crypto';
import type { EmulatorState } from './state.ts';

/** Twitter's snowflake epoch (2010-11-04), so ids look like X's 19-digit ones. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n;

/**
 * Next id: a snowflake of the emulator time, or one more than the last id if that is not larger, so ids
 * strictly increase even when the clock does not move or the state was loaded from a file.
 */
export function nextSnowflake(state: EmulatorState, nowMs: number): string {
  const fromTime = (BigInt(Math.floor(nowMs)) - SNOWFLAKE_EPOCH_MS) << 22n;
  const afterLast = BigInt(state.lastId) + 1n;
  const id = (fromTime > afterLast ? fromTime : afterLast).toString();
  state.lastId = id;
  return id;
}

export type TokenKind = 'ac' | 'at' | 'rt';

/**
 * An opaque token shaped like X's (unpadded base64url of `<random>:<issued ms>:1:1:<kind>:1`).
 * Only the randomness matters; the shape helps people recognise what they are looking at.
 */
export function newToken(kind: TokenKind, nowMs: number): string {
  const random = randomBytes(34).toString('base64url').slice(0, 45);
  return Buffer.from(`${random}:${Math.floor(nowMs)}:1:1:${kind}:1`).toString('base64url');
}
