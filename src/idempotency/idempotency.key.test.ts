import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey } from './idempotency.key.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('parseIdempotencyKey', () => {
  it('is null when the header is absent', () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    expect(parseIdempotencyKey([])).toBeNull();
  });

  it('accepts 1 to 255 printable ASCII characters, taken literally', () => {
    expect(parseIdempotencyKey(['a'])).toBe('a');
    expect(parseIdempotencyKey(['x'.repeat(255)])).toBe('x'.repeat(255));
    expect(parseIdempotencyKey(['8e03978e-40d5-43e8-bc93-6894a57f9324'])).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(parseIdempotencyKey(['"quoted key" ~!@#$%^&*()'])).toBe('"quoted key" ~!@#$%^&*()');
  });

  it.each([
    ['empty', ['']],
    ['256 characters', ['x'.repeat(256)]],
    ['non-ASCII', ['clé']],
    ['a tab', ['a\tb']],
    ['a DEL', ['a\x7fb']],
    ['sent twice', ['a', 'a']],
  ])('refuses a key that is %s with invalid_idempotency_key', (_name, values) => {
    expect(codeOf(() => parseIdempotencyKey(values))).toBe('invalid_idempotency_key');
  });
});
