import { useEffect, useState } from 'react';
import { type ApiError, api, type XgateEvent } from '../api.ts';
import { EmptyState, ErrorNote } from '../components/ui.tsx';
import { formatDateTime, TIME_ZONE } from '../format.ts';
import { useSession } from '../session.tsx';

const SHOWN =
  'post.published,post.failed,post.needs_review,post.canceled,post.deleted,post.scheduled,account.connected,account.needs_reconnect,account.disconnected,webhook.disabled';

function describe(event: XgateEvent, username: (accountId: unknown) => string): string {
  const data = event.data;
  switch (event.type) {
    case 'post.published':
      return `Published ${(data.items as unknown[] | undefined)?.length ?? 1} tweet(s) as ${username(data.accountId)}.`;
    case 'post.failed':
      return `A post of ${username(data.accountId)} failed${data.error ? `: ${(data.error as { message?: string }).message ?? ''}` : '.'}`;
    case 'post.needs_review':
      return `A post of ${username(data.accountId)} needs review: xgate could not tell whether X took a tweet.`;
    case 'post.scheduled':
      return `A post of ${username(data.accountId)} was scheduled.`;
    case 'post.canceled':
      return `A post of ${username(data.accountId)} was canceled.`;
    case 'post.deleted':
      return `A post of ${username(data.accountId)} was deleted from X.`;
    case 'account.connected':
      return `${username(data.accountId)} was connected.`;
    case 'account.needs_reconnect':
      return `${username(data.accountId)} needs to be reconnected${data.reason ? `: ${String(data.reason)}` : '.'}`;
    case 'account.disconnected':
      return `${username(data.accountId)} was disconnected.`;
    case 'webhook.disabled':
      return `The webhook ${String(data.url ?? '')} was disabled: ${String(data.reason ?? '')}`;
    default:
      return event.type;
  }
}

/** The user's recent events, then new ones as they happen (long polling `GET /api/v1/events?wait=`). */
export function Activity() {
  const { accounts } = useSession();
  const [events, setEvents] = useState<XgateEvent[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    let cursor: string | null = null;
    let recent: XgateEvent[] = [];
    (async () => {
      // Catch up (every page), then wait for what comes next.
      while (!controller.signal.aborted) {
        const query = new URLSearchParams({ types: SHOWN, limit: '200' });
        if (cursor) query.set('after', cursor);
        const caughtUp = recent.length > 0 || cursor !== null;
        if (caughtUp) query.set('wait', '25');
        try {
          const page: { items: XgateEvent[]; nextCursor: string | null } = await api(
            'GET',
            `/api/v1/events?${query}`,
            undefined,
            controller.signal,
          );
          recent = [...page.items.reverse(), ...recent].slice(0, 200);
          setEvents(recent);
          setError(null);
          if (page.nextCursor) cursor = page.nextCursor;
        } catch (caught) {
          if ((caught as Error).name === 'AbortError') return;
          setError(caught as ApiError);
          await new Promise((resolve) => setTimeout(resolve, 5000));
        }
      }
    })();
    return () => controller.abort();
  }, []);

  const username = (accountId: unknown) => {
    const account = accounts.find((candidate) => candidate.id === accountId);
    return account ? `@${account.username}` : 'an account';
  };

  return (
    <section aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <p className="muted">Live while this page is open. Times in {TIME_ZONE}.</p>
      <ErrorNote error={error} />
      {events === null ? null : events.length === 0 ? (
        <EmptyState title="No activity yet — what xgate does for you appears here as it happens." />
      ) : (
        <ol className="events" aria-live="polite">
          {events.map((event) => (
            <li key={event.id} className={`event event-${event.type.replace('.', '-')}`}>
              <time dateTime={new Date(event.at).toISOString()}>{formatDateTime(event.at)}</time>
              <span>{describe(event, username)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
