/** The X API client: what other folders may use. */
export { createXClient, type XClient, type XClientOptions, type XUserApi } from './client.ts';
export { classifyFailure, XError, type XErrorCode } from './errors.ts';
export { type AuthorizationRequest, defaultScopes, type XOAuthConfig } from './oauth.ts';
export { parseRateLimitHeaders, retryAfterMs } from './rate-limit.ts';
export type { CreateTweetInput, UserTweetsQuery } from './requests.ts';
export type { OnOutcome, OnRateLimit, XCallContext, XCallOutcome, XRequest } from './transport.ts';
export type * from './types.ts';
