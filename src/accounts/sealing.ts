import { createSealer } from '../crypto/sealing.ts';
import { AppError } from '../errors/index.ts';

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
export class TokenUnsealError extends AppError {
  constructor(accountId: string) {
    super(
      500,
      'token_unseal_failed',
      `The stored token of account ${accountId} cannot be opened with the current XGATE_SECRET_KEY.`,
    );
  }
}

/** Builds the sealer from the 32-byte app secret. */
export function createTokenSealer(secretKey: Buffer): TokenSealer {
  const sealer = createSealer(secretKey, { label: 'xgate/tokens/v1', version: 'v1' });
  const aad = (accountId: string, kind: TokenKind) => `xgate-token:${kind}:${accountId}`;
  return {
    seal: (accountId, kind, token) => sealer.seal(token, aad(accountId, kind)),
    unseal(accountId, kind, sealed) {
      const token = sealer.open(sealed, aad(accountId, kind));
      // A token is never empty: an empty plain text is refused like a value that does not open.
      if (token === null || token === '') throw new TokenUnsealError(accountId);
      return token;
    },
  };
}
