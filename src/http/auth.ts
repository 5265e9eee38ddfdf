import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { authenticateApiKey } from '../users/api-keys.repository.ts';
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import type { AuthMode, AuthUser, ZodFastify } from './types.ts';

/** Header a cookie-authenticated state-changing request must carry (value `1`). */
export const CSRF_HEADER = 'x-xgate-csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The signed-in user, or 401 `unauthorized`. */
export function requireUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw new UnauthorizedError();
  return request.user;
}

async function resolveUser(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: AppDeps,
): Promise<AuthUser | null> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError('The Authorization header must be "Bearer <api key>".');
    const userId = await authenticateApiKey(deps.db, match[1], deps.clock.now());
    if (!userId) throw new UnauthorizedError('The API key is unknown or revoked.');
    return { id: userId, via: 'api_key' };
  }
  const userId = await deps.sessions.userId(request, reply);
  return userId === null ? null : { id: userId, via: 'session' };
}

/**
 * Authenticates requests by route (see {@link AuthMode}) and enforces CSRF protection: a request
 * authenticated by the session cookie with an unsafe method must send `X-XGate-CSRF: 1` (a custom header
 * a cross-site form or simple request cannot send). API-key requests are exempt: browsers do not attach them.
 */
export function installAuthentication(app: ZodFastify, deps: AppDeps): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined) return;
    const mode: AuthMode =
      request.routeOptions.config.auth ?? (route.startsWith('/api/') ? 'required' : 'none');
    if (mode === 'none') return;
    const user = await resolveUser(request, reply, deps);
    if (!user) {
      if (mode === 'required') throw new UnauthorizedError();
      return;
    }
    if (user.via === 'session' && !SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== '1') {
      throw new ForbiddenError(
        `Requests authenticated by the session cookie must send the header "X-XGate-CSRF: 1".`,
        'csrf_required',
      );
    }
    request.user = user;
  });
}
