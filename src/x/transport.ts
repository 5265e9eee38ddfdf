import type { Clock } from '../clock.ts';
import { classifyFailure, XError, type XErrorInit } from './errors.ts';
import { parseRateLimitHeaders, retryAfterMs } from './rate-limit.ts';
import type { XRateLimitInfo, XRequestKind } from './types.ts';

/** A request to X's v2 API, built by a pure function in `requests.ts` and sent by `send()`. */
export interface XRequest {
  /** Label used in errors and rate-limit reports, with path parameters as placeholders: `GET /2/users/:id/tweets`. */
  endpoint: string;
  kind: XRequestKind;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path under `X_API_URL`, e.g. `/2/tweets`. */
  path: string;
  query?: Record<string, string>;
  json?: unknown;
  form?: FormData;
}

/** Context reported with each rate-limit observation. */
export interface XCallContext {
  /** The X user the token belongs to, when known (unknown while signing in). */
  xUserId?: string;
}

/** Called with the budget headers of every X response that has them (success or failure). Must not throw. */
export type OnRateLimit = (info: XRateLimitInfo, context: XCallContext) => void;

/** What came of one v2 call: the answer of a 2xx, or the error X answered with. */
export type XCallOutcome = { request: XRequest; answer: unknown } | { request: XRequest; error: XError };

/** Called after every v2 call X answered (billing, app-wide refusals). Must not throw. */
export type OnOutcome = (outcome: XCallOutcome, context: XCallContext) => void;

/** What `send()` needs; built once by `createXClient`. */
export interface Transport {
  apiUrl: string;
  fetch: typeof fetch;
  clock: Clock;
  /** Per-request timeout in ms, from sending until the whole body has arrived. */
  timeoutMs: number;
  onRateLimit?: OnRateLimit;
  onOutcome?: OnOutcome;
}

const beforeSendCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_BAD_PORT',
]);

/** Error codes along the cause chain (including the attempts of an AggregateError, e.g. IPv4 and IPv6). */
function errorCodesOf(error: unknown, depth = 0): string[] {
  if (!(error instanceof Error) || depth > 4) return [];
  const own = (error as { code?: unknown }).code;
  const nested =
    error instanceof AggregateError ? error.errors.flatMap((e) => errorCodesOf(e, depth + 1)) : [];
  // fetch refuses some ports outright ("bad port") before opening any connection.
  const refused = error.message === 'bad port' ? ['ERR_BAD_PORT'] : [];
  return [
    ...(typeof own === 'string' ? [own] : []),
    ...refused,
    ...nested,
    ...errorCodesOf(error.cause, depth + 1),
  ];
}

/** Classifies a thrown fetch/body error as a transport failure. */
export function transportFailure(
  error: unknown,
  timedOut: boolean,
): 'before_send' | 'after_send' | 'timeout' {
  if (timedOut) return 'timeout';
  const codes = errorCodesOf(error);
  return codes.length > 0 && codes.every((code) => beforeSendCodes.has(code)) ? 'before_send' : 'after_send';
}

/** Builds the `XError` for a transport failure. */
export function transportError(
  endpoint: string,
  kind: XRequestKind,
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): XError {
  const transport = transportFailure(error, timedOut);
  const message =
    transport === 'timeout'
      ? `X did not answer ${endpoint} within ${timeoutMs} ms.`
      : transport === 'before_send'
        ? `Could not reach X for ${endpoint}.`
        : `The connection to X broke during ${endpoint}.`;
  return new XError(classifyFailure({ kind, transport }), message, { endpoint, cause: error });
}

/**
 * Runs `fetch` with the per-request timeout applied to the whole exchange, including reading the body.
 * Returns the response and its body text; throws `XError` on a transport failure.
 */
export async function fetchWithTimeout(
  transport: Pick<Transport, 'fetch' | 'timeoutMs'>,
  endpoint: string,
  kind: XRequestKind,
  url: string,
  init: RequestInit,
): Promise<{ response: Response; text: string }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timeout after ${transport.timeoutMs} ms`));
  }, transport.timeoutMs);
  try {
    const response = await transport.fetch(url, { ...init, signal: controller.signal });
    const text = await response.text();
    return { response, text };
  } catch (error) {
    throw transportError(endpoint, kind, error, timedOut, transport.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/**
 * Builds the `XError` for an X answer that is not a success: reads X's problem fields (`title`, `detail`,
 * `type`, or the first of `errors[]`) or an OAuth error body, and the wait hint of a 429.
 */
export function responseError(
  endpoint: string,
  kind: XRequestKind,
  status: number,
  body: unknown,
  rateLimit: XRateLimitInfo | undefined,
  now: number,
): XError {
  const firstError = Array.isArray((body as { errors?: unknown } | undefined)?.errors)
    ? (body as { errors: unknown[] }).errors[0]
    : undefined;
  const init: XErrorInit = {
    endpoint,
    status,
    title: stringField(body, 'title') ?? stringField(firstError, 'title'),
    detail:
      stringField(body, 'detail') ?? stringField(firstError, 'message') ?? stringField(firstError, 'detail'),
    type: stringField(body, 'type') ?? stringField(firstError, 'type'),
    error: stringField(body, 'error'),
    errorDescription: stringField(body, 'error_description'),
    rateLimit,
    retryAfterMs: status === 429 ? retryAfterMs(rateLimit, now) : undefined,
  };
  const classification = classifyFailure({
    kind,
    status,
    oauthError: init.error,
    detail: init.detail,
    ...(init.type !== undefined && { type: init.type }),
  });
  const reason = init.errorDescription ?? init.detail ?? init.title ?? 'no explanation';
  return new XError(classification, `X answered ${status} to ${endpoint}: ${reason}`, init);
}

/** Reads budget headers from any response and reports them through `transport.onRateLimit`. */
export function reportRateLimit(
  transport: Transport,
  endpoint: string,
  headers: Headers,
  context: XCallContext,
): XRateLimitInfo | undefined {
  const info = parseRateLimitHeaders(endpoint, headers);
  if (info && transport.onRateLimit) transport.onRateLimit(info, context);
  return info;
}

/**
 * Sends one v2 API request with the user's bearer token. Resolves with the parsed JSON body of a 2xx answer;
 * throws `XError` otherwise. Rate-limit headers are reported through `transport.onRateLimit` either way.
 */
export async function send(
  transport: Transport,
  request: XRequest,
  accessToken: string,
  context: XCallContext,
): Promise<unknown> {
  const url = new URL(request.path, transport.apiUrl);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = {
    authorization: `Bearer ${accessToken}`,
    accept: 'application/json',
  };
  let body: RequestInit['body'];
  if (request.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.json);
  } else if (request.form) {
    body = request.form;
  }
  const { response, text } = await fetchWithTimeout(transport, request.endpoint, request.kind, url.href, {
    method: request.method,
    headers,
    body,
  });
  const rateLimit = reportRateLimit(transport, request.endpoint, response.headers, context);
  const parsed = text === '' ? undefined : parseJson(text);
  if (response.status >= 200 && response.status < 300) {
    if (parsed === undefined) {
      throw new XError(
        classifyFailure({ kind: request.kind, status: response.status }),
        `X answered ${request.endpoint} with a body that is not JSON.`,
        { endpoint: request.endpoint, status: response.status, rateLimit },
      );
    }
    transport.onOutcome?.({ request, answer: parsed }, context);
    return parsed;
  }
  const error = responseError(
    request.endpoint,
    request.kind,
    response.status,
    parsed,
    rateLimit,
    transport.clock.now(),
  );
  transport.onOutcome?.({ request, error }, context);
  throw error;
}
