import { createSealer } from '../crypto/sealing.ts';

/**
 * Seals stored answers that hold a secret (a new API key) with AES-256-GCM, so the secret is not in the
 * database in clear text for the 24 hours its key is kept. The key is derived from `XGATE_SECRET_KEY` under
 * its own HKDF label; the user id and Idempotency-Key are the associated data, so a sealed answer moved to
 * another user's key does not open.
 */
export interface AnswerSealer {
  seal(userId: string, key: string, body: string): string;
  /** Null when the text was not sealed by this secret for this user and key. */
  unseal(userId: string, key: string, sealed: string): string | null;
}

export function createAnswerSealer(secretKey: Buffer): AnswerSealer {
  const sealer = createSealer(secretKey, { label: 'xgate/idempotency/v1', version: 'v1' });
  const aad = (userId: string, key: string) => `xgate-idempotency:${userId}\n${key}`;
  return {
    seal: (userId, key, body) => sealer.seal(body, aad(userId, key)),
    unseal: (userId, key, sealed) => sealer.open(sealed, aad(userId, key)),
  };
}
