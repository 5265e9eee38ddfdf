import type { ErrorCode } from './codes.ts';

export { type DomainErrorCode, ERROR_CODES, type ErrorCode } from './codes.ts';

/**
 * The one error model, outside the HTTP layer so a worker or the CLI never imports Fastify code. Throw an
 * {@link AppError} (or a subclass) from anywhere; the HTTP error handler (`src/http/error-handler.ts`) turns it into
 * `{"error":{"code","message","details"?}}` with `status`. Tests branch on `code`, never on `message`.
 */
export class AppError extends Error {
  /** Stable snake_case identifier, part of the API contract (listed in `codes.ts`). */
  readonly code: ErrorCode;
  /** HTTP status to answer with. */
  readonly status: number;
  /** Optional machine-readable detail (field errors, the next free slot, …), sent as `details`. */
  readonly details?: unknown;
  /** Sent as the `Retry-After` header (seconds) when set. */
  readonly retryAfterSeconds?: number;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options?: { details?: unknown; cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** 400: the request is malformed or breaks a rule. `details` usually names the fields. */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown, code: ErrorCode = 'invalid_request') {
    super(400, code, message, { details });
  }
}

/** 401: no valid session cookie or API key. */
export class UnauthorizedError extends AppError {
  constructor(
    message = 'Sign in or send a valid API key in the Authorization header.',
    code: ErrorCode = 'unauthorized',
  ) {
    super(401, code, message);
  }
}

/**
 * 403: authenticated but not allowed (e.g. a missing CSRF header). Never use it for another user's object:
 * that is a 404 ({@link NotFoundError}), so ids of other users' objects are not revealed.
 */
export class ForbiddenError extends AppError {
  constructor(message: string, code: ErrorCode = 'forbidden') {
    super(403, code, message);
  }
}

/** 404: the object does not exist, or belongs to another user (the same answer on purpose). */
export class NotFoundError extends AppError {
  constructor(what = 'object', code: ErrorCode = 'not_found') {
    super(404, code, `The ${what} was not found.`);
  }
}

/** 409: the request conflicts with the object's current state. */
export class ConflictError extends AppError {
  constructor(message: string, code: ErrorCode = 'conflict', details?: unknown, retryAfterSeconds?: number) {
    super(409, code, message, { details, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) });
  }
}

/** 429 `rate_limited`: too many requests from this caller; `Retry-After` says when to try again. */
export class TooManyRequestsError extends AppError {
  constructor(message: string, retryAfterSeconds: number, details?: unknown) {
    super(429, 'rate_limited', message, { details, retryAfterSeconds });
  }
}

/** 413: the body or upload is bigger than allowed. */
export class PayloadTooLargeError extends AppError {
  constructor(message: string, code: ErrorCode = 'payload_too_large') {
    super(413, code, message);
  }
}

/** 415: the content type is not accepted. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, code: ErrorCode = 'unsupported_media_type') {
    super(415, code, message);
  }
}

/** 422: well-formed but cannot be processed as asked (e.g. an Idempotency-Key reused for another request). */
export class UnprocessableError extends AppError {
  constructor(message: string, code: ErrorCode, details?: unknown) {
    super(422, code, message, { details });
  }
}

/** 503: a dependency is down; retrying later may work. */
export class ServiceUnavailableError extends AppError {
  constructor(message: string, code: ErrorCode = 'service_unavailable') {
    super(503, code, message);
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}
