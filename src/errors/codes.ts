/**
 * Every error code the API answers with, by the domain that raises it. Codes are part of the contract: scripts
 * branch on them. `AppError` takes only these, so the compiler knows every code, and the README's and the
 * OpenAPI document's lists are checked against this one (test/error-codes.test.ts).
 */
export const ERROR_CODES = {
  /** Requests that never reach a domain: parsing, routing, authentication, limits. */
  http: [
    'invalid_request',
    'invalid_json',
    'json_too_deep',
    'invalid_url',
    'uri_too_long',
    'invalid_multipart',
    'invalid_cursor',
    'payload_too_large',
    'unsupported_media_type',
    'unauthorized',
    'forbidden',
    'csrf_required',
    'not_found',
    'route_not_found',
    'method_not_allowed',
    'not_acceptable',
    'request_timeout',
    'rate_limited',
    'conflict',
    'internal_error',
    'service_unavailable',
    'stopping',
  ],
  users: ['api_key_not_found', 'api_key_limit', 'login_unknown', 'login_denied', 'login_expired'],
  accounts: [
    'account_not_found',
    'account_needs_reconnect',
    'account_disconnected',
    'account_refresh_failed',
    'token_unseal_failed',
    'x_unavailable',
  ],
  media: [
    'media_not_found',
    'media_too_large',
    'media_quota_exceeded',
    'media_in_use',
    'media_missing',
    'file_required',
    'alt_text_too_long',
  ],
  posts: [
    'post_not_found',
    'post_not_editable',
    'post_publishing',
    'thread_empty',
    'thread_too_long',
    'empty_item',
    'empty_text',
    'text_too_long',
    'text_too_complex',
    'text_busy',
    'invalid_characters',
    'duplicate_media',
    'mixed_media',
    'too_many_media',
    'account_not_active',
    'scheduled_in_past',
    'scheduled_too_far',
    'rate_budget_exceeded',
    'post_not_retryable',
    'post_not_in_review',
    'item_already_published',
    'post_changed',
    'x_delete_failed',
    'x_rate_limited',
  ],
  sandbox: ['sandbox_only'],
  spend: ['spend_cap_exceeded'],
  webhooks: ['webhook_not_found', 'webhook_delivery_not_found', 'webhook_url_not_allowed', 'webhook_limit'],
  schedule: ['no_schedule', 'no_free_slot', 'post_not_queued', 'import_invalid'],
  idempotency: [
    'invalid_idempotency_key',
    'idempotency_key_reused',
    'idempotency_key_in_progress',
    'idempotency_resource_gone',
  ],
} as const;

/** A stable error code of the API. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES][number];
/** The codes one domain raises. */
export type DomainErrorCode<D extends keyof typeof ERROR_CODES> = (typeof ERROR_CODES)[D][number];
