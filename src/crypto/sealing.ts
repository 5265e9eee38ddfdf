import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM sealing under a key of its own for one purpose: the key is derived from `XGATE_SECRET_KEY`
 * with HKDF-SHA256 under the purpose's label, so a value sealed for one purpose (tokens, cookies, stored
 * answers) never opens under another. The associated data binds a sealed value to where it belongs (a row
 * and column, a cookie name…); it is not stored, the caller gives it again to open.
 *
 * Sealed text is base64url of iv (12 bytes) | tag (16 bytes) | ciphertext, preceded by `<version>.` when the
 * purpose has a version.
 */
export interface Sealer {
  seal(plain: string, associatedData: string): string;
  /** The plain text; null when `sealed` was not sealed by this key with this associated data, or is garbage. */
  open(sealed: string, associatedData: string): string | null;
}

/** Builds the {@link Sealer} of one purpose from the 32-byte app secret. */
export function createSealer(secretKey: Buffer, purpose: { label: string; version?: string }): Sealer {
  const key = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), purpose.label, 32));
  const { version } = purpose;

  const payloadOf = (sealed: string): string | null => {
    if (version === undefined) return sealed;
    const [prefix, payload] = sealed.split('.', 2);
    return prefix === version ? (payload ?? '') : null;
  };

  return {
    seal(plain, associatedData) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const text = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
      return version === undefined ? text : `${version}.${text}`;
    },
    open(sealed, associatedData) {
      const payload = payloadOf(sealed);
      if (payload === null) return null;
      const raw = Buffer.from(payload, 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(associatedData));
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
