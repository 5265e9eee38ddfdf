import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, ResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, type ErrorBody, type ErrorCode } from '../errors/index.ts';
import { describeProblems, fieldProblems } from './field-messages.ts';

/** Fastify's own client errors, mapped to stable codes. */
const FASTIFY_CODES: Record<string, { status: number; code: ErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: 'The request body is larger than allowed.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'This content type is not accepted here; send application/json.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The request body is empty but its content type says JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_request',
    message: 'The Content-Length header does not match the body.',
  },
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'invalid_url',
    message: 'The URL is malformed: a percent-encoded part of its path is not valid UTF-8.',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'uri_too_long',
    message: 'A part of the URL path is longer than 100 characters; xgate ids are at most 100.',
  },
  FST_REQ_FILE_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: 'The uploaded file is too large.',
  },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Send the upload as multipart/form-data.',
  },
};

/** Codes for other 4xx errors thrown by plugins (their messages are meant for clients). */
const CLIENT_ERROR_CODES: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function send(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

function internalError(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return send(reply, 500, {
    error: {
      code: 'internal_error',
      message: `Something went wrong on our side. If it persists, report request id ${request.id}.`,
    },
  });
}

/**
 * Answers the errors Fastify's router raises before any route runs (a bad percent-encoding, a path parameter
 * over 100 characters) in the contract's shape; passed as Fastify's `frameworkErrors`, so these requests are
 * logged like any other.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.header('x-request-id', request.id);
  const known = FASTIFY_CODES[error.code];
  if (known) {
    send(reply, known.status, { error: { code: known.code, message: known.message } });
    return;
  }
  request.log.error({ err: error }, 'unexpected router error');
  internalError(request, reply);
}

/**
 * Installs the one error handler and the not-found handler. Every error answer is
 * `{"error":{"code","message","details"?}}`; unexpected errors are logged and answer 500 `internal_error`
 * without leaking their message.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      return send(reply, error.status, body);
    }
    if (hasZodFastifySchemaValidationErrors(error) || error.validation) {
      const problems = fieldProblems(error, request);
      return send(reply, 400, {
        error: { code: 'invalid_request', message: describeProblems(problems), details: problems },
      });
    }
    if (error instanceof ResponseSerializationError) {
      request.log.error({ err: error }, 'response does not match its schema');
      return internalError(request, reply);
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return send(reply, known.status, { error: { code: known.code, message: known.message } });
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return send(reply, status, {
        error: { code: CLIENT_ERROR_CODES[status] ?? 'invalid_request', message: error.message },
      });
    }
    request.log.error({ err: error }, 'unexpected error');
    return internalError(request, reply);
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, {
      error: {
        code: 'route_not_found',
        message: `There is no route ${request.method} ${request.url.split('?')[0]}.`,
      },
    }),
  );
}
