import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer } from './sealing.ts';

describe('createSealer', () => {
  const secret = randomBytes(32);
  const tokens = createSealer(secret, { label: 'xgate/test-a/v1', version: 'v1' });

  it('opens what it sealed with the same associated data only', () => {
    const sealed = tokens.seal('plain text', 'row-1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('plain text');
    expect(sealed).not.toBe(tokens.seal('plain text', 'row-1'));
    expect(tokens.open(sealed, 'row-1')).toBe('plain text');
    expect(tokens.open(sealed, 'row-2')).toBeNull();
  });

  it('derives one key per purpose label and per secret', () => {
    const sealed = tokens.seal('plain text', 'row-1');
    expect(
      createSealer(secret, { label: 'xgate/test-b/v1', version: 'v1' }).open(sealed, 'row-1'),
    ).toBeNull();
    expect(
      createSealer(randomBytes(32), { label: 'xgate/test-a/v1', version: 'v1' }).open(sealed, 'row-1'),
    ).toBeNull();
  });

  it('refuses another version, a missing version, tampering and garbage', () => {
    const sealed = tokens.seal('plain text', 'row-1');
    expect(tokens.open(`v2${sealed.slice(2)}`, 'row-1')).toBeNull();
    expect(tokens.open(sealed.slice(3), 'row-1')).toBeNull();
    expect(tokens.open(`${sealed.slice(0, -2)}AA`, 'row-1')).toBeNull();
    expect(tokens.open('v1.AAAA', 'row-1')).toBeNull();
    expect(tokens.open('', 'row-1')).toBeNull();
  });

  it('without a version, the sealed text is bare base64url', () => {
    const bare = createSealer(secret, { label: 'xgate/test-c/v1' });
    const sealed = bare.seal('plain text', 'name');
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(bare.open(sealed, 'name')).toBe('plain text');
    expect(bare.open('%%%', 'name')).toBeNull();
  });
});
