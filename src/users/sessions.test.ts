import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCookieSealer } from './sessions.ts';

describe('cookie sealing', () => {
  const sealer = createCookieSealer(randomBytes(32));

  it('round-trips a value until it expires', () => {
    const sealed = sealer.seal('oauth', { state: 's', verifier: 'v' }, 2_000);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealer.unseal('oauth', sealed, 1_999)).toEqual({ state: 's', verifier: 'v' });
    expect(sealer.unseal('oauth', sealed, 2_000)).toBeNull();
  });

  it('refuses a value sealed for another cookie name or with another key', () => {
    const sealed = sealer.seal('oauth', 'x', 10_000);
    expect(sealer.unseal('xgate_session', sealed, 0)).toBeNull();
    expect(createCookieSealer(randomBytes(32)).unseal('oauth', sealed, 0)).toBeNull();
  });

  it('refuses tampered or garbage text', () => {
    const sealed = Buffer.from(sealer.seal('n', 'value', 10_000), 'base64url');
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    expect(sealer.unseal('n', sealed.toString('base64url'), 0)).toBeNull();
    expect(sealer.unseal('n', '', 0)).toBeNull();
    expect(sealer.unseal('n', '%%%', 0)).toBeNull();
  });

  it('does not reveal the value in the sealed text', () => {
    expect(
      Buffer.from(sealer.seal('n', 'hello-secret', 10_000), 'base64url').toString('latin1'),
    ).not.toContain('hello-secret');
  });

  it('opens a cookie sealed before sealing moved to src/crypto (same key, associated data and format)', () => {
    const sealed = 'A64UYJPdhGLC3NzwK1d2aV9lquwXWR6Bunr5hM9RFdxcXutFwXvkswqN7bIa56wsXBH-qzAKApNTTSRKiLY59Q';
    expect(createCookieSealer(Buffer.alloc(32, 7)).unseal('xgate_session', sealed, 0)).toEqual({ uid: 'u1' });
  });
});
