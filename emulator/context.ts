import type { FastifyReply, FastifyRequest } from 'fastify';
import { billingRefusal } from './billing.ts';
import { nextSnowflake } from './ids.ts';
import { forbiddenProblem, sendProblem, unauthorizedProblem } from './problems.ts';
import { takeRateLimit } from './rate-limit.ts';
import type { EmulatorState, EmuUser } from './state.ts';
import type { RateLimitedEndpoint } from './tiers.ts';

/** The emulator's time: the base source plus the offset moved by `POST /__admin/clock`. */
export interface EmulatorClock {
  /** Emulator time in epoch ms. */
  now(): number;
}

/** Who a request acts for, from its OAuth 2.0 user access token. */
export interface AuthedUser {
  userId: string;
  user: EmuUser;
  clientId: string;
  scopes: readonly string[];
  token: string;
}

/** What every route module receives. */
export interface EmulatorContext {
  /** Mutable state; call `markDirty()` after changing it. */
  state: EmulatorState;
  clock: EmulatorClock;
  /** A new snowflake-like id (numeric string), strictly greater than every id handed out before. */
  nextId(): string;
  /**
   * The user of the request's Bearer token, or undefined after answering X's 401 (missing, unknown,
   * revoked or expired token) or 403 (a scope in `scopes` not granted).
   */
  requireUser(req: FastifyRequest, reply: FastifyReply, scopes: readonly string[]): AuthedUser | undefined;
  /**
   * Counts the request against the tier's windows of `endpoint` for `userId` and the app of the
   * request's token (call `requireUser` first), sets the `x-rate-limit-*` headers (and the 24-hour
   * ones where X sends them); answers 429 and returns false when a window is exhausted.
   */
  takeRateLimit(
    req: FastifyRequest,
    reply: FastifyReply,
    endpoint: RateLimitedEndpoint,
    userId: string,
  ): boolean;
  /** The state changed: persist it (debounced) when a state file is configured. */
  markDirty(): void;
}

/**
 * Builds the context over `state`. The state object is never replaced (a reset empties it in place),
 * so route modules may keep a reference to it.
 */
export function createContext(args: {
  state: EmulatorState;
  clock: EmulatorClock;
  markDirty: () => void;
}): EmulatorContext {
  const { state, clock, markDirty } = args;
  const authByRequest = new WeakMap<FastifyRequest, AuthedUser>();

  return {
    state,
    clock,
    markDirty,
    nextId: () => nextSnowflake(state, clock.now()),

    requireUser(req, reply, scopes) {
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
      const access = token === '' ? undefined : state.accessTokens.get(token);
      const user = access === undefined ? undefined : state.users.get(access.userId);
      if (access === undefined || user === undefined || access.expiresAt <= clock.now()) {
        sendProblem(reply, unauthorizedProblem());
        return undefined;
      }
      if (!scopes.every((scope) => access.scopes.includes(scope))) {
        sendProblem(reply, forbiddenProblem());
        return undefined;
      }
      // Pay-per-use: an app out of credits (402) or not enrolled (403) is refused before anything is done.
      const refusal = billingRefusal(state.billing, access.clientId);
      if (refusal !== null) {
        reply
          .code(refusal.status as number)
          .type('application/problem+json')
          .send(refusal);
        return undefined;
      }
      const authed: AuthedUser = {
        userId: user.id,
        user,
        clientId: access.clientId,
        scopes: access.scopes,
        token,
      };
      authByRequest.set(req, authed);
      return authed;
    },

    takeRateLimit(req, reply, endpoint, userId) {
      const clientId = authByRequest.get(req)?.clientId ?? '';
      return takeRateLimit(state, clock.now(), reply, endpoint, userId, clientId);
    },
  };
}
