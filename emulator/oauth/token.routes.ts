import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmulatorContext } from '../context.ts';
import { newToken } from '../ids.ts';
import { sendOAuthError } from '../problems.ts';
import type { EmuAuthCode, EmuClient } from '../state.ts';
import { authenticateClient } from './client-auth.ts';

/** Access tokens live 2 hours (`expires_in: 7200`). */
export const ACCESS_TOKEN_TTL_SECONDS = 7200;

const OFFLINE_ACCESS = 'offline.access';

/** Expired access tokens are swept after this many issuances, so the state does not grow forever. */
const SWEEP_EVERY = 256;

/** Form or JSON body → its string fields. */
function fields(body: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (body === null || typeof body !== 'object') return result;
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string') result[name] = value;
  }
  return result;
}

function invalidRequest(reply: FastifyReply, description: string): FastifyReply {
  return sendOAuthError(reply, 400, 'invalid_request', description);
}

function verifierMatches(code: EmuAuthCode, verifier: string): boolean {
  if (code.codeChallengeMethod === 'plain') return verifier === code.codeChallenge;
  return createHash('sha256').update(verifier).digest('base64url') === code.codeChallenge;
}

/** `POST /2/oauth2/token` (authorization_code, refresh_token) and `POST /2/oauth2/revoke`. */
export function registerTokenRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { state } = ctx;
  let issuedSinceSweep = 0;

  function issueTokens(client: EmuClient, userId: string, scopes: string[], grantId: string) {
    const now = ctx.clock.now();
    if (++issuedSinceSweep >= SWEEP_EVERY) {
      issuedSinceSweep = 0;
      for (const [token, access] of state.accessTokens) {
        if (access.expiresAt <= now) state.accessTokens.delete(token);
      }
    }
    const accessToken = newToken('at', now);
    state.accessTokens.set(accessToken, {
      token: accessToken,
      clientId: client.clientId,
      userId,
      scopes,
      grantId,
      expiresAt: now + ACCESS_TOKEN_TTL_SECONDS * 1000,
    });
    let refreshToken: string | undefined;
    if (scopes.includes(OFFLINE_ACCESS)) {
      refreshToken = newToken('rt', now);
      state.refreshTokens.set(refreshToken, {
        token: refreshToken,
        clientId: client.clientId,
        userId,
        scopes,
        grantId,
      });
    }
    ctx.markDirty();
    return {
      token_type: 'bearer',
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
      access_token: accessToken,
      scope: scopes.join(' '),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    };
  }

  app.post('/2/oauth2/token', async (req, reply) => {
    const body = fields(req.body);
    const auth = authenticateClient(state, req.headers.authorization, body.client_id);
    if ('failure' in auth) {
      return sendOAuthError(reply, auth.failure.status, auth.failure.error, auth.failure.description);
    }
    const { client } = auth;
    reply.header('cache-control', 'no-store');

    switch (body.grant_type) {
      case undefined:
        return invalidRequest(reply, 'Missing required parameter [grant_type].');

      case 'authorization_code': {
        for (const name of ['code', 'redirect_uri', 'code_verifier']) {
          if (body[name] === undefined || body[name] === '') {
            return invalidRequest(reply, `Missing required parameter [${name}].`);
          }
        }
        const code = state.authCodes.get(body.code as string);
        // Single use: a code is spent by the first exchange that presents it, whatever the outcome.
        if (code !== undefined) {
          state.authCodes.delete(code.code);
          ctx.markDirty();
        }
        if (
          code === undefined ||
          code.expiresAt <= ctx.clock.now() ||
          code.clientId !== client.clientId ||
          code.redirectUri !== body.redirect_uri
        ) {
          return invalidRequest(reply, 'Value passed for the authorization code was invalid.');
        }
        if (!verifierMatches(code, body.code_verifier as string)) {
          return invalidRequest(reply, 'Value passed for the code verifier was invalid.');
        }
        return reply.send(issueTokens(client, code.userId, code.scopes, randomUUID()));
      }

      case 'refresh_token': {
        if (body.refresh_token === undefined || body.refresh_token === '') {
          return invalidRequest(reply, 'Missing required parameter [refresh_token].');
        }
        const refresh = state.refreshTokens.get(body.refresh_token);
        if (
          refresh === undefined ||
          refresh.clientId !== client.clientId ||
          !state.users.has(refresh.userId)
        ) {
          return invalidRequest(reply, 'Value passed for the token was invalid.');
        }
        // Rotation: the presented refresh token dies now; only the new one works from here on.
        state.refreshTokens.delete(refresh.token);
        return reply.send(issueTokens(client, refresh.userId, refresh.scopes, refresh.grantId));
      }

      default:
        return sendOAuthError(
          reply,
          400,
          'unsupported_grant_type',
          'Only authorization_code and refresh_token grants are supported.',
        );
    }
  });

  app.post('/2/oauth2/revoke', async (req, reply) => {
    const body = fields(req.body);
    const auth = authenticateClient(state, req.headers.authorization, body.client_id);
    if ('failure' in auth) {
      return sendOAuthError(reply, auth.failure.status, auth.failure.error, auth.failure.description);
    }
    const token = body.token;
    if (token === undefined || token === '')
      return invalidRequest(reply, 'Missing required parameter [token].');

    // A token of another client, or an unknown one, is left alone and still answered 200 (RFC 7009 §2.2).
    const access = state.accessTokens.get(token);
    if (access !== undefined && access.clientId === auth.client.clientId) {
      state.accessTokens.delete(token);
      ctx.markDirty();
    }
    const refresh = state.refreshTokens.get(token);
    if (refresh !== undefined && refresh.clientId === auth.client.clientId) {
      // Revoking a refresh token ends the whole grant: its access tokens die with it.
      state.refreshTokens.delete(token);
      for (const [accessToken, candidate] of state.accessTokens) {
        if (candidate.grantId === refresh.grantId) state.accessTokens.delete(accessToken);
      }
      ctx.markDirty();
    }
    return reply.send({ revoked: true });
  });
}
