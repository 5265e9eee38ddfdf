import { afterEach, describe, expect, it } from 'vitest';
import { createTextWorkers, INLINE_MAX_CHARS, type TextWorkers } from './text-workers.ts';

describe('text workers', () => {
  let pool: TextWorkers;
  afterEach(() => pool?.close());

  it('measures and splits like the functions they run', async () => {
    pool = createTextWorkers({ size: 1, timeoutMs: 5_000 });
    const long = 'word '.repeat(400);
    expect(await pool.run({ kind: 'check', texts: ['hello 😀', long], limit: 280 })).toEqual([
      { weightedLength: 8, limit: 280, problem: null },
      { weightedLength: 2000, limit: 280, problem: 'text_too_long' },
    ]);
    const split = await pool.run({ kind: 'split', text: long, limit: 280 });
    expect(split.invalidCharacters).toBe(false);
    expect(split.items.map((i) => i.text).join(' ')).toBe(long.trim());
    expect(await pool.run({ kind: 'split', text: `${long}\uFFFE`, limit: 280 })).toEqual({
      invalidCharacters: true,
      items: [],
    });
  });

  it('ends a job over its time limit with text_too_complex and keeps serving with a fresh thread', async () => {
    pool = createTextWorkers({ size: 1, timeoutMs: 500 });
    await expect(pool.run({ kind: 'split', text: 'a.'.repeat(20_000), limit: 280 })).rejects.toMatchObject({
      code: 'text_too_complex',
      status: 422,
    });
    const big = 'b'.repeat(INLINE_MAX_CHARS + 1);
    expect(await pool.run({ kind: 'check', texts: [big], limit: 280 })).toEqual([
      { weightedLength: INLINE_MAX_CHARS + 1, limit: 280, problem: 'text_too_long' },
    ]);
  });

  it('refuses jobs beyond its queue with 503 text_busy, and everything once closed', async () => {
    pool = createTextWorkers({ size: 1, timeoutMs: 300, maxQueue: 2 });
    const slow = 'a.'.repeat(20_000);
    const first = pool.run({ kind: 'split', text: slow, limit: 280 }).catch((e) => e.code);
    const second = pool.run({ kind: 'split', text: slow, limit: 280 }).catch((e) => e.code);
    await expect(pool.run({ kind: 'split', text: slow, limit: 280 })).rejects.toMatchObject({
      code: 'text_busy',
    });
    expect(await Promise.all([first, second])).toEqual(['text_too_complex', 'text_too_complex']);
    await pool.close();
    await expect(pool.run({ kind: 'split', text: slow, limit: 280 })).rejects.toMatchObject({
      code: 'stopping',
    });
  });
});
