import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import { createSealer } from '../crypto/sealing.ts';

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
  /** Signs `userId` in: sets the sealed session cookie (HttpOnly, SameSite=Lax, Secure on https). */
  start(reply: FastifyReply, userId: string): void;
  /** Signs out: clears the session cookie. */
  end(reply: FastifyReply): void;
  /** The user id in a valid, unexpired session cookie, or null. */
  userId(request: FastifyRequest): string | null;
  /** Sets a sealed HttpOnly cookie holding `value` (JSON) for `maxAgeSeconds` — e.g. OAuth state + PKCE verifier. */
  setSealedCookie(reply: FastifyReply, name: string, value: unknown, maxAgeSeconds: number): void;
  /** Reads a cookie set by {@link setSealedCookie}; null when absent, tampered with or expired. */
  readSealedCookie<T = unknown>(request: FastifyRequest, name: string): T | null;
  clearCookie(reply: FastifyReply, name: string): void;
}

/** Builds {@link Sessions}. `secure` = the public URL is https. */
export function createSessions(options: {
  sealer: CookieSealer;
  clock: Clock;
  ttlSeconds: number;
  secure: boolean;
}): Sessions {
  const { sealer, clock, ttlSeconds, secure } = options;
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

  return {
    start: (reply, userId) => setSealedCookie(reply, SESSION_COOKIE, { uid: userId }, ttlSeconds),
    end: (reply) => clearCookie(reply, SESSION_COOKIE),
    userId(request) {
      const session = readSealedCookie<{ uid?: unknown }>(request, SESSION_COOKIE);
      return typeof session?.uid === 'string' ? session.uid : null;
    },
    setSealedCookie,
    readSealedCookie,
    clearCookie,
  };
}
