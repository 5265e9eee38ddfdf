import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors/index.ts';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('error codes', () => {
  it('every code the API can answer is documented in the README', () => {
    const missing = Object.values(ERROR_CODES)
      .flat()
      .filter((code) => !README.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('each code belongs to one domain', () => {
    const all = Object.values(ERROR_CODES).flat();
    expect(new Set(all).size).toBe(all.length);
  });
});
