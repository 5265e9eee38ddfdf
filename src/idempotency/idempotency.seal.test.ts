import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAnswerSealer } from './idempotency.seal.ts';

describe('createAnswerSealer', () => {
  const sealer = createAnswerSealer(randomBytes(32));
  const body = '{"id":"k1","key":"xg_secret"}';

  it('opens what it sealed, for the same user and key only', () => {
    const sealed = sealer.seal('u1', 'key-1', body);
    expect(sealed).not.toContain('xg_secret');
    expect(sealer.unseal('u1', 'key-1', sealed)).toBe(body);
    expect(sealer.unseal('u2', 'key-1', sealed)).toBeNull();
    expect(sealer.unseal('u1', 'key-2', sealed)).toBeNull();
  });

  it('refuses text sealed with another secret, tampered with, or not sealed at all', () => {
    const sealed = sealer.seal('u1', 'key-1', body);
    expect(createAnswerSealer(randomBytes(32)).unseal('u1', 'key-1', sealed)).toBeNull();
    expect(sealer.unseal('u1', 'key-1', `${sealed.slice(0, -2)}AA`)).toBeNull();
    expect(sealer.unseal('u1', 'key-1', body)).toBeNull();
  });

  it('opens an answer sealed before sealing moved to src/crypto (same key, associated data and format)', () => {
    const sealed = 'v1.QDJpdtUoMzIFr0pJu0yPzX1IDX4h3WLG7sIi_EChhQo3qv0KL3aQRW75kFs7T7E';
    expect(createAnswerSealer(Buffer.alloc(32, 7)).unseal('u1', 'key-1', sealed)).toBe('{"key":"xg_secret"}');
  });
});
