import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../src/errors/index.ts';
import type { RouteModule } from '../src/http/types.ts';
import { routeModules } from '../src/modules.ts';
import {
  createHttpClient,
  makeApiClient,
  makeTempDir,
  startTestService,
  type TestHttpClient,
  type TestService,
} from './helpers/index.ts';

const failingRoutes: RouteModule = (app) => {
  app.get('/api/v1/test/boom', async () => {
    throw new Error('secret internals: password=hunter2');
  });
  app.get('/api/v1/test/conflict', async () => {
    throw new ConflictError('The post is already publishing.', 'post_not_editable', { status: 'publishing' });
  });
  app.get('/api/v1/test/missing', async () => {
    throw new NotFoundError('post', 'post_not_found');
  });
  app.get('/api/v1/test/plugin-limit', async () => {
    throw Object.assign(new Error('reach files limit'), { statusCode: 413, code: 'FST_FILES_LIMIT' });
  });
  app.get(
    '/api/v1/test/query',
    { schema: { querystring: z.object({ limit: z.coerce.number().int().min(1).max(100) }) } },
    async (request) => ({ limit: request.query.limit }),
  );
  app.post('/api/v1/test/echo', { schema: { body: z.object({ text: z.string() }) } }, async (request) => ({
    text: request.body.text,
  }));
};

describe('error handler', () => {
  const dir = makeTempDir();
  let service: TestService;
  let client: TestHttpClient;
  beforeAll(async () => {
    service = await startTestService({
      databaseUrl: `sqlite:${dir.path}/xgate.db`,
      dataDir: dir.path,
      env: { XGATE_BODY_LIMIT_BYTES: '2048' },
      overrides: { routeModules: [...routeModules, failingRoutes] },
    });
    ({ client } = await makeApiClient(service));
  });
  afterAll(async () => {
    await service?.stop();
    dir.remove();
  });

  it('answers unknown routes with 404 route_not_found', async () => {
    for (const path of ['/nope', '/api/v1/nope']) {
      const answer = await client.get(path);
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({
        error: { code: 'route_not_found', message: expect.stringContaining(path) },
      });
    }
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const answer = await client.request('POST', '/api/v1/test/echo', {
      body: '{"text": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('invalid_json');
  });

  it('answers a too large body with 413 payload_too_large', async () => {
    const answer = await client.post('/api/v1/test/echo', { text: 'x'.repeat(4096) });
    expect(answer.status).toBe(413);
    expect(answer.json.error.code).toBe('payload_too_large');
  });

  it('answers an unsupported content type with 415', async () => {
    const answer = await client.request('POST', '/api/v1/test/echo', {
      body: 'text=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answer.status).toBe(415);
    expect(answer.json.error.code).toBe('unsupported_media_type');
  });

  it('names the invalid field in body and query errors', async () => {
    const body = await client.post('/api/v1/test/echo', { text: 3 });
    expect(body.status).toBe(400);
    expect(body.json.error).toMatchObject({
      code: 'invalid_request',
      message: '`text` must be a string.',
      details: [{ in: 'body', field: 'text', message: expect.any(String) }],
    });
    const query = await client.get('/api/v1/test/query?limit=500');
    expect(query.status).toBe(400);
    expect(query.json.error.details[0]).toMatchObject({ in: 'querystring', field: 'limit' });
    expect((await client.get('/api/v1/test/query?limit=5')).json).toEqual({ limit: 5 });
  });

  it('turns AppErrors into their status, code and details', async () => {
    const conflict = await client.get('/api/v1/test/conflict');
    expect(conflict.status).toBe(409);
    expect(conflict.json).toEqual({
      error: {
        code: 'post_not_editable',
        message: 'The post is already publishing.',
        details: { status: 'publishing' },
      },
    });
    const missing = await client.get('/api/v1/test/missing');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('post_not_found');
  });

  it("maps plugins' other client errors by status", async () => {
    const answer = await client.get('/api/v1/test/plugin-limit');
    expect(answer.status).toBe(413);
    expect(answer.json.error.code).toBe('payload_too_large');
  });

  it('answers unexpected errors with 500 internal_error without leaking the message', async () => {
    const answer = await client.get('/api/v1/test/boom');
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
    expect(answer.text).not.toContain('hunter2');
    const requestId = answer.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.json.error.message).toContain(requestId);
  });

  it('serves health, metrics, the OpenAPI document and its page', async () => {
    const anonymous = createHttpClient(service.url);
    expect((await anonymous.get('/healthz')).json).toEqual({ status: 'ok' });
    const metrics = await anonymous.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('xgate_http_requests_total{method="GET",route="/healthz",status="200"}');
    const doc = await anonymous.get('/openapi.json');
    expect(doc.json.openapi).toBe('3.1.0');
    expect(doc.json.paths['/api/v1/api-keys']).toBeDefined();
    const csp = doc.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(doc.headers.get('strict-transport-security')).toBeNull();
    expect(doc.headers.get('x-content-type-options')).toBe('nosniff');
    // Swagger UI from the installed package: no CDN, no inline script (the CSP forbids both).
    const page = await anonymous.get('/docs');
    expect(page.headers.get('content-type')).toContain('text/html');
    const sources = [...page.text.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toEqual([
      '/docs/assets/favicon-32x32.png',
      '/docs/assets/swagger-ui.css',
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/init.js',
    ]);
    expect(page.text).not.toMatch(/<script>/i);
    for (const source of sources) expect((await anonymous.get(source)).status).toBe(200);
    expect((await anonymous.get('/docs/assets/package.json')).status).toBe(404);
    expect((await anonymous.get('/docs/init.js')).text).toContain("url: '/openapi.json'");
  });
});
