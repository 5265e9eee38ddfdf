/**
 * Every OAuth 2.0 scope X knows, with the wording of its consent screen (docs.x.com scope table, plus
 * the three only the OpenAPI spec lists).
 */
export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'tweet.read': 'See posts you can view, including posts from protected accounts.',
  'tweet.write': 'Post and repost for you.',
  'tweet.moderate.write': 'Hide and unhide replies to your posts.',
  'users.email': 'See the email address of your account.',
  'users.read': 'See any account you can view, including protected accounts.',
  'follows.read': 'See who you follow and who follows you.',
  'follows.write': 'Follow and unfollow people for you.',
  'offline.access': 'Stay connected to your account until you revoke access.',
  'space.read': 'See all the Spaces you can view.',
  'mute.read': 'See accounts you have muted.',
  'mute.write': 'Mute and unmute accounts for you.',
  'like.read': 'See posts you have liked and likes you can view.',
  'like.write': 'Like and unlike posts for you.',
  'list.read': 'See lists, their members and followers.',
  'list.write': 'Create and manage lists for you.',
  'block.read': 'See accounts you have blocked.',
  'block.write': 'Block and unblock accounts for you.',
  'bookmark.read': 'See your bookmarks.',
  'bookmark.write': 'Bookmark and remove bookmarks for you.',
  'dm.read': 'See your direct messages.',
  'dm.write': 'Send direct messages for you.',
  'media.write': 'Upload media for you.',
  'timeline.read': 'See your timelines.',
  'broadcast.read': 'See broadcasts you can view.',
  'broadcast.write': 'Create and manage broadcasts for you.',
};

export function isKnownScope(scope: string): boolean {
  return Object.hasOwn(SCOPE_DESCRIPTIONS, scope);
}

/** Space-separated scope string → distinct scopes in order. */
export function splitScopes(scope: string): string[] {
  return [...new Set(scope.split(' ').filter((s) => s !== ''))];
}
