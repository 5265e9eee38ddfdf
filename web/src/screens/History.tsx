import { lazy, Suspense, useState } from 'react';
import { type ApiError, api, listAll, type Post, type PostMetrics } from '../api.ts';
import { PostCard } from '../components/PostCard.tsx';
import { Sparkline } from '../components/Sparkline.tsx';
import { ConfirmDialog, EmptyState, ErrorNote, Skeleton } from '../components/ui.tsx';
import { useResource } from '../hooks.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';

type Filter = 'all' | 'published' | 'attention' | 'canceled';
const FILTERS: { value: Filter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'published', label: 'Published' },
  { value: 'attention', label: 'Needs attention' },
  { value: 'canceled', label: 'Canceled' },
];

function matches(post: Post, filter: Filter): boolean {
  if (filter === 'all') return post.status !== 'scheduled';
  if (filter === 'attention') return post.status === 'failed' || post.status === 'needs_review';
  return post.status === filter;
}

// The chart brings the charting library: loaded when a post's metrics are first opened.
const PostMetricsPanel = lazy(() =>
  import('../components/PostMetricsPanel.tsx').then((module) => ({ default: module.PostMetricsPanel })),
);

/** Published posts shown with a trend (each costs a request): the most recent ones. */
const TRENDS_SHOWN = 20;

/** The impressions trend of a post's first tweet, next to it in the list. */
function Trend({ postId }: { postId: string }) {
  const metrics = useResource(
    (signal) => api<PostMetrics>('GET', `/api/v1/posts/${postId}/metrics`, undefined, signal),
    [postId],
  );
  const series = metrics.data?.items[0]?.series ?? [];
  const last = series.at(-1);
  if (!last) return null;
  return (
    <span className="trend">
      <Sparkline
        values={series.map((point) => point.impressions)}
        label={`Impressions trend, now ${last.impressions}`}
      />
      <span className="muted">{last.impressions.toLocaleString()} impressions</span>
    </span>
  );
}

/** When a post happened: published, else last changed. */
const happenedAt = (post: Post) =>
  post.publishedAt ?? (post as Post & { updatedAt?: number }).updatedAt ?? post.scheduledAt;

export function History() {
  const { accounts } = useSession();
  const [filter, setFilter] = useState<Filter>('all');
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [deleting, setDeleting] = useState<Post | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const history = useResource(() => listAll<Post>('/api/v1/posts', 300), []);

  async function act(action: () => Promise<unknown>) {
    setActionError(null);
    try {
      await action();
    } catch (caught) {
      setActionError(caught as ApiError);
    }
    history.reload();
  }

  const posts = (history.data ?? [])
    .filter((post) => matches(post, filter))
    .sort((a, b) => happenedAt(b) - happenedAt(a));

  return (
    <section aria-labelledby="history-title">
      <div className="section-head">
        <h2 id="history-title">History</h2>
        <fieldset className="segmented">
          <legend className="visually-hidden">Show</legend>
          {FILTERS.map((entry) => (
            <button
              key={entry.value}
              type="button"
              aria-pressed={filter === entry.value}
              onClick={() => setFilter(entry.value)}
            >
              {entry.label}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNote error={history.error ?? actionError} />
      {!history.data ? (
        <Skeleton />
      ) : posts.length === 0 ? (
        <EmptyState
          title={
            filter === 'attention'
              ? 'Nothing needs your attention.'
              : 'Nothing published yet — compose a post.'
          }
        >
          <Link to="/compose" className="button">
            Compose
          </Link>
        </EmptyState>
      ) : (
        <ul className="cards">
          {posts.map((post, index) => (
            <PostCard
              key={post.id}
              post={post}
              account={accounts.find((a) => a.id === post.accountId)}
              when={happenedAt(post)}
              aside={
                post.status === 'published' && index < TRENDS_SHOWN ? <Trend postId={post.id} /> : undefined
              }
              detail={
                open === post.id ? (
                  <Suspense fallback={<Skeleton lines={2} />}>
                    <PostMetricsPanel postId={post.id} />
                  </Suspense>
                ) : undefined
              }
            >
              {post.status === 'published' && (
                <button
                  type="button"
                  aria-expanded={open === post.id}
                  onClick={() => setOpen(open === post.id ? null : post.id)}
                >
                  {open === post.id ? 'Hide metrics' : 'Metrics'}
                </button>
              )}
              {(post.status === 'failed' || post.status === 'needs_review') && (
                <button
                  type="button"
                  className="button-primary"
                  onClick={() => act(() => api('POST', `/api/v1/posts/${post.id}/retry`))}
                >
                  Retry
                </button>
              )}
              {post.status === 'needs_review' && (
                <>
                  <button
                    type="button"
                    onClick={() =>
                      act(() => api('POST', `/api/v1/posts/${post.id}/resolve`, { status: 'published' }))
                    }
                  >
                    Mark resolved: it is on X
                  </button>
                  <button
                    type="button"
                    onClick={() =>
                      act(() => api('POST', `/api/v1/posts/${post.id}/resolve`, { status: 'failed' }))
                    }
                  >
                    Mark resolved: give up
                  </button>
                </>
              )}
              {post.status === 'published' && (
                <button type="button" className="button-danger" onClick={() => setDeleting(post)}>
                  Delete from X
                </button>
              )}
            </PostCard>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this post from X?"
        confirmLabel="Delete from X"
        danger
        onConfirm={() => {
          const post = deleting;
          setDeleting(null);
          if (post) void act(() => api('DELETE', `/api/v1/posts/${post.id}`));
        }}
        onCancel={() => setDeleting(null)}
      >
        <p>Every tweet of the post is deleted on X. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}
