import { describe, expect, it } from 'vitest';
import { linkUrls, maxWeightedLength, postedText, textEntities, weightedLength } from './text.ts';

describe('weighted length (twitter-text v3)', () => {
  it('counts ASCII 1, CJK and emoji 2, every URL 23', () => {
    expect(weightedLength('a'.repeat(280))).toBe(280);
    expect(weightedLength('日本')).toBe(4);
    expect(weightedLength('😀')).toBe(2);
    expect(weightedLength('👩‍👩‍👧‍👦')).toBe(2);
    expect(weightedLength(`https://example.com/${'x'.repeat(200)}`)).toBe(23);
  });

  it('allows 25,000 for subscribers and 280 otherwise', () => {
    expect(maxWeightedLength('None')).toBe(280);
    expect(maxWeightedLength(undefined)).toBe(280);
    for (const type of ['Basic', 'Premium', 'PremiumPlus']) expect(maxWeightedLength(type)).toBe(25_000);
  });
});

describe('t.co links', () => {
  it('replaces each URL by a 23-character link that is stable per tweet and position', () => {
    const linked = linkUrls('see https://example.com/a and www.example.org/b.', '42');
    expect(linked.text).toMatch(/^see https:\/\/t\.co\/\w{10} and https:\/\/t\.co\/\w{10}\.$/);
    expect(linked.urls.map((u) => u.url.length)).toEqual([23, 23]);
    expect(linked.urls[1]).toMatchObject({
      expandedUrl: 'http://www.example.org/b',
      displayUrl: 'example.org/b',
      original: 'www.example.org/b',
    });
    expect(linkUrls('see https://example.com/a and www.example.org/b.', '42')).toEqual(linked);
    expect(linkUrls('see https://example.com/a', '43').text).not.toBe(
      linkUrls('see https://example.com/a', '42').text,
    );
    expect(postedText(linked.text, linked.urls)).toBe('see https://example.com/a and www.example.org/b.');
  });

  it('leaves text without URLs alone', () => {
    expect(linkUrls('no links here', '1')).toEqual({ text: 'no links here', urls: [] });
    expect(linkUrls('version 1.2 is out', '1')).toEqual({ text: 'version 1.2 is out', urls: [] });
  });
});

describe('entities', () => {
  it('indexes in code points, as X does', () => {
    const linked = linkUrls('😀 #tag @ada https://example.com $XG', '7');
    const entities = textEntities(linked.text, linked.urls);
    expect(entities.hashtags).toEqual([{ start: 2, end: 6, tag: 'tag' }]);
    expect(entities.mentions).toEqual([{ start: 7, end: 11, username: 'ada' }]);
    expect(entities.urls).toEqual([
      {
        start: 12,
        end: 35,
        url: linked.urls[0]!.url,
        expanded_url: 'https://example.com',
        display_url: 'example.com',
      },
    ]);
    expect(entities.cashtags).toEqual([{ start: 36, end: 39, tag: 'XG' }]);
  });
});
