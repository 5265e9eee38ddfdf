import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmulatorContext } from '../context.ts';
import { newToken } from '../ids.ts';
import type { EmuUser } from '../state.ts';
import { createUser, findUserByUsername } from '../users.ts';
import { ControlError } from '../validation.ts';
import { type AuthorizeRequest, checkAuthorizeRequest, redirectWith } from './authorize-request.ts';
import { renderConsentPage, renderErrorPage } from './consent-page.ts';

/** X: "you will have to exchange it … within 30 seconds, or the auth_code will expire". */
export const AUTH_CODE_TTL_MS = 30_000;

function stringParams(source: unknown): Record<string, string> {
  const params: Record<string, string> = {};
  if (source === null || typeof source !== 'object') return params;
  for (const [name, value] of Object.entries(source)) {
    if (typeof value === 'string') params[name] = value;
  }
  return params;
}

function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/**
 * `GET /i/oauth2/authorize` (consent page, or straight back with a code when auto-approve is set) and
 * `POST /i/oauth2/authorize` (the consent form's answer).
 */
export function registerAuthorizeRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;

  function issueCode(request: AuthorizeRequest, user: EmuUser): string {
    const now = ctx.clock.now();
    for (const [code, stored] of state.authCodes) {
      if (stored.expiresAt <= now) state.authCodes.delete(code);
    }
    const code = newToken('ac', now);
    state.authCodes.set(code, {
      code,
      clientId: request.client.clientId,
      userId: user.id,
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      expiresAt: now + AUTH_CODE_TTL_MS,
    });
    ctx.markDirty();
    return redirectWith(request.redirectUri, { state: request.state, code });
  }

  /**
   * The checked authorize request (query or consent form), or null once it was refused: an error page when
   * the client is unknown or the redirect URI not registered for it, otherwise back to it with `error`.
   */
  function checkOrRefuse(params: Record<string, string>, reply: FastifyReply): AuthorizeRequest | null {
    const check = checkAuthorizeRequest(state, params);
    if (check.kind === 'page') {
      sendHtml(reply, 400, renderErrorPage(check.message));
      return null;
    }
    if (check.kind === 'redirect') {
      reply.redirect(
        redirectWith(check.redirectUri, {
          error: check.error,
          error_description: check.description,
          state: check.state,
        }),
      );
      return null;
    }
    return check.request;
  }

  app.get('/i/oauth2/authorize', async (req, reply) => {
    const params = stringParams(req.query);
    const request = checkOrRefuse(params, reply);
    if (request === null) return reply;
    const autoUser = state.autoApproveUserId === null ? undefined : state.users.get(state.autoApproveUserId);
    if (autoUser !== undefined) return reply.redirect(issueCode(request, autoUser));
    return sendHtml(reply, 200, renderConsentPage({ request, params, users: [...state.users.values()] }));
  });

  app.post('/i/oauth2/authorize', async (req, reply) => {
    const params = stringParams(req.body);
    const request = checkOrRefuse(params, reply);
    if (request === null) return reply;
    const decision = params.decision;
    if (decision === 'cancel') {
      return reply.redirect(
        redirectWith(request.redirectUri, { error: 'access_denied', state: request.state }),
      );
    }
    const again = (error: string) =>
      sendHtml(reply, 400, renderConsentPage({ request, params, users: [...state.users.values()], error }));
    if (decision !== 'authorize') return again('Choose "Authorize app" or "Cancel".');

    const userId = params.user_id;
    if (userId !== undefined && userId !== '' && userId !== 'new') {
      const user = state.users.get(userId);
      if (user === undefined) return again('That user does not exist any more; pick another one.');
      return reply.redirect(issueCode(request, user));
    }
    const username = params.username?.trim() ?? '';
    if (username === '') return again('Pick a user, or type a username for a new one.');
    const existing = findUserByUsername(ctx, username);
    if (existing !== undefined) return reply.redirect(issueCode(request, existing));
    try {
      const name = params.name?.trim();
      const user = createUser(ctx, { username, ...(name ? { name } : {}) });
      return reply.redirect(issueCode(request, user));
    } catch (error) {
      if (error instanceof ControlError) return again(error.message);
      throw error;
    }
  });
}
