import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../http/types.ts';
import { loadWebBuild, type WebFile } from './web-build.ts';

/** The app's own pages: each is answered with index.html, and the app shows the screen of the path. */
export const WEB_APP_PATHS = [
  '/',
  '/compose',
  '/queue',
  '/history',
  '/dashboard',
  '/activity',
  '/accounts',
  '/settings',
  '/sandbox',
] as const;

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="xgate-error" content="web_app_not_built"><title>xgate: the web app is not built</title></head>
<body><h1>The web app is not built</h1><p>This copy of xgate has no <code>dist/web/</code>. Run <code>npm run build</code>
(<code>npm ci</code> and <code>npm start</code> do it for you), then reload. The JSON API works meanwhile:
<a href="/docs">API reference</a>.</p></body></html>`;

function send(request: FastifyRequest, reply: FastifyReply, file: WebFile, cacheControl: string) {
  reply.header('cache-control', cacheControl).header('etag', file.etag).header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  reply.type(file.type);
  if (file.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    return reply.header('content-encoding', 'gzip').send(file.gzip);
  }
  return reply.send(file.body);
}

/**
 * The web app (web/, built by `npm run build` into dist/web/), read into memory once at start: its pages at
 * {@link WEB_APP_PATHS} and its fingerprinted files under `/assets/` (cached for a year). Hidden from the
 * OpenAPI document: pages, not the JSON API. Without a build, the pages say how to make one.
 */
export const webRoutes: RouteModule = (app, deps) => {
  const build = loadWebBuild({ sandbox: deps.config.sandbox });
  const index = build?.get('/index.html');

  for (const path of WEB_APP_PATHS) {
    app.get(path, { schema: { hide: true } }, async (request, reply) => {
      if (!index) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      return send(request, reply, index, 'no-cache');
    });
  }

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const file = build?.get(new URL(request.url, 'http://x').pathname);
    if (!file) return reply.callNotFound();
    return send(request, reply, file, 'public, max-age=31536000, immutable');
  });

  const icon = build?.get('/favicon.svg');
  if (icon) {
    app.get('/favicon.svg', { schema: { hide: true } }, async (request, reply) =>
      send(request, reply, icon, 'public, max-age=86400'),
    );
  }
};
