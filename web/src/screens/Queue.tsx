import { useState } from 'react';
import { type ApiError, api, listAll, type Post } from '../api.ts';
import { PostCard } from '../components/PostCard.tsx';
import { ConfirmDialog, EmptyState, ErrorNote, Skeleton } from '../components/ui.tsx';
import {
  formatDay,
  formatShortDay,
  formatTime,
  fromLocalInput,
  localDayKey,
  TIME_ZONE,
  toLocalInput,
} from '../format.ts';
import { useResource } from '../hooks.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';

const DAY = 86_400_000;

function Reschedule({ post, onDone }: { post: Post; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(toLocalInput(post.scheduledAt));
  const [error, setError] = useState<ApiError | null>(null);
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Reschedule
      </button>
    );
  }
  return (
    <form
      className="inline-form"
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          await api('PATCH', `/api/v1/posts/${post.id}`, {
            scheduledAt: new Date(fromLocalInput(value)).toISOString(),
          });
          setOpen(false);
          onDone();
        } catch (caught) {
          setError(caught as ApiError);
        }
      }}
    >
      <label>
        New time ({TIME_ZONE})
        <input
          type="datetime-local"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          required
        />
      </label>
      <button type="submit" className="button-primary">
        Save time
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

function WeekView({ posts }: { posts: Post[] }) {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const days = Array.from({ length: 7 }, (_, index) =>
    new Date(start.getTime() + index * DAY + 3_600_000).setHours(0, 0, 0, 0),
  );
  const byDay = new Map<string, Post[]>();
  for (const post of posts) {
    const key = localDayKey(post.scheduledAt);
    byDay.set(key, [...(byDay.get(key) ?? []), post]);
  }
  return (
    <ol className="week" aria-label="The next seven days">
      {days.map((day) => {
        const dayPosts = byDay.get(localDayKey(day)) ?? [];
        return (
          <li key={day} className="week-day">
            <h3>{formatShortDay(day)}</h3>
            {dayPosts.length === 0 ? (
              <p className="muted">Nothing</p>
            ) : (
              <ul>
                {dayPosts.map((post) => (
                  <li key={post.id}>
                    <Link to={`/compose?edit=${post.id}`}>
                      <time dateTime={new Date(post.scheduledAt).toISOString()}>
                        {formatTime(post.scheduledAt)}
                      </time>{' '}
                      {post.items[0]?.text.slice(0, 40) || '(media)'}
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  );
}

export function Queue() {
  const { accounts } = useSession();
  const [view, setView] = useState<'list' | 'week'>('list');
  const [canceling, setCanceling] = useState<Post | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const queue = useResource(async () => {
    const posts = await listAll<Post>('/api/v1/posts?status=scheduled');
    return posts.sort((a, b) => a.scheduledAt - b.scheduledAt);
  }, []);

  async function cancel(post: Post) {
    setCanceling(null);
    try {
      await api('DELETE', `/api/v1/posts/${post.id}`);
      queue.reload();
    } catch (caught) {
      setActionError(caught as ApiError);
    }
  }

  const groups = new Map<string, Post[]>();
  for (const post of queue.data ?? []) {
    const key = localDayKey(post.scheduledAt);
    groups.set(key, [...(groups.get(key) ?? []), post]);
  }

  return (
    <section aria-labelledby="queue-title">
      <div className="section-head">
        <h2 id="queue-title">Queue</h2>
        <fieldset className="segmented">
          <legend className="visually-hidden">View</legend>
          <button type="button" aria-pressed={view === 'list'} onClick={() => setView('list')}>
            List
          </button>
          <button type="button" aria-pressed={view === 'week'} onClick={() => setView('week')}>
            Week
          </button>
        </fieldset>
      </div>
      <p className="muted">Times in {TIME_ZONE}.</p>
      <ErrorNote error={queue.error ?? actionError} />
      {!queue.data ? (
        <Skeleton />
      ) : queue.data.length === 0 ? (
        <EmptyState title="No scheduled posts yet — compose one.">
          <Link to="/compose" className="button button-primary">
            Compose
          </Link>
        </EmptyState>
      ) : view === 'week' ? (
        <WeekView posts={queue.data} />
      ) : (
        [...groups.values()].map((posts) => (
          <section key={localDayKey(posts[0]!.scheduledAt)} className="day-group">
            <h3>{formatDay(posts[0]!.scheduledAt)}</h3>
            <ul className="cards">
              {posts.map((post) => (
                <PostCard
                  key={post.id}
                  post={post}
                  account={accounts.find((a) => a.id === post.accountId)}
                  when={post.scheduledAt}
                >
                  <Link to={`/compose?edit=${post.id}`} className="button">
                    Edit
                  </Link>
                  <Reschedule post={post} onDone={queue.reload} />
                  <button type="button" className="button-danger" onClick={() => setCanceling(post)}>
                    Cancel post
                  </button>
                </PostCard>
              ))}
            </ul>
          </section>
        ))
      )}
      <ConfirmDialog
        open={canceling !== null}
        title="Cancel this post?"
        confirmLabel="Cancel post"
        danger
        onConfirm={() => canceling && cancel(canceling)}
        onCancel={() => setCanceling(null)}
      >
        <p>It will not be published. Its text stays visible in History as canceled.</p>
      </ConfirmDialog>
    </section>
  );
}
