import { AppError, ConflictError, UnprocessableError, ValidationError } from '../errors/index.ts';

/** 400 `invalid_idempotency_key`: the header is empty, too long, repeated or not printable ASCII. */
export class InvalidIdempotencyKeyError extends ValidationError {
  constructor(reason: string) {
    super(
      `The Idempotency-Key header must be 1 to 255 printable ASCII characters, sent once: ${reason}.`,
      undefined,
      'invalid_idempotency_key',
    );
  }
}

/** 422 `idempotency_key_reused`: the key was first used for a different request (method, path or body). */
export class IdempotencyKeyReusedError extends UnprocessableError {
  constructor() {
    super(
      'This Idempotency-Key was already used for a different request (another method, path or body). Use a new key for a new request.',
      'idempotency_key_reused',
    );
  }
}

/**
 * 409 `idempotency_key_in_progress`: the first request with this key is still running (in this or another
 * process). The answer carries `Retry-After: retryAfterSeconds`.
 */
export class IdempotencyKeyInProgressError extends ConflictError {
  constructor(retryAfterSeconds: number) {
    super(
      'A request with this Idempotency-Key is still being processed. Retry after the time in the Retry-After header to get its answer.',
      'idempotency_key_in_progress',
      undefined,
      retryAfterSeconds,
    );
  }
}

/**
 * 410 `idempotency_resource_gone`: the first request with this key created an object, died before
 * answering, and the object has since been deleted, so there is nothing to answer with and nothing is
 * created again.
 */
export class IdempotencyResourceGoneError extends AppError {
  constructor() {
    super(
      410,
      'idempotency_resource_gone',
      'The object created by the first request with this Idempotency-Key no longer exists; use a new key to create another.',
    );
  }
}
