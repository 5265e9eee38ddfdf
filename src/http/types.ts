import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../deps.ts';

/** Who made the request, and how they proved it. */
export interface AuthUser {
  id: string;
  via: 'session' | 'api_key';
  /** The API key's id or the session's id: what request limits are counted by. */
  credentialId: string;
}

/**
 * Per-route authentication (route option `config: { auth }`):
 * - `required` — 401 `unauthorized` without a valid session cookie or API key. **Default for `/api/v1/…`.**
 * - `optional` — `request.user` is set when the caller is signed in, else null (e.g. `POST /auth/logout`).
 * - `none` — not looked at. Default outside `/api/v1`.
 */
export type AuthMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** `signin`: counted against the per-IP sign-in limit (XGATE_RATE_LIMIT_SIGNIN_PER_MINUTE). */
    limit?: 'signin';
  }
  interface FastifyRequest {
    /** Set by the authentication hook; null when anonymous. Use `requireUser(request)` in handlers. */
    user: AuthUser | null;
  }
}

/** The Fastify instance route modules receive: zod schemas give typed, validated input and OpenAPI. */
export type ZodFastify = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * A route module: registers its routes (and hooks) on `app`. List it in `src/modules.ts`.
 *
 * Rules for route authors:
 * - Routes under `/api/v1` require authentication by default; get the caller with `requireUser(request)`.
 * - **Another user's object answers 404** (`NotFoundError`), never 403 and never the object: always
 *   filter by `user_id` in the query, not after loading.
 * - Declare `schema: { body, querystring, params, response, tags, summary }` with zod: that is the
 *   validation (400 `invalid_request` naming the field) and the OpenAPI document.
 * - Throw `AppError` subclasses (`src/errors/`) with a code from `src/errors/codes.ts`; never reply with ad-hoc error bodies.
 * - Cookie-authenticated POST/PATCH/PUT/DELETE need the `X-XGate-CSRF: 1` header (checked for you).
 */
export type RouteModule = (app: ZodFastify, deps: AppDeps) => void | Promise<void>;
