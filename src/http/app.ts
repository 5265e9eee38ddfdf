import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Counter, Histogram } from 'prom-client';
import type { AppDeps } from '../deps.ts';
import { installAuthentication } from './auth.ts';
import { docsRoutes } from './docs.ts';
import { answerFrameworkError, installErrorHandling } from './error-handler.ts';
import { healthRoutes } from './health.routes.ts';
import { installJsonParser, installNulGuard } from './input-guards.ts';
import { completeDocument, completeRouteSchema } from './openapi-truth.ts';
import type { RouteModule, ZodFastify } from './types.ts';

/**
 * Builds the Fastify app (not listening): zod validation and serialization, OpenAPI at `/openapi.json`
 * and `/docs`, cookies, security headers, authentication + CSRF, the error handler, health and metrics
 * routes, then every route module in order (see `src/modules.ts`).
 */
export async function buildHttpApp(deps: AppDeps, routeModules: readonly RouteModule[]): Promise<ZodFastify> {
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: deps.config.bodyLimitBytes,
    // Only behind a load balancer: otherwise any client could forge its address in X-Forwarded-For
    // (and its request id).
    trustProxy: deps.config.trustProxy,
    requestIdHeader: deps.config.trustProxy ? 'x-request-id' : false,
    genReqId: () => randomUUID(),
    frameworkErrors: answerFrameworkError,
  }).withTypeProvider() as unknown as ZodFastify;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  app.addHook('onRoute', completeRouteSchema);
  installJsonParser(app);
  installNulGuard(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'xgate',
        version: '1',
        description:
          'Connect X accounts and publish posts, now or scheduled. Authenticate with the session cookie ' +
          '(state-changing requests also send `X-XGate-CSRF: 1`) or `Authorization: Bearer <api key>`. ' +
          'Errors are `{"error":{"code","message","details"?}}`.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'This xgate server.' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`xg_…`).' },
          session: { type: 'apiKey', in: 'cookie', name: 'xgate_session' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (document) =>
      completeDocument('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  await app.register(cookie);
  // On plain http (sandbox, a LAN box) asking browsers to upgrade to https would break every page.
  const https = deps.config.publicUrl.startsWith('https://');
  // Profile pictures come from X (or, in sandbox mode, from the emulator); previews of files being uploaded are
  // blob: URLs. Scripts, styles and everything else: this origin only (the web app has no inline script).
  const avatarOrigins = deps.config.sandbox
    ? [new URL(deps.config.xApiUrl).origin]
    : ['https://pbs.twimg.com', 'https://abs.twimg.com'];
  await app.register(helmet, {
    hsts: https,
    contentSecurityPolicy: {
      directives: {
        'img-src': ["'self'", 'data:', 'blob:', ...avatarOrigins],
        'media-src': ["'self'", 'blob:'],
        'style-src': ["'self'"],
        'upgrade-insecure-requests': https ? [] : null,
      },
    },
  });

  // The id in every log line of the request, so a person reporting a problem can quote it.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installHttpMetrics(app, deps);
  installAuthentication(app, deps);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  docsRoutes(app);

  await healthRoutes(app, deps);
  for (const routes of routeModules) await routes(app, deps);
  return app;
}

function installHttpMetrics(app: ZodFastify, deps: AppDeps): void {
  const requests = new Counter({
    name: 'xgate_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [deps.metrics],
  });
  const duration = new Histogram({
    name: 'xgate_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [deps.metrics],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The pattern, not the raw URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unknown';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
