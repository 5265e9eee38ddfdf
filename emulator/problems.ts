import type { FastifyReply } from 'fastify';

/**
 * X's error bodies. Problem types use the `https://api.twitter.com/2/problems/` prefix seen in live
 * captures (clients match on the suffix; see reference/x-api.md §5).
 */
export const PROBLEM_TYPE_PREFIX = 'https://api.twitter.com/2/problems/';

/** An RFC 7807 problem as X sends it, with any type-specific fields. */
export interface Problem {
  title: string;
  type: string;
  detail?: string;
  status?: number;
  [field: string]: unknown;
}

/** One entry of an invalid-request problem's `errors`. */
export interface InvalidParameter {
  parameters: Record<string, string[]>;
  message: string;
}

/** The title X uses for a status in its generic (`about:blank`) problems. */
export function statusTitle(status: number): string {
  return STATUS_TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A generic problem: `{title, detail, type: "about:blank", status}`; detail defaults to the title. */
export function genericProblem(status: number, detail?: string): Problem {
  const title = statusTitle(status);
  return { title, detail: detail ?? title, type: 'about:blank', status };
}

/** 401 for a missing, unknown, revoked or expired token. */
export function unauthorizedProblem(): Problem {
  return { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' };
}

/** 403 X sends when the token may not do this (e.g. a scope is missing). */
export function forbiddenProblem(detail = 'You are not permitted to perform this action.'): Problem {
  return { detail, type: 'about:blank', title: 'Forbidden', status: 403 };
}

/** 429 of the v2 API. */
export function tooManyRequestsProblem(): Problem {
  return { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 };
}

/** 400 invalid-request envelope: `{errors:[{parameters, message}], title, detail, type}`. */
export function invalidRequestProblem(errors: InvalidParameter[]): Problem {
  return {
    errors,
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: `${PROBLEM_TYPE_PREFIX}invalid-request`,
  };
}

/** One resource-not-found error, as found in `errors[]` of a 200 or 404 body. */
export function resourceNotFoundError(args: {
  parameter: string;
  value: string;
  resourceType: 'user' | 'tweet' | 'media' | 'list' | 'space' | 'place' | 'poll';
  detail: string;
}): Problem {
  return {
    value: args.value,
    detail: args.detail,
    title: 'Not Found Error',
    resource_type: args.resourceType,
    parameter: args.parameter,
    resource_id: args.value,
    type: `${PROBLEM_TYPE_PREFIX}resource-not-found`,
  };
}

/**
 * Sends a problem with `application/problem+json`. The status is `status` when given, else the
 * body's `status`, else 400 (invalid-request bodies carry no status field).
 */
export function sendProblem(reply: FastifyReply, problem: Problem, status?: number): FastifyReply {
  return reply
    .code(status ?? problem.status ?? 400)
    .type('application/problem+json')
    .send(problem);
}

/** Sends an OAuth 2.0 error body `{error, error_description}` as `application/json`. */
export function sendOAuthError(
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error, error_description: description });
}

/** A control-API (`/__admin`) error: `{"error":{"code","message"}}`. */
export function sendAdminError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: { code, message } });
}
