import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Which token a sealed value holds; part of the associated data, so the two columns cannot be swapped. */
export type TokenKind = 'access' | 'refresh';

/**
 * Seals tokens at rest with AES-256-GCM. The key is derived from `XGATE_SECRET_KEY` with HKDF under its own
 * label, so it differs from the cookie key; the account id and token kind are the associated data, so a
 * sealed token copied to another row or column does not open.
 */
export interface TokenSealer {
  seal(accountId: string, kind: TokenKind, token: string): string;
  /** Throws `TokenUnsealError` when the value was not sealed by this key for this account and kind. */
  unseal(accountId: string, kind: TokenKind, sealed: string): string;
}

/** A sealed token that does not open: another key (XGATE_SECRET_KEY changed), another row, or tampering. */
export class TokenUnsealError extends Error {
  readonly code = 'token_unseal_failed';
  constructor(accountId: string) {
    super(`The stored token of account ${accountId} cannot be opened with the current XGATE_SECRET_KEY.`);
    this.name = 'TokenUnsealError';
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Builds the sealer from the 32-byte app secret. */
export function createTokenSealer(secretKey: Buffer): TokenSealer {
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'xgate/tokens/v1', 32));
  const aad = (accountId: string, kind: TokenKind) => Buffer.from(`xgate-token:${kind}:${accountId}`);
  return {
    seal(accountId, kind, token) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(accountId, kind));
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    unseal(accountId, kind, sealed) {
      const [version, payload] = sealed.split('.', 2);
      const raw = Buffer.from(payload ?? '', 'base64url');
      if (version !== VERSION || raw.length <= IV_BYTES + TAG_BYTES) throw new TokenUnsealError(accountId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(aad(accountId, kind));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new TokenUnsealError(accountId);
      }
    },
  };
}
