import type { MediaType } from '../db/schema.ts';
import { PostRuleError, ReferenceNotFoundError } from './posts.errors.ts';
import type { DraftItem } from './posts.repository.ts';
import type { TextCheck } from './text.ts';

/** X's media rule per tweet: up to 4 images, or 1 animated GIF, or 1 video, never mixed. */
export const MAX_IMAGES_PER_ITEM = 4;

/** What validation needs to know about the media a post refers to (the user's own media only). */
export type OwnedMedia = ReadonlyMap<string, { mediaType: MediaType }>;

const ORDINAL_SUFFIXES = ['th', 'st', 'nd', 'rd'];

/**
 * How messages name an item: by its position as the API counts (from 0) and as people count, e.g.
 * "items[1] (the 2nd item)". `details.item` is the same position.
 */
export function itemName(index: number): string {
  const n = index + 1;
  const suffix = (n % 100 >= 11 && n % 100 <= 13 ? undefined : ORDINAL_SUFFIXES[n % 10]) ?? 'th';
  return `items[${index}] (the ${n}${suffix} item)`;
}

/** An item's text as it is stored and checked: blank text counts as none. */
export function itemText(item: { text: string }): string {
  return item.text.trim() === '' ? '' : item.text;
}

/**
 * Checks a post's items before anything is stored, as X will check each tweet: 1–`maxItems` items, each
 * with text or media, text within `textLimit` (weighted) and free of characters X refuses, media owned by
 * the user and allowed together. `checks[i]` is item i's {@link itemText} measured against the limit (by the text
 * workers; absent when the item count is already out of range). Returns the items normalized (blank text → empty); throws the first
 * problem as a {@link PostRuleError} (422) or {@link ReferenceNotFoundError} (404 for media).
 */
export function validateItems(
  items: ReadonlyArray<{ text: string; mediaIds?: readonly string[] | undefined }>,
  rules: { maxItems: number; media: OwnedMedia; checks: readonly TextCheck[] },
): DraftItem[] {
  if (items.length === 0) {
    throw new PostRuleError('thread_empty', 'A post needs at least one item.', { field: 'items', count: 0 });
  }
  if (items.length > rules.maxItems) {
    throw new PostRuleError(
      'thread_too_long',
      `A thread can have at most ${rules.maxItems} items; this one has ${items.length}.`,
      { field: 'items', count: items.length, limit: rules.maxItems },
    );
  }
  return items.map((item, index) => {
    const name = itemName(index);
    const mediaIds = [...(item.mediaIds ?? [])];
    const text = itemText(item);
    if (text === '' && mediaIds.length === 0) {
      throw new PostRuleError(
        'empty_item',
        `${name} has neither text nor media: give it text, media, or remove it.`,
        {
          item: index,
          field: 'text',
        },
      );
    }
    if (text !== '') {
      const check = rules.checks[index]!;
      if (check.problem === 'text_too_long') {
        throw new PostRuleError(
          'text_too_long',
          `${name} is ${check.weightedLength} characters long as X counts them; the limit for this account is ${check.limit}. Shorten it, or cut the text into a thread with POST /api/v1/threads/split.`,
          { item: index, field: 'text', weightedLength: check.weightedLength, limit: check.limit },
        );
      }
      if (check.problem === 'invalid_characters') {
        throw new PostRuleError(
          'invalid_characters',
          `${name} contains characters X does not accept (U+FFFE, U+FEFF or U+FFFF); remove them.`,
          { item: index, field: 'text' },
        );
      }
    }
    checkMedia(mediaIds, index, rules.media);
    return { text, mediaIds };
  });
}

function checkMedia(mediaIds: string[], index: number, owned: OwnedMedia): void {
  const name = itemName(index);
  if (new Set(mediaIds).size !== mediaIds.length) {
    throw new PostRuleError('duplicate_media', `${name} lists the same media more than once.`, {
      item: index,
      field: 'mediaIds',
    });
  }
  const types: MediaType[] = [];
  for (const id of mediaIds) {
    const media = owned.get(id);
    if (!media) {
      throw new ReferenceNotFoundError(
        'media_not_found',
        `${name} refers to media "${id}", which is not among your uploads: upload the file first with POST /api/v1/media and use the id it answers.`,
        {
          item: index,
          field: 'mediaIds',
          mediaId: id,
        },
      );
    }
    types.push(media.mediaType);
  }
  const moving = types.filter((t) => t !== 'image');
  if (moving.length > 0 && types.length > 1) {
    throw new PostRuleError(
      'mixed_media',
      `${name} combines a ${moving[0] === 'gif' ? 'GIF' : 'video'} with other media; X allows one GIF or one video alone, or up to ${MAX_IMAGES_PER_ITEM} images.`,
      { item: index, field: 'mediaIds' },
    );
  }
  if (types.length > MAX_IMAGES_PER_ITEM) {
    throw new PostRuleError(
      'too_many_media',
      `${name} has ${types.length} images; X allows at most ${MAX_IMAGES_PER_ITEM} per tweet. Move the rest to another item of the thread.`,
      { item: index, field: 'mediaIds', count: types.length, limit: MAX_IMAGES_PER_ITEM },
    );
  }
}
