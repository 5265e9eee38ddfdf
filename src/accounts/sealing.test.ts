import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenSealer } from './sealing.ts';

describe('token sealing', () => {
  const sealer = createTokenSealer(randomBytes(32));

  it('round-trips and hides the token', () => {
    const sealed = sealer.seal('acc-1', 'access', 'secret-token-value');
    expect(sealed).not.toContain('secret-token-value');
    expect(sealed).not.toBe(sealer.seal('acc-1', 'access', 'secret-token-value'));
    expect(sealer.unseal('acc-1', 'access', sealed)).toBe('secret-token-value');
  });

  it('does not open for another account, another column or another key', () => {
    const sealed = sealer.seal('acc-1', 'refresh', 'rt');
    expect(() => sealer.unseal('acc-2', 'refresh', sealed)).toThrow(
      expect.objectContaining({ code: 'token_unseal_failed' }),
    );
    expect(() => sealer.unseal('acc-1', 'access', sealed)).toThrow(
      expect.objectContaining({ code: 'token_unseal_failed' }),
    );
    expect(() => createTokenSealer(randomBytes(32)).unseal('acc-1', 'refresh', sealed)).toThrow();
    expect(() => sealer.unseal('acc-1', 'refresh', 'v1.AAAA')).toThrow();
  });

  it('opens a token sealed before sealing moved to src/crypto (same key, associated data and format)', () => {
    const sealed = 'v1.eBcvM-ZUNyclKBWIyw87Qa-8N_YjnkqMWD0ZshMsspcyOHnvic9hEU26qA';
    expect(createTokenSealer(Buffer.alloc(32, 7)).unseal('acc-1', 'refresh', sealed)).toBe('refresh-token-1');
  });

  it('refuses an empty token', () => {
    const sealed = sealer.seal('acc-1', 'access', '');
    expect(() => sealer.unseal('acc-1', 'access', sealed)).toThrow(
      expect.objectContaining({ code: 'token_unseal_failed' }),
    );
  });
});
