import type { ReactNode } from 'react';
import type { Account, Post } from '../api.ts';
import { formatDateTime, TIME_ZONE } from '../format.ts';
import { tweetHref } from '../session.tsx';
import { StatusBadge } from './ui.tsx';

/** A post in a list: who, when, its status, each item's text, its links, and the actions given. */
export function PostCard({
  post,
  account,
  when,
  aside,
  detail,
  children,
}: {
  post: Post;
  account: Account | undefined;
  when: number;
  /** Shown at the end of the heading line (e.g. a metrics trend). */
  aside?: ReactNode;
  /** Shown below the actions (e.g. the metrics chart). */
  detail?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <li className="card post" data-post-id={post.id}>
      <div className="post-head">
        <strong>@{account?.username ?? 'unknown account'}</strong>
        <time dateTime={new Date(when).toISOString()} title={TIME_ZONE}>
          {formatDateTime(when)}
        </time>
        <StatusBadge status={post.status} />
        {post.items.length > 1 && <span className="muted">thread of {post.items.length}</span>}
        {aside}
      </div>
      <ol className="post-items">
        {post.items.map((item) => {
          const href = tweetHref(item, post.accountId);
          return (
            <li key={item.position}>
              <p className="post-text">{item.text || <span className="muted">(media only)</span>}</p>
              {item.mediaIds.length > 0 && (
                <span className="muted">
                  {item.mediaIds.length} media file{item.mediaIds.length > 1 ? 's' : ''}
                </span>
              )}
              {href && (
                <a className="tweet-url" href={href}>
                  View tweet{post.items.length > 1 ? ` ${item.position + 1}` : ''} on{' '}
                  {href.startsWith('/') ? 'the sandbox' : 'X'}
                </a>
              )}
              {item.error && <p className="error">{item.error}</p>}
            </li>
          );
        })}
      </ol>
      {post.error && (
        <p className="error">
          {post.error.message} <span className="muted">({post.error.code})</span>
        </p>
      )}
      {children && <div className="actions">{children}</div>}
      {detail}
    </li>
  );
}
