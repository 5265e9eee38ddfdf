import { describe, expect, it } from 'vitest';
import { comparableText, matchesItem } from './reconcile.ts';

describe('comparableText', () => {
  it('ignores the t.co rewriting of URLs, media links, HTML escaping, NFC and spacing', () => {
    const sent = 'Read this: https://example.com/a?b=1 & tell me <3';
    const shown = 'Read this: https://t.co/AbCdEf1234 &amp; tell me &lt;3 https://t.co/MediaLink9';
    expect(comparableText(shown)).toBe(comparableText(sent));
    expect(comparableText('Cafe\u0301  ok')).toBe(comparableText('Café ok'));
  });

  it('keeps texts that differ in words apart', () => {
    expect(comparableText('post 1 part 1/3')).not.toBe(comparableText('post 1 part 2/3'));
  });
});

describe('matchesItem', () => {
  const item = { authorId: '42', text: 'Hello https://x.com', inReplyToTweetId: '100' };
  it('needs the same author, text and reply target', () => {
    expect(
      matchesItem({ id: '1', text: 'Hello https://t.co/xyz', authorId: '42', inReplyToTweetId: '100' }, item),
    ).toBe(true);
    expect(
      matchesItem({ id: '1', text: 'Hello https://t.co/xyz', authorId: '43', inReplyToTweetId: '100' }, item),
    ).toBe(false);
    expect(matchesItem({ id: '1', text: 'Hello https://t.co/xyz', authorId: '42' }, item)).toBe(false);
    expect(matchesItem({ id: '1', text: 'Hello', authorId: '42', inReplyToTweetId: '100' }, item)).toBe(true);
  });

  it("compares a long post by its whole text: X's shortened `text` alone does not match", () => {
    const long = { authorId: '42', text: `${'word '.repeat(200)}end`, inReplyToTweetId: undefined };
    const shortened = `${'word '.repeat(50).trimEnd()}… https://t.co/abcdefghij`;
    expect(matchesItem({ id: '1', text: shortened, authorId: '42' }, long)).toBe(false);
    expect(matchesItem({ id: '1', text: long.text, authorId: '42' }, long)).toBe(true);
  });
});
