import type { Media } from '../api.ts';

/** A file attached to a thread item: uploaded (it has an id), or still on its way. */
export interface DraftMedia {
  key: string;
  id?: string;
  mediaType: Media['mediaType'];
  name: string;
  altText: string;
}

export interface DraftItem {
  key: string;
  text: string;
  media: DraftMedia[];
}

export interface Draft {
  accountId: string;
  items: DraftItem[];
  mode: 'now' | 'schedule';
  /** `datetime-local` value in the viewer's zone. */
  scheduledLocal: string;
  /** Move the first tweet's links into a reply (cheaper at X); undefined: the account's default. */
  linkInReply?: boolean;
  /** Sent as Idempotency-Key: a double click, or a retry after a lost answer, never posts twice. */
  submitKey: string;
}

/** A random key (crypto.randomUUID needs a secure context; xgate may be served over plain http on a LAN). */
export const newKey = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join(
    '',
  );

export const emptyItem = (text = ''): DraftItem => ({ key: newKey(), text, media: [] });

export function emptyDraft(accountId: string): Draft {
  return { accountId, items: [emptyItem()], mode: 'now', scheduledLocal: '', submitKey: newKey() };
}

/** X's per-tweet media rules, checked before uploading (the server checks them again). */
export const MEDIA_RULES = {
  image: { maxBytes: 5 * 1024 * 1024, label: 'images', perItem: 4 },
  gif: { maxBytes: 15 * 1024 * 1024, label: 'GIFs', perItem: 1 },
  video: { maxBytes: 512 * 1024 * 1024, label: 'videos', perItem: 1 },
} as const;

export const ACCEPTED_TYPES =
  'image/jpeg,image/png,image/webp,image/gif,video/mp4,video/quicktime,video/webm';

/** The kind X will treat a file as, from its type (the server decides by content; an animated GIF is a `gif`). */
export function mediaTypeOf(file: File): Media['mediaType'] | null {
  if (file.type === 'image/gif') return 'gif';
  if (/^image\/(jpeg|png|webp)$/.test(file.type)) return 'image';
  if (/^video\/(mp4|quicktime|webm)$/.test(file.type)) return 'video';
  return null;
}

/** Why `file` cannot be added to an item that already has `present`, or null when it can. */
export function mediaProblem(file: File, present: DraftMedia[]): string | null {
  const type = mediaTypeOf(file);
  if (!type) return `${file.name} is not a file X takes: use JPEG, PNG, WEBP, GIF, MP4, MOV or WebM.`;
  const rule = MEDIA_RULES[type];
  if (file.size > rule.maxBytes) {
    return `${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; X takes ${rule.label} up to ${rule.maxBytes / 1024 / 1024} MB.`;
  }
  if (present.length > 0 && (type !== 'image' || present.some((media) => media.mediaType !== 'image'))) {
    return 'A tweet has up to four images, or one GIF, or one video — not a mix.';
  }
  if (present.length >= rule.perItem) return 'A tweet has at most four images.';
  return null;
}
