import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

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
  const cipherKey = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'xgate/idempotency/v1', 32));
  const aad = (userId: string, key: string) => Buffer.from(`xgate-idempotency:${userId}\n${key}`);
  return {
    seal(userId, key, body) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', cipherKey, iv);
      cipher.setAAD(aad(userId, key));
      const sealed = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
    },
    unseal(userId, key, sealed) {
      const [version, payload] = sealed.split('.', 2);
      const raw = Buffer.from(payload ?? '', 'base64url');
      if (version !== VERSION || raw.length < IV_BYTES + TAG_BYTES) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', cipherKey, raw.subarray(0, IV_BYTES));
        decipher.setAAD(aad(userId, key));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
