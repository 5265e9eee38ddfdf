import { describe, expect, it } from 'vitest';
import { checkText, LONG_POST_MAX_WEIGHTED_LENGTH, maxWeightedLengthFor, weightedLength } from './text.ts';

describe('text rules', () => {
  it('counts as X does: URLs 23, emoji and CJK 2', () => {
    expect(weightedLength('hello https://example.com/a/very/long/path/indeed')).toBe(6 + 23);
    expect(weightedLength('😀')).toBe(2);
    expect(weightedLength('日本')).toBe(4);
  });

  it('allows long posts for subscribed accounts only', () => {
    expect(maxWeightedLengthFor(null)).toBe(280);
    expect(maxWeightedLengthFor('None')).toBe(280);
    expect(maxWeightedLengthFor('Basic')).toBe(LONG_POST_MAX_WEIGHTED_LENGTH);
    expect(maxWeightedLengthFor('Premium')).toBe(25_000);
    expect(maxWeightedLengthFor('PremiumPlus')).toBe(25_000);
  });

  it('reports length, limit and the problem', () => {
    expect(checkText('a'.repeat(280), 280)).toEqual({ weightedLength: 280, limit: 280, problem: null });
    expect(checkText('a'.repeat(281), 280)).toEqual({
      weightedLength: 281,
      limit: 280,
      problem: 'text_too_long',
    });
    expect(checkText('日'.repeat(141), 280).problem).toBe('text_too_long');
    expect(checkText('a'.repeat(281), 25_000).problem).toBeNull();
    expect(checkText('bad \uFFFE char', 280).problem).toBe('invalid_characters');
  });
});
