import type { XFailureClass, XRateLimitInfo, XRequestKind } from './types.ts';

/** Stable codes of `XError`; callers branch on these (and on `failureClass`), never on messages. */
export type XErrorCode =
  /** The request never reached X (connection refused, DNS failure). */
  | 'x_network'
  /** The connection broke after the request was sent. */
  | 'x_connection_lost'
  /** X did not answer within the per-request timeout. */
  | 'x_timeout'
  | 'x_rate_limited'
  | 'x_unauthorized'
  | 'x_forbidden'
  | 'x_duplicate_content'
  | 'x_not_found'
  | 'x_invalid_request'
  /** The token endpoint refused the code or refresh token (X says `invalid_request`, RFC 6749 says `invalid_grant`). */
  | 'x_invalid_grant'
  | 'x_server_error'
  /** X answered with a status or body that does not fit what its API documents. */
  | 'x_unreadable_body'
  /** Media processing at X ended in `failed`, or did not finish in time. */
  | 'x_media_failed'
  /** Pay-per-use: the app's credits are used up (402). Nothing was done; the whole app must wait. */
  | 'x_credits_depleted'
  /** The app is not enrolled in a package that allows this (403 `client-forbidden`, `client-not-enrolled`). */
  | 'x_client_not_enrolled';

/** What is known about a failure, the input of `classifyFailure`. */
export interface XFailureFacts {
  kind: XRequestKind;
  /** Transport failures: `before_send` = nothing reached X; `after_send` = sent, answer lost; `timeout`. */
  transport?: 'before_send' | 'after_send' | 'timeout';
  status?: number;
  /** OAuth `error` of a token/revoke answer. */
  oauthError?: string;
  /** X's problem `detail`, used to recognise the duplicate-content 403. */
  detail?: string;
  /** X's problem `type` (its path suffix names the problem, e.g. `client-forbidden`). */
  type?: string;
}

/**
 * The one table that says how xgate treats each X failure (docs/DESIGN.md, "Failure table").
 *
 * | failure                                   | create (POST /2/tweets) | token (refresh) | idempotent |
 * |-------------------------------------------|-------------------------|-----------------|------------|
 * | network error before the request went out| retryable               | retryable       | retryable  |
 * | timeout / connection cut after sending    | ambiguous               | ambiguous       | retryable  |
 * | 5xx                                       | ambiguous               | retryable       | retryable  |
 * | 429                                       | retryable (wait reset)  | retryable       | retryable  |
 * | 401 (not an OAuth error body)             | auth                    | auth            | auth       |
 * | 402 credits depleted, 403 client-forbidden| app (pause all)         | app             | app        |
 * | 400 invalid_request / invalid_grant       | —                       | terminal        | terminal   |
 * | other 4xx (403 duplicate/forbidden, 400)  | terminal                | terminal        | terminal   |
 * | unreadable 2xx body                       | ambiguous               | ambiguous       | retryable  |
 *
 * A lost token answer is `ambiguous` because X may have rotated the refresh token: the vault retries with
 * the stored one and, if X rejects it, says that a refresh was interrupted.
 */
export function classifyFailure(facts: XFailureFacts): { failureClass: XFailureClass; code: XErrorCode } {
  const mutating = facts.kind === 'create' || facts.kind === 'token';
  if (facts.transport === 'before_send') return { failureClass: 'retryable', code: 'x_network' };
  if (facts.transport === 'timeout')
    return { failureClass: mutating ? 'ambiguous' : 'retryable', code: 'x_timeout' };
  if (facts.transport === 'after_send') {
    return { failureClass: mutating ? 'ambiguous' : 'retryable', code: 'x_connection_lost' };
  }
  const status = facts.status ?? 0;
  if (status >= 200 && status < 300) {
    return { failureClass: mutating ? 'ambiguous' : 'retryable', code: 'x_unreadable_body' };
  }
  if (status >= 500) {
    return { failureClass: facts.kind === 'create' ? 'ambiguous' : 'retryable', code: 'x_server_error' };
  }
  if (status === 429) return { failureClass: 'retryable', code: 'x_rate_limited' };
  if (facts.oauthError === 'invalid_request' || facts.oauthError === 'invalid_grant') {
    return { failureClass: 'terminal', code: 'x_invalid_grant' };
  }
  if (status === 401) return { failureClass: 'auth', code: 'x_unauthorized' };
  // App-wide, not about this request: nothing happened at X, and every call would get the same answer.
  if (status === 402) return { failureClass: 'app', code: 'x_credits_depleted' };
  if (status === 403 && (facts.type ?? '').endsWith('/client-forbidden')) {
    return { failureClass: 'app', code: 'x_client_not_enrolled' };
  }
  if (status === 403) {
    const duplicate = /duplicate content/i.test(facts.detail ?? '');
    return { failureClass: 'terminal', code: duplicate ? 'x_duplicate_content' : 'x_forbidden' };
  }
  if (status === 404) return { failureClass: 'terminal', code: 'x_not_found' };
  if (status >= 400) return { failureClass: 'terminal', code: 'x_invalid_request' };
  return { failureClass: 'terminal', code: 'x_unreadable_body' };
}

/** Fields of an `XError` besides the classification. */
export interface XErrorInit {
  /** e.g. `POST /2/tweets`, the same label as `XRateLimitInfo.endpoint`. */
  endpoint: string;
  status?: number;
  /** X's problem fields (`title`, `detail`, `type`) of a v2 error body. */
  title?: string;
  detail?: string;
  type?: string;
  /** OAuth error fields of a token/revoke answer. */
  error?: string;
  errorDescription?: string;
  rateLimit?: XRateLimitInfo;
  /** How long to wait before trying again, from `x-rate-limit-reset` (or the 24-hour reset) on a 429. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Every failure of an X call. `failureClass` says what to do (see `classifyFailure`), `code` says what happened.
 * Messages never contain tokens.
 */
export class XError extends Error {
  override readonly name = 'XError';
  readonly code: XErrorCode;
  readonly failureClass: XFailureClass;
  readonly endpoint: string;
  readonly status?: number;
  readonly title?: string;
  readonly detail?: string;
  readonly type?: string;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly rateLimit?: XRateLimitInfo;
  readonly retryAfterMs?: number;

  constructor(
    classification: { failureClass: XFailureClass; code: XErrorCode },
    message: string,
    init: XErrorInit,
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = classification.code;
    this.failureClass = classification.failureClass;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.error = init.error;
    this.errorDescription = init.errorDescription;
    this.rateLimit = init.rateLimit;
    this.retryAfterMs = init.retryAfterMs;
  }
}
