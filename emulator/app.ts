import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { registerAdminRoutes } from './admin.routes.ts';
import type { EmulatorContext } from './context.ts';
import type { EmulatorControl } from './control.ts';
import { takeFault } from './faults.ts';
import { registerMediaRoutes } from './media.ts';
import { registerAuthorizeRoutes } from './oauth/authorize.routes.ts';
import { registerTokenRoutes } from './oauth/token.routes.ts';
import {
  genericProblem,
  invalidRequestProblem,
  sendAdminError,
  sendOAuthError,
  sendProblem,
} from './problems.ts';
import { appendRequest, type RequestLogEntry } from './request-log.ts';
import { registerTweetRoutes } from './tweets.ts';
import { registerUserRoutes } from './users.routes.ts';

/** Room for base64 media chunks in JSON bodies; the media routes enforce X's own size limits. */
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const ADMIN_PREFIX = '/__admin';

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function isOAuthPath(path: string): boolean {
  return path === '/2/oauth2/token' || path === '/2/oauth2/revoke';
}

/**
 * The emulator's Fastify instance: body parsers, the request log, fault injection, error bodies in X's
 * formats, and every route module.
 */
export async function buildApp(args: {
  ctx: EmulatorContext;
  control: EmulatorControl;
  log: boolean;
}): Promise<FastifyInstance> {
  const { ctx, control } = args;
  const app = Fastify({
    logger: args.log,
    bodyLimit: BODY_LIMIT_BYTES,
    // A `timeout` fault holds its connection forever; closing must not wait for it.
    forceCloseConnections: true,
  });

  // JSON as X reads it, plus an empty body (finalize and revoke are often sent with no body at all).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      const invalid = error as FastifyError;
      invalid.statusCode = 400;
      invalid.code = 'invalid_json';
      done(invalid, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const logEntries = new WeakMap<FastifyRequest, RequestLogEntry>();
  const dropAfterCommit = new WeakSet<FastifyRequest>();

  app.addHook('onRequest', (req, reply, done) => {
    const path = pathOf(req.url);
    // The log is of the X API traffic a client sent; the control API's own calls would only be noise.
    if (path.startsWith(ADMIN_PREFIX)) return done();
    const queryAt = req.url.indexOf('?');
    logEntries.set(
      req,
      appendRequest(ctx.state.requestLog, {
        method: req.method,
        path,
        ...(queryAt !== -1 && { query: req.url.slice(queryAt + 1) }),
        status: null,
        at: ctx.clock.now(),
      }),
    );
    if (ctx.state.faults.length === 0) return done();
    const fault = takeFault(ctx.state.faults, req.method, path, req.routeOptions.url);
    if (fault === undefined) return done();
    ctx.markDirty();
    switch (fault.kind) {
      case 'error':
        sendProblem(reply, genericProblem(fault.status ?? 503));
        return done();
      case 'latency':
        setTimeout(done, fault.latencyMs);
        return;
      case 'timeout':
        // Never continue and never answer: nothing is done, and the connection stays open until the
        // client gives up or the emulator closes.
        return;
      case 'drop_after_commit':
        dropAfterCommit.add(req);
        return done();
    }
  });

  app.addHook('onSend', (req, reply, payload, done) => {
    if (dropAfterCommit.has(req)) {
      // The handler has run and its changes are in the state: cut the connection before any answer.
      reply.raw.socket?.destroy();
    }
    done(null, payload);
  });

  app.addHook('onResponse', (req, reply, done) => {
    const entry = logEntries.get(req);
    if (entry !== undefined && !dropAfterCommit.has(req)) entry.status = reply.statusCode;
    done();
  });

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    const path = pathOf(req.url);
    if (status >= 500) req.log.error(error);
    const message = status >= 500 ? 'Internal error in the emulator.' : error.message;
    if (path.startsWith(ADMIN_PREFIX)) {
      const code =
        error.code === 'invalid_json' ? 'invalid_json' : status >= 500 ? 'internal' : 'invalid_request';
      return sendAdminError(reply, status, code, message);
    }
    if (isOAuthPath(path)) {
      return sendOAuthError(reply, status, status >= 500 ? 'server_error' : 'invalid_request', message);
    }
    if (status === 400) return sendProblem(reply, invalidRequestProblem([{ parameters: {}, message }]));
    return sendProblem(reply, genericProblem(status, message));
  });

  app.setNotFoundHandler((req, reply) => {
    if (pathOf(req.url).startsWith(ADMIN_PREFIX)) {
      return sendAdminError(reply, 404, 'not_found', `No control route ${req.method} ${pathOf(req.url)}.`);
    }
    return sendProblem(reply, genericProblem(404));
  });

  registerAuthorizeRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerTweetRoutes(app, ctx);
  registerMediaRoutes(app, ctx);
  registerAdminRoutes(app, control);
  await app.ready();
  return app;
}
