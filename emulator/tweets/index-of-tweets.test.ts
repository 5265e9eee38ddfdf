import { describe, expect, it } from 'vitest';
import type { EmuTweet } from '../state.ts';
import { addToIndex, findDuplicate, removeDeletedText, tweetIndex } from './index-of-tweets.ts';

function tweet(id: string, authorId: string, text: string, createdAt: number): EmuTweet {
  return {
    id,
    authorId,
    text,
    createdAt,
    inReplyToTweetId: null,
    conversationId: id,
    mediaIds: [],
    deletedAt: null,
    urls: [],
    quoteTweetId: null,
    replySettings: null,
  };
}

describe('tweet index', () => {
  it('finds a duplicate within the window, per author, and forgets deleted tweets', () => {
    const tweets = new Map<string, EmuTweet>();
    const add = (t: EmuTweet) => {
      const index = tweetIndex(tweets);
      tweets.set(t.id, t);
      addToIndex(index, t);
    };
    add(tweet('1', 'a', 'hello', 0));
    add(tweet('2', 'b', 'hello', 10));
    const index = tweetIndex(tweets);
    expect(findDuplicate(index, 'a', 'hello', 100, 1000)?.id).toBe('1');
    expect(findDuplicate(index, 'c', 'hello', 100, 1000)).toBeUndefined();
    expect(findDuplicate(index, 'a', 'hello', 1001, 1000)).toBeUndefined();
    expect(findDuplicate(index, 'b', 'hello', 1001, 1000)?.id).toBe('2');
    const second = tweets.get('2')!;
    second.deletedAt = 20;
    removeDeletedText(index, second);
    expect(findDuplicate(index, 'b', 'hello', 30, 1000)).toBeUndefined();
  });

  it('rebuilds itself when the tweets were replaced behind its back', () => {
    const tweets = new Map<string, EmuTweet>([['1', tweet('1', 'a', 'x', 0)]]);
    expect(tweetIndex(tweets).byAuthor.get('a')).toHaveLength(1);
    tweets.clear();
    tweets.set('5', tweet('5', 'b', 'y', 0));
    expect(tweetIndex(tweets).byAuthor.get('a')).toBeUndefined();
    expect(tweetIndex(tweets).byAuthor.get('b')).toHaveLength(1);
  });
});
