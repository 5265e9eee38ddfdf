import twitter from 'twitter-text';
import { describe, expect, it } from 'vitest';
import { splitThread } from './split.ts';
import { weightedLength } from './text.ts';

/** A small deterministic generator, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const WORDS = [
  'the',
  'quick',
  'brown',
  'fox',
  'jumps',
  'over',
  'lazy',
  'dog',
  'xgate',
  'schedules',
  'threads',
  'https://example.com/some/long/path?with=query&and=more',
  'example.org',
  '😀',
  '👩‍👩‍👧‍👦',
  '🇫🇷',
  '👍🏽',
  '日本語',
  'テキスト',
  'naïve',
  'café',
  'Straße',
  'a'.repeat(40),
  '#hashtag',
  '@someone',
];

function randomText(seed: number): string {
  const next = random(seed);
  const length = 20 + Math.floor(next() * 400);
  const parts: string[] = [];
  for (let i = 0; i < length; i++) {
    parts.push(WORDS[Math.floor(next() * WORDS.length)]!);
    const r = next();
    parts.push(r < 0.08 ? '. ' : r < 0.1 ? '!\n\n' : r < 0.12 ? '  ' : r < 0.13 ? '。' : ' ');
  }
  if (next() < 0.2) parts.push('z'.repeat(600));
  return parts.join('');
}

const graphemes = (s: string) =>
  [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)].map((g) => g.segment);
const urls = (s: string) => twitter.extractUrls(s);

describe('splitThread', () => {
  it('keeps a short text whole', () => {
    expect(splitThread('  Hello world.  ', { maxWeightedLength: 280 })).toEqual([
      { text: 'Hello world.', weightedLength: 12 },
    ]);
  });

  it('cuts at a sentence end rather than mid-sentence', () => {
    const first = `${'word '.repeat(30)}end.`;
    const second = `Next ${'word '.repeat(39).trim()}`;
    const items = splitThread(`${first} ${second}`, { maxWeightedLength: 280 });
    expect(items.map((i) => i.text)).toEqual([first, second]);
  });

  it('hard-cuts only a word longer than a tweet, at grapheme boundaries', () => {
    const long = '😀'.repeat(200);
    const items = splitThread(`short ${long}`, { maxWeightedLength: 280 });
    expect(items.map((i) => i.text)).toEqual(['short', '😀'.repeat(140), '😀'.repeat(60)]);
  });

  it('never cuts a URL, even one longer than the limit in characters', () => {
    const url = `https://example.com/${'p'.repeat(400)}`;
    const items = splitThread(`${'a '.repeat(120)}${url} tail`, { maxWeightedLength: 280 });
    expect(items.some((i) => i.text.includes(url))).toBe(true);
  });

  it('keeps a URL whole inside a word too long for a tweet', () => {
    const url = 'https://example.com/inside';
    const text = `${'q'.repeat(270)}(${url})${'r'.repeat(300)}`;
    const items = splitThread(text, { maxWeightedLength: 280 });
    expect(items.map((i) => i.text).join('')).toBe(text);
    expect(items.some((i) => i.text.includes(url))).toBe(true);
    for (const i of items) expect(i.weightedLength).toBeLessThanOrEqual(280);
  });

  it('splits very long texts of every kind into valid items', () => {
    for (const text of ['x'.repeat(30_000), '👩‍👩‍👧‍👦'.repeat(3_000), '日本語の文です。'.repeat(3_000)]) {
      const items = splitThread(text, { maxWeightedLength: 280 });
      expect(items.map((i) => i.text).join('')).toBe(text);
      for (const i of items) expect(i.weightedLength).toBeLessThanOrEqual(280);
    }
  });

  for (const max of [280, 100]) {
    it(`holds its properties on random texts (limit ${max})`, () => {
      for (let seed = 1; seed <= 60; seed++) {
        const text = randomText(seed * 7919 + max);
        const items = splitThread(text, { maxWeightedLength: max });
        const context = `seed ${seed}`;
        let offset = 0;
        for (const item of items) {
          expect(item.weightedLength, context).toBe(weightedLength(item.text));
          expect(item.weightedLength, context).toBeGreaterThan(0);
          expect(item.weightedLength, context).toBeLessThanOrEqual(max);
          expect(item.text, context).toBe(item.text.trim());
          // Items are the text's own pieces, in order, with only whitespace between them.
          const at = text.indexOf(item.text, offset);
          expect(text.slice(offset, at).trim(), context).toBe('');
          offset = at + item.text.length;
        }
        expect(text.slice(offset).trim(), context).toBe('');
        const joined = items.map((i) => i.text).join('');
        expect(joined.replace(/\s+/gu, ''), context).toBe(text.replace(/\s+/gu, ''));
        // No grapheme and no URL is cut: each is whole in some item.
        const itemGraphemes = items.flatMap((i) => graphemes(i.text));
        expect(itemGraphemes.join('').replace(/\s+/gu, ''), context).toBe(text.replace(/\s+/gu, ''));
        for (const g of graphemes(text))
          if (/\p{Extended_Pictographic}/u.test(g)) expect(itemGraphemes).toContain(g);
        const itemUrls = items.flatMap((i) => urls(i.text));
        expect(itemUrls, context).toEqual(urls(text));
      }
    });
  }
});
