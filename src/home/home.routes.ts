import { readFileSync } from 'node:fs';
import { listAccountsOfUser } from '../accounts/index.ts';
import type { RouteModule } from '../http/types.ts';
import { HOME_SCRIPT_PATH, renderHomePage } from './home.page.ts';

/**
 * `GET /`, the landing page where signing in with X ends, and `GET /assets/home.js`, its script.
 * Both are hidden from the OpenAPI document: they are pages, not part of the JSON API.
 */
export const homeRoutes: RouteModule = (app, deps) => {
  const script = readFileSync(new URL('./home.client.js', import.meta.url), 'utf8');

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const session = await deps.sessions.current(request, reply);
    const accounts = session === null ? null : await listAccountsOfUser(deps.db, session.userId);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(renderHomePage({ sandbox: deps.config.sandbox, publicUrl: deps.config.publicUrl, accounts }));
  });

  app.get(HOME_SCRIPT_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(script),
  );
};
