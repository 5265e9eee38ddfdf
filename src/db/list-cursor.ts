import { ValidationError } from '../errors/index.ts';

/** Where a newest-first list stopped: the last row's creation time and id (ties broken by id). */
export interface ListPosition {
  createdAt: number;
  id: string;
}

/** The opaque `nextCursor` of a list answer. */
export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/** The position in a cursor from {@link encodeListCursor}; 400 `invalid_cursor` for anything else. */
export function decodeListCursor(cursor: string): ListPosition {
  try {
    const [createdAt, id, ...rest] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    // Only what encodeListCursor makes: anything else (1e400, a NUL, a huge id) must not reach the database.
    if (
      Number.isSafeInteger(createdAt) &&
      (createdAt as number) >= 0 &&
      typeof id === 'string' &&
      id.length <= 100 &&
      !id.includes('\u0000') &&
      rest.length === 0
    ) {
      return { createdAt: createdAt as number, id };
    }
  } catch {
    // falls through to the error below
  }
  throw new ValidationError(
    'The cursor is not one this API gave out.',
    { field: 'cursor' },
    'invalid_cursor',
  );
}
