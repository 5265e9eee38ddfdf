import twitterText from 'twitter-text';
import type { DraftItem } from './posts.repository.ts';

/**
 * "Cheaper links": X bills a post whose text has a URL $0.20 instead of $0.015. With `linkInReply`, the URLs of
 * the first item move into a new item right after it (a reply to it), so the post itself is billed as a plain
 * post. Nothing moves when the first item has no URL, or when only its URLs would be left of it (no text, no media).
 */
export function moveLinksToReply<T extends { text: string; mediaIds?: readonly string[] | undefined }>(
  items: readonly T[],
): { items: (T | DraftItem)[]; moved: boolean } {
  const first = items[0];
  if (!first) return { items: [...items], moved: false };
  const urls = twitterText.extractUrlsWithIndices(first.text);
  if (urls.length === 0) return { items: [...items], moved: false };
  let text = first.text;
  for (const url of [...urls].reverse()) {
    const [start, end] = url.indices;
    text = text.slice(0, start) + text.slice(end);
  }
  text = text
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/[ \t]+\n/g, '\n')
    .trim();
  if (text === '' && (first.mediaIds?.length ?? 0) === 0) return { items: [...items], moved: false };
  const reply: DraftItem = { text: urls.map((url) => url.url).join('\n'), mediaIds: [] };
  return { items: [{ ...first, text }, reply, ...items.slice(1)], moved: true };
}
