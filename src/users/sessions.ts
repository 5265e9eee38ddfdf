import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import { createSealer } from '../crypto/sealing.ts';
import type { Database } from '../db/schema.ts';
import {
  deleteSession,
  deleteUserSessions,
  findLiveSession,
  insertSession,
  touchSession,
} from './sessions.repository.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'xgate_session';

/**
 * Seals small values into cookie-safe strings with AES-256-GCM. The cookie name is the associated data, so
 * a value sealed for one cookie cannot be replayed as another; the expiry travels inside the ciphertext.
 * Needs no server memory, so it works across replicas that share `XGATE_SECRET_KEY`.
 */
export interface CookieSealer {
  seal(name: string, value: unknown, expiresAt: number): string;
  /** The value, or null when the text was not sealed by us, for another name, or has expired. */
  unseal<T = unknown>(name: string, text: string, now: number): T | null;
}

/** Derives the cookie key from the app secret (HKDF), so it differs from the key that seals tokens. */
export function createCookieSealer(secretKey: Buffer): CookieSealer {
  const sealer = createSealer(secretKey, { label: 'xgate/cookies/v1' });
  return {
    seal: (name, value, expiresAt) => sealer.seal(JSON.stringify({ v: value, e: expiresAt }), name),
    unseal<T>(name: string, text: string, now: number): T | null {
      const plain = sealer.open(text, name);
      if (plain === null) return null;
      try {
        const parsed = JSON.parse(plain) as { v: T; e: number };
        return typeof parsed.e === 'number' && parsed.e > now ? parsed.v : null;
      } catch {
        return null;
      }
    },
  };
}

/** Browser sessions and short-lived sealed cookies, available to route modules as `deps.sessions`. */
export interface Sessions {
  /** Signs `userId` in: stores a new session and sets its sealed cookie (HttpOnly, SameSite=Lax, Secure on https). */
  start(reply: FastifyReply, userId: string): Promise<void>;
  /**
   * A new session of `userId` and the cookie value that carries it, without a reply (tests, the CLI's code flow).
   * `idleSeconds` overrides the configured idle lifetime.
   */
  create(userId: string, options?: { idleSeconds?: number }): Promise<string>;
  /** Signs out: ends this request's session in every process at once and clears the cookie. */
  end(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Ends every session of the user (sign out everywhere); returns how many ended. */
  endAll(userId: string): Promise<number>;
  /**
   * The user and session of a live session cookie, or null (absent, tampered with, expired, signed out). A use slides the
   * idle expiry forward (written at most once a minute) and, given `reply`, refreshes the cookie's lifetime.
   */
  current(
    request: FastifyRequest,
    reply?: FastifyReply,
  ): Promise<{ userId: string; sessionId: string } | null>;
  /** Sets a sealed HttpOnly cookie holding `value` (JSON) for `maxAgeSeconds` — e.g. OAuth state + PKCE verifier. */
  setSealedCookie(reply: FastifyReply, name: string, value: unknown, maxAgeSeconds: number): void;
  /** Reads a cookie set by {@link setSealedCookie}; null when absent, tampered with or expired. */
  readSealedCookie<T = unknown>(request: FastifyRequest, name: string): T | null;
  clearCookie(reply: FastifyReply, name: string): void;
}

/** A session's idle expiry is written at most this often, so authenticated reads do not all become writes. */
const SLIDE_RESOLUTION_MS = 60_000;

const sessionId = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Builds {@link Sessions}. Sessions live in the database (the cookie carries a sealed random secret; the row
 * is keyed by its hash), so signing out takes effect in every process at once. `idleSeconds`: a session
 * unused that long ends; `maxSeconds`: no session lives longer. `secure` = the public URL is https.
 */
export function createSessions(options: {
  db: Kysely<Database>;
  sealer: CookieSealer;
  clock: Clock;
  idleSeconds: number;
  maxSeconds: number;
  secure: boolean;
}): Sessions {
  const { db, sealer, clock, secure } = options;
  const base = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure };

  const setSealedCookie = (reply: FastifyReply, name: string, value: unknown, maxAgeSeconds: number) => {
    const sealed = sealer.seal(name, value, clock.now() + maxAgeSeconds * 1000);
    reply.setCookie(name, sealed, { ...base, maxAge: maxAgeSeconds });
  };
  const readSealedCookie = <T>(request: FastifyRequest, name: string): T | null => {
    const text = request.cookies[name];
    return text ? sealer.unseal<T>(name, text, clock.now()) : null;
  };
  const clearCookie = (reply: FastifyReply, name: string) => {
    reply.clearCookie(name, base);
  };
  const secretOf = (request: FastifyRequest): string | null => {
    const session = readSealedCookie<{ sid?: unknown }>(request, SESSION_COOKIE);
    return typeof session?.sid === 'string' ? session.sid : null;
  };
  const cookieOptions = (expiresAt: number, now: number) => ({
    ...base,
    maxAge: Math.max(1, Math.floor((expiresAt - now) / 1000)),
  });

  async function create(userId: string, idleSeconds = options.idleSeconds) {
    const now = clock.now();
    const secret = randomBytes(32).toString('base64url');
    const absoluteExpiresAt = now + options.maxSeconds * 1000;
    const expiresAt = Math.min(now + idleSeconds * 1000, absoluteExpiresAt);
    await insertSession(db, {
      id: sessionId(secret),
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      absoluteExpiresAt,
    });
    // The cookie's own expiry is the absolute one; the row says whether the session is still alive.
    return { cookie: sealer.seal(SESSION_COOKIE, { sid: secret }, absoluteExpiresAt), expiresAt, now };
  }

  return {
    async start(reply, userId) {
      const { cookie, expiresAt, now } = await create(userId);
      reply.setCookie(SESSION_COOKIE, cookie, cookieOptions(expiresAt, now));
    },
    async create(userId, createOptions) {
      return (await create(userId, createOptions?.idleSeconds)).cookie;
    },
    async end(request, reply) {
      const secret = secretOf(request);
      if (secret !== null) await deleteSession(db, sessionId(secret));
      clearCookie(reply, SESSION_COOKIE);
    },
    endAll: (userId) => deleteUserSessions(db, userId),
    async current(request, reply) {
      const secret = secretOf(request);
      if (secret === null) return null;
      const now = clock.now();
      const session = await findLiveSession(db, sessionId(secret), now);
      if (!session) return null;
      if (now - session.lastSeenAt >= SLIDE_RESOLUTION_MS) {
        const idleMs = session.expiresAt - session.lastSeenAt;
        const expiresAt = Math.min(now + idleMs, session.absoluteExpiresAt);
        await touchSession(db, session.id, now, expiresAt);
        const cookie = request.cookies[SESSION_COOKIE];
        if (reply && cookie) reply.setCookie(SESSION_COOKIE, cookie, cookieOptions(expiresAt, now));
      }
      return { userId: session.userId, sessionId: session.id };
    },
    setSealedCookie,
    readSealedCookie,
    clearCookie,
  };
}
