import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors/index.ts';

const REFERENCE = readFileSync(join(import.meta.dirname, '..', 'docs', 'reference.md'), 'utf8');

describe('error codes', () => {
  it('every code the API can answer is documented in docs/reference.md', () => {
    const missing = Object.values(ERROR_CODES)
      .flat()
      .filter((code) => !REFERENCE.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('each code belongs to one domain', () => {
    const all = Object.values(ERROR_CODES).flat();
    expect(new Set(all).size).toBe(all.length);
  });
});
