import { useMemo } from 'react';
import { api, type PostMetrics } from '../api.ts';
import { useResource } from '../hooks.ts';
import { Chart } from './Chart.tsx';
import { EmptyState, ErrorNote, Skeleton } from './ui.tsx';

/** A published post's metrics over time: impressions of each tweet, and the latest counts. */
export function PostMetricsPanel({ postId }: { postId: string }) {
  const metrics = useResource(
    (signal) =>
      api<PostMetrics>('GET', `/api/v1/posts/${encodeURIComponent(postId)}/metrics`, undefined, signal),
    [postId],
  );
  const chart = useMemo(() => {
    const items = metrics.data?.items ?? [];
    const times = [...new Set(items.flatMap((item) => item.series.map((point) => point.at)))].sort(
      (a, b) => a - b,
    );
    const series = items.map((item, index) => {
      const byTime = new Map(item.series.map((point) => [point.at, point.impressions]));
      return {
        label: items.length > 1 ? `Tweet ${item.position + 1} impressions` : 'Impressions',
        values: times.map((at) => byTime.get(at) ?? null),
        colorVar: `--chart-${(index % 4) + 1}`,
      };
    });
    return { times, series };
  }, [metrics.data]);

  if (metrics.error) return <ErrorNote error={metrics.error} />;
  if (!metrics.data) return <Skeleton lines={2} />;
  if (chart.times.length === 0) {
    return (
      <EmptyState title="No metrics yet — xgate reads them 1 hour after publishing, then as the post ages." />
    );
  }
  const latest = metrics.data.items.map((item) => item.series.at(-1)).filter((point) => point !== undefined);
  const sum = (key: 'impressions' | 'likes' | 'replies' | 'reposts' | 'bookmarks') =>
    latest.reduce((total, point) => total + point[key], 0);
  return (
    <div className="post-metrics">
      <dl className="tiles">
        <div>
          <dt>Impressions</dt>
          <dd>{sum('impressions').toLocaleString()}</dd>
        </div>
        <div>
          <dt>Likes</dt>
          <dd>{sum('likes').toLocaleString()}</dd>
        </div>
        <div>
          <dt>Replies</dt>
          <dd>{sum('replies').toLocaleString()}</dd>
        </div>
        <div>
          <dt>Reposts</dt>
          <dd>{sum('reposts').toLocaleString()}</dd>
        </div>
        <div>
          <dt>Bookmarks</dt>
          <dd>{sum('bookmarks').toLocaleString()}</dd>
        </div>
      </dl>
      <Chart times={chart.times} series={chart.series} title="Impressions over time" height={200} />
      <a href={`/api/v1/posts/${encodeURIComponent(postId)}/metrics?format=csv`} download>
        Download CSV
      </a>
    </div>
  );
}
