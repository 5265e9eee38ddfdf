import { useEffect } from 'react';
import { api, type SandboxTweet } from '../api.ts';
import { Avatar, EmptyState, ErrorNote, Skeleton } from '../components/ui.tsx';
import { formatDateTime, TIME_ZONE } from '../format.ts';
import { useResource } from '../hooks.ts';
import { navigate, useLocation } from '../router.tsx';
import { useSession } from '../session.tsx';

/** Threads as X shows them: each conversation from its first tweet down its reply chain, newest first. */
function conversations(tweets: SandboxTweet[]): SandboxTweet[][] {
  const byId = new Map(tweets.map((tweet) => [tweet.id, tweet]));
  const replies = new Map<string, SandboxTweet[]>();
  const roots: SandboxTweet[] = [];
  for (const tweet of tweets) {
    if (tweet.inReplyToTweetId && byId.has(tweet.inReplyToTweetId)) {
      replies.set(tweet.inReplyToTweetId, [...(replies.get(tweet.inReplyToTweetId) ?? []), tweet]);
    } else {
      roots.push(tweet);
    }
  }
  return roots.map((root) => {
    const chain = [root];
    for (let next = replies.get(root.id); next?.length; next = replies.get(next[0]!.id))
      chain.push(...next.slice(0, 1));
    return chain;
  });
}

export function Sandbox() {
  const { accounts } = useSession();
  const location = useLocation();
  const chosen =
    accounts.find((account) => account.id === location.searchParams.get('account')) ?? accounts[0];
  const timeline = useResource(
    (signal) =>
      chosen
        ? api<{ tweets: SandboxTweet[] }>(
            'GET',
            `/api/v1/sandbox/timeline?accountId=${encodeURIComponent(chosen.id)}`,
            undefined,
            signal,
          )
        : Promise.resolve({ tweets: [] }),
    [chosen?.id],
  );

  // A link to one tweet (`#tweet-ID`) scrolls to it once the timeline is shown.
  useEffect(() => {
    if (!timeline.data || !location.hash) return;
    const target = document.getElementById(location.hash.slice(1));
    target?.scrollIntoView({ block: 'center' });
    target?.focus();
  }, [timeline.data, location.hash]);

  if (!chosen) return <EmptyState title="Connect a sandbox X account to see its timeline." />;
  return (
    <section aria-labelledby="sandbox-title">
      <h2 id="sandbox-title">Sandbox X</h2>
      <p className="muted">
        What the built-in X emulator shows for your sandbox accounts: nothing here is on the real X. Times in{' '}
        {TIME_ZONE}.
      </p>
      <label className="field">
        Timeline of
        <select
          value={chosen.id}
          onChange={(event) => navigate(`/sandbox?account=${encodeURIComponent(event.target.value)}`)}
        >
          {accounts.map((account) => (
            <option key={account.id} value={account.id}>
              @{account.username}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={timeline.error} />
      {!timeline.data ? (
        <Skeleton />
      ) : timeline.data.tweets.length === 0 ? (
        <EmptyState title={`@${chosen.username} has not posted yet.`} />
      ) : (
        <ol className="cards timeline">
          {conversations(timeline.data.tweets).map((chain) => (
            <li key={chain[0]!.id} className="card">
              <ol className="tweet-thread">
                {chain.map((tweet, index) => (
                  <li
                    key={tweet.id}
                    id={`tweet-${tweet.id}`}
                    tabIndex={-1}
                    className={`tweet${index < chain.length - 1 ? ' tweet-continues' : ''}${tweet.deletedAt ? ' tweet-deleted' : ''}`}
                    data-tweet-id={tweet.id}
                  >
                    <Avatar account={chosen} />
                    <div className="tweet-body">
                      <p className="tweet-author">
                        <strong>{chosen.name}</strong> <span className="muted">@{chosen.username}</span> ·{' '}
                        <time dateTime={new Date(tweet.createdAt).toISOString()}>
                          {formatDateTime(tweet.createdAt)}
                        </time>
                      </p>
                      {tweet.inReplyToTweetId && index === 0 && <p className="muted">Replying to a tweet</p>}
                      <p className="tweet-text">{tweet.text}</p>
                      {tweet.mediaIds.length > 0 && (
                        <div className={`tweet-media tweet-media-${Math.min(tweet.mediaIds.length, 4)}`}>
                          {tweet.mediaIds.map((id) => (
                            <span key={id} className="media-kind">
                              media {id.slice(-6)}
                            </span>
                          ))}
                        </div>
                      )}
                      {tweet.deletedAt && (
                        <p className="badge badge-canceled">deleted {formatDateTime(tweet.deletedAt)}</p>
                      )}
                    </div>
                  </li>
                ))}
              </ol>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
