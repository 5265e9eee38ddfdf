import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { escapeHtml } from '../http/html.ts';
import type { ZodFastify } from '../http/types.ts';
import { XError } from '../x/index.ts';
import type { AccountsService } from './accounts.service.ts';

/** The sealed cookie that carries the OAuth state and PKCE verifier from `/auth/x/login` to the callback. */
export const OAUTH_COOKIE = 'xgate_oauth';
/** How long a person has to authorize at X, in seconds. */
const OAUTH_COOKIE_SECONDS = 600;

interface PendingAuthorization {
  state: string;
  verifier: string;
  /** Set when adding an account to this signed-in user (`?connect=1`). */
  connectUserId: string | null;
  /** Where to go after signing in (a path on this site), e.g. the approval page of `xgate login`. */
  next?: string;
}

/** A path on this site (`/…`, never `//host` or a scheme), or undefined: sign-in never redirects elsewhere. */
function localPath(next: string | undefined): string | undefined {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || next.includes('\\'))
    return undefined;
  return next;
}

/** A page a person understands, with a way forward. `code` is also in a meta tag for scripts and tests. */
function problemPage(reply: FastifyReply, status: number, code: string, title: string, text: string) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="xgate-error" content="${escapeHtml(code)}"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
a.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;border-radius:999px;background:#0f1419;color:#fff;text-decoration:none}</style>
</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>
<a class="button" href="/auth/x/login">Sign in with X again</a> <a href="/">Back to xgate</a></body></html>`);
}

const callbackQuery = z.object({
  code: z.string().max(2000).optional(),
  state: z.string().max(2000).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

/**
 * `GET /auth/x/login` (`?connect=1` adds an account to the signed-in user) and `GET /auth/x/callback`.
 * State, verifier and the connect flag travel in a sealed, short-lived, HttpOnly cookie, cleared by the
 * callback whatever happens, so a state is good for one callback only and no server memory is needed.
 */
export function signInRoutes(app: ZodFastify, deps: AppDeps, accounts: AccountsService): void {
  const { x, sessions, log } = deps;

  app.get(
    '/auth/x/login',
    {
      config: { auth: 'optional', limit: 'signin' },
      schema: {
        tags: ['session'],
        summary: 'Starts signing in with X (or, with `connect=1` and a session, adding another X account).',
        querystring: z.object({
          connect: z.enum(['1', 'true', '0', 'false']).optional(),
          next: z.string().max(500).optional().describe('A path on this site to return to after signing in.'),
        }),
      },
    },
    async (request, reply) => {
      const connect = request.query.connect === '1' || request.query.connect === 'true';
      // Connecting another account needs to know whose: without a session, sign in first, then come back.
      if (connect && !request.user) {
        return reply.redirect(`/auth/x/login?next=${encodeURIComponent('/auth/x/login?connect=1')}`, 302);
      }
      const authorization = await x.startAuthorization();
      const pending: PendingAuthorization = {
        state: authorization.state,
        verifier: authorization.codeVerifier,
        connectUserId: connect && request.user ? request.user.id : null,
      };
      const next = localPath(request.query.next);
      if (next !== undefined) pending.next = next;
      sessions.setSealedCookie(reply, OAUTH_COOKIE, pending, OAUTH_COOKIE_SECONDS);
      return reply.redirect(authorization.url.href, 302);
    },
  );

  app.get(
    '/auth/x/callback',
    {
      config: { auth: 'none', limit: 'signin' },
      schema: {
        tags: ['session'],
        summary:
          'Where X sends the person back: signs them in and stores the account, then redirects to `/`.',
        querystring: callbackQuery,
      },
    },
    async (request, reply) => {
      const query = request.query;
      const pending = sessions.readSealedCookie<PendingAuthorization>(request, OAUTH_COOKIE);
      sessions.clearCookie(reply, OAUTH_COOKIE);
      if (query.error !== undefined) {
        const denied = query.error === 'access_denied';
        return problemPage(
          reply,
          400,
          denied ? 'oauth_access_denied' : 'oauth_error',
          denied ? 'You did not authorize xgate' : 'X did not authorize xgate',
          denied
            ? 'X says the authorization was cancelled, so no account was connected. Sign in again and choose "Authorize app" to connect it.'
            : `X answered "${query.error}"${query.error_description ? ` (${query.error_description})` : ''}. No account was connected.`,
        );
      }
      if (query.state === undefined || query.code === undefined) {
        return problemPage(
          reply,
          400,
          query.state === undefined ? 'oauth_state_missing' : 'oauth_code_missing',
          'This sign-in link is incomplete',
          'The address X sent you back with is missing part of the answer. Start signing in again.',
        );
      }
      if (pending === null) {
        return problemPage(
          reply,
          400,
          'oauth_state_unknown',
          'This sign-in has expired or was already used',
          'xgate has no sign-in in progress for this browser (it expires after 10 minutes, and each can be used once). Start signing in again.',
        );
      }
      if (pending.state !== query.state) {
        return problemPage(
          reply,
          400,
          'oauth_state_mismatch',
          'This sign-in does not match',
          'The answer from X belongs to another sign-in attempt, so it was ignored. Start signing in again.',
        );
      }
      let userId: string;
      try {
        const params = new URLSearchParams({ code: query.code, state: query.state });
        const tokens = await x.exchangeCode(params, pending.state, pending.verifier);
        const profile = await x.forToken(tokens.accessToken).getMe();
        ({ userId } = await accounts.connect({ userId: pending.connectUserId, profile, tokens }));
      } catch (error) {
        if (error instanceof XError && error.failureClass === 'terminal') {
          return problemPage(
            reply,
            400,
            'oauth_code_invalid',
            'X did not accept this sign-in',
            'The authorization code was refused by X: it expires 30 seconds after you authorize and works once. Start signing in again.',
          );
        }
        if (error instanceof XError) {
          log.warn({ code: error.code, status: error.status }, 'sign-in with X failed');
          return problemPage(
            reply,
            502,
            'x_unavailable',
            'X could not be reached',
            'xgate could not finish signing in because X did not answer properly. Try again in a moment.',
          );
        }
        throw error;
      }
      await sessions.start(reply, userId);
      return reply.redirect(localPath(pending.next) ?? '/', 302);
    },
  );
}
