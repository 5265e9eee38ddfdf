import type { XError } from '../x/index.ts';

/** `the post` for a single tweet, `item 2` (1-based) inside a thread. */
export function itemLabel(index: number, count: number): string {
  return count === 1 ? 'the post' : `item ${index + 1}`;
}

/**
 * X's refusal of an item (or of its media) in words a person understands, with X's own reason when it gave one:
 * "X refused item 2 as a duplicate of a recent post by this account."
 */
export function refusalMessage(error: XError, label: string, what: 'tweet' | 'media'): string {
  const reason = error.detail ?? error.title;
  const because = reason ? `: ${reason.replace(/\.?$/, '.')}` : '.';
  if (what === 'media') {
    if (error.code === 'x_media_failed') return `X could not process the media of ${label}${because}`;
    return `X refused the media of ${label}${because}`;
  }
  switch (error.code) {
    case 'x_duplicate_content':
      return `X refused ${label} as a duplicate of a recent post by this account.`;
    case 'x_forbidden':
      return `X did not allow ${label}${because}`;
    case 'x_not_found':
      return `X refused ${label} because something it refers to no longer exists (a deleted tweet or expired media)${because}`;
    default:
      return `X refused ${label}${because}`;
  }
}
