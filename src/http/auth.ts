import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../errors/index.ts';
import { authenticateApiKey } from '../users/index.ts';
import { RateLimiter } from './rate-limit.ts';
import type { AuthMode, AuthUser, ZodFastify } from './types.ts';

const MINUTE = 60_000;

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
    const found = await authenticateApiKey(deps.db, match[1], deps.clock.now());
    if (!found) throw new UnauthorizedError('The API key is unknown or revoked.');
    return { id: found.userId, via: 'api_key', credentialId: found.keyId };
  }
  const session = await deps.sessions.current(request, reply);
  return session === null ? null : { id: session.userId, via: 'session', credentialId: session.sessionId };
}

/**
 * Authenticates requests by route (see {@link AuthMode}) and enforces CSRF protection: a request
 * authenticated by the session cookie with an unsafe method must send `X-XGate-CSRF: 1` (a custom header
 * a cross-site form or simple request cannot send). API-key requests are exempt: browsers do not attach them.
 */
export function installAuthentication(app: ZodFastify, deps: AppDeps): void {
  const { config, clock } = deps;
  const signIns = new RateLimiter(config.rateLimitSignInPerMinute, MINUTE);
  const failures = new RateLimiter(config.rateLimitAuthFailuresPerMinute, MINUTE);
  const apiRequests =
    config.rateLimitApiPerMinute > 0 ? new RateLimiter(config.rateLimitApiPerMinute, MINUTE) : null;

  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined) return;
    if (request.routeOptions.config.limit === 'signin') {
      const decision = signIns.take(request.ip, clock.now());
      if (!decision.allowed) {
        throw new TooManyRequestsError(
          `Too many sign-in attempts from your address: at most ${signIns.limit} a minute. Try again in ${decision.retryAfterSeconds} seconds.`,
          decision.retryAfterSeconds,
        );
      }
    }
    const mode: AuthMode =
      request.routeOptions.config.auth ?? (route.startsWith('/api/') ? 'required' : 'none');
    if (mode === 'none') return;
    let user: AuthUser | null;
    if (request.headers.authorization !== undefined) {
      // Guessing keys costs a minute per few tries, per address.
      const blocked = failures.exceeded(request.ip, clock.now());
      if (!blocked.allowed) {
        throw new TooManyRequestsError(
          `Too many requests with a wrong API key from your address. Check the key (GET /api/v1/api-keys lists yours), then try again in ${blocked.retryAfterSeconds} seconds.`,
          blocked.retryAfterSeconds,
        );
      }
      try {
        user = await resolveUser(request, reply, deps);
      } catch (error) {
        if (error instanceof UnauthorizedError) failures.take(request.ip, clock.now());
        throw error;
      }
    } else {
      user = await resolveUser(request, reply, deps);
    }
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
    const decision = apiRequests?.take(user.credentialId, clock.now());
    if (decision && !decision.allowed) {
      throw new TooManyRequestsError(
        `Too many requests with this ${user.via === 'api_key' ? 'API key' : 'session'}: at most ${apiRequests!.limit} a minute (XGATE_RATE_LIMIT_API_PER_MINUTE). Retry after ${decision.retryAfterSeconds} seconds.`,
        decision.retryAfterSeconds,
      );
    }
  });
}
