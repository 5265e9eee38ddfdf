import { createContext, useContext } from 'react';
import type { Account } from './api.ts';

/** In sandbox mode the server says so in index.html (a meta tag: no request, no inline script). */
export const SANDBOX =
  document.querySelector('meta[name="xgate-sandbox"]')?.getAttribute('content') === 'true';

export interface Session {
  userId: string;
  accounts: Account[];
  reloadAccounts: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** Where a published tweet is seen: x.com, or in sandbox mode this app's view of the emulator's timeline. */
export function tweetHref(item: { tweetId?: string; url?: string }, accountId: string): string | undefined {
  if (!item.tweetId) return undefined;
  if (SANDBOX) return `/sandbox?account=${encodeURIComponent(accountId)}#tweet-${item.tweetId}`;
  return item.url;
}
