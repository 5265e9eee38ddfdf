import { InvalidIdempotencyKeyError } from './idempotency.errors.ts';

/** Name of the request header (IETF httpapi draft "The Idempotency-Key HTTP Header Field"; Stripe). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set to `true` on an answer that is a replay of the first answer. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
/** Longest accepted key, in characters (CONTRACT §3). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Printable ASCII: space (0x20) through tilde (0x7e). */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The `Idempotency-Key` of a request, from every occurrence of the header (Node's `headersDistinct`):
 * null when absent; throws {@link InvalidIdempotencyKeyError} when it is sent more than once, is empty,
 * longer than 255 characters or holds anything but printable ASCII. The key is taken literally (a quoted
 * `"abc"` is the five-character key `"abc"`); Node has already trimmed surrounding whitespace.
 */
export function parseIdempotencyKey(values: readonly string[] | undefined): string | null {
  if (values === undefined || values.length === 0) return null;
  if (values.length > 1) throw new InvalidIdempotencyKeyError('it was sent more than once');
  const key = values[0] as string;
  if (key.length === 0) throw new InvalidIdempotencyKeyError('it is empty');
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidIdempotencyKeyError(`it is ${key.length} characters long`);
  }
  if (!PRINTABLE_ASCII.test(key)) {
    throw new InvalidIdempotencyKeyError('it contains a control or non-ASCII character');
  }
  return key;
}
