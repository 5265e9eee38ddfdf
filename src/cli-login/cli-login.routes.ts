import { z } from 'zod';
import { AppError, ValidationError } from '../errors/index.ts';
import type { RouteModule, ZodFastify } from '../http/types.ts';
import { createApiKey } from '../users/api-keys.repository.ts';
import { approvePage, outcomePage } from './approve.page.ts';
import {
  completeCliLogin,
  decideCliLogin,
  findByDeviceCode,
  findByUserCode,
  normaliseUserCode,
  startCliLogin,
} from './cli-login.repository.ts';

/** How long a person has to approve a login. */
const LOGIN_TTL_MS = 10 * 60_000;
/** How often the CLI should poll, in seconds (RFC 8628's `interval`). */
const POLL_INTERVAL_SECONDS = 2;

const approveQuery = z.object({ code: z.string().max(20).optional() });

/**
 * `xgate login`, like `gh auth login`: the CLI starts a login (`POST /api/v1/cli/logins`) and shows a code and a
 * URL on this server; the person opens it, signs in with X if needed, checks the code and approves; the CLI,
 * polling `POST /api/v1/cli/logins/token` with its secret device code, then receives an API key of its own.
 * The approval is a same-origin form: the session cookie is SameSite=Lax and the Origin header is checked.
 */
export const cliLoginRoutes: RouteModule = async (app, deps) => {
  const { db, clock, config, sessions } = deps;
  const origin = new URL(config.publicUrl).origin;

  app.post(
    '/api/v1/cli/logins',
    {
      config: { auth: 'none', limit: 'signin' },
      schema: {
        tags: ['cli'],
        summary: 'Starts a command-line login: a code to show, and the URL where a person approves it.',
        body: z.strictObject({
          name: z
            .string()
            .trim()
            .min(1, 'must not be empty')
            .max(100, 'must be at most 100 characters')
            .optional()
            .describe('The machine’s name, shown when approving and given to the API key.'),
        }),
        response: {
          201: z.object({
            deviceCode: z.string().describe('Secret: poll `POST /api/v1/cli/logins/token` with it.'),
            userCode: z.string().describe('Show it: the person checks it on the approval page.'),
            verificationUrl: z.string().describe('Where the person approves (`?code=` already filled in).'),
            expiresAt: z.number().describe('Epoch ms; after it the login must start again.'),
            interval: z.number().int().describe('Seconds between polls.'),
          }),
        },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { login, deviceCode } = await startCliLogin(db, {
        name: request.body.name ?? `a machine (${request.ip})`,
        now,
        ttlMs: LOGIN_TTL_MS,
      });
      return reply.status(201).send({
        deviceCode,
        userCode: login.user_code,
        verificationUrl: `${config.publicUrl}/cli/approve?code=${login.user_code}`,
        expiresAt: login.expires_at,
        interval: POLL_INTERVAL_SECONDS,
      });
    },
  );

  app.post(
    '/api/v1/cli/logins/token',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['cli'],
        summary: 'Polls a command-line login: `pending` until approved, then the API key, once.',
        body: z.strictObject({ deviceCode: z.string().min(1).max(200) }),
        response: {
          200: z.object({
            status: z.enum(['pending', 'approved']),
            apiKey: z
              .string()
              .optional()
              .describe('When approved: the key (`Authorization: Bearer …`), shown once.'),
            apiKeyId: z.string().optional(),
            userId: z.string().optional(),
          }),
        },
      },
    },
    async (request) => {
      const login = await findByDeviceCode(db, request.body.deviceCode);
      if (!login) {
        throw new ValidationError(
          'This device code is unknown: start again with `xgate login`.',
          [{ in: 'body', field: 'deviceCode', message: 'is not a login this server started' }],
          'login_unknown',
        );
      }
      if (login.status === 'denied') {
        throw new AppError(
          403,
          'login_denied',
          'The login was denied in the browser. Run `xgate login` again if that was a mistake.',
        );
      }
      if (login.status === 'done' || (login.status === 'pending' && login.expires_at <= clock.now())) {
        throw new AppError(
          410,
          'login_expired',
          login.status === 'done'
            ? 'This login already handed out its key. Run `xgate login` again.'
            : 'Nobody approved this login within 10 minutes. Run `xgate login` again.',
        );
      }
      if (login.status === 'pending' || login.user_id === null) return { status: 'pending' as const };
      if (!(await completeCliLogin(db, login.id))) {
        throw new AppError(
          410,
          'login_expired',
          'This login already handed out its key. Run `xgate login` again.',
        );
      }
      const { apiKey, key } = await createApiKey(db, {
        userId: login.user_id,
        name: `xgate CLI on ${login.name}`,
        now: clock.now(),
      });
      return { status: 'approved' as const, apiKey: key, apiKeyId: apiKey.id, userId: login.user_id };
    },
  );

  app.get('/cli/approve', { schema: { hide: true, querystring: approveQuery } }, async (request, reply) => {
    const code = normaliseUserCode(request.query.code ?? '');
    const session = await sessions.current(request, reply);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (!session) {
      return reply.redirect(`/auth/x/login?next=${encodeURIComponent(`/cli/approve?code=${code}`)}`, 302);
    }
    const login = await findByUserCode(db, code);
    if (login?.status !== 'pending' || login.expires_at <= clock.now()) {
      return reply.status(404).send(outcomePage('unknown'));
    }
    return reply.send(approvePage({ userCode: login.user_code, name: login.name }));
  });

  // The approval is an HTML form: only this route parses form bodies.
  await app.register(async (scope: ZodFastify) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.post(
      '/cli/approve',
      {
        schema: {
          hide: true,
          body: z.object({ code: z.string().max(20), decision: z.enum(['approve', 'deny']) }),
        },
      },
      async (request, reply) => {
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
        // A form post from another site must not approve anything, even if a browser sent the cookie.
        const from = request.headers.origin ?? request.headers.referer;
        if (from === undefined || !URL.canParse(from) || new URL(from).origin !== origin) {
          return reply.status(403).send(outcomePage('forbidden'));
        }
        const session = await sessions.current(request, reply);
        if (!session) return reply.redirect('/auth/x/login', 302);
        const login = await findByUserCode(db, normaliseUserCode(request.body.code));
        const decision =
          request.body.decision === 'approve' ? { approvedBy: session.userId } : ('deny' as const);
        if (!login || !(await decideCliLogin(db, login.id, decision, clock.now()))) {
          return reply.status(404).send(outcomePage('unknown'));
        }
        return reply.send(outcomePage(decision === 'deny' ? 'denied' : 'approved'));
      },
    );
  });
};
