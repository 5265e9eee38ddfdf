import { useMemo, useState } from 'react';
import { type AccountMetrics, api, type MetricReads, type Post } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { EmptyState, ErrorNote, Skeleton } from '../components/ui.tsx';
import { useResource } from '../hooks.ts';
import { navigate, useLocation } from '../router.tsx';
import { tweetHref, useSession } from '../session.tsx';

const PERIODS = [7, 30, 90] as const;
const usd = new Intl.NumberFormat(undefined, {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 3,
});

function ReadsLine() {
  const reads = useResource(
    (signal) => api<MetricReads>('GET', '/api/v1/metrics/reads', undefined, signal),
    [],
  );
  if (!reads.data) return null;
  const { today, month, pricePerReadUsd } = reads.data;
  return (
    <p className="muted reads-line">
      Metric reads today: {today.reads.toLocaleString()} ({today.billedReads.toLocaleString()} billed by X,
      about {usd.format(today.estimatedUsd)}); this month: {month.reads.toLocaleString()} (
      {usd.format(month.estimatedUsd)}), at {usd.format(pricePerReadUsd)} per read, each tweet billed at most
      once per UTC day.
    </p>
  );
}

function TopPosts({
  top,
  accountId,
  username,
}: {
  top: AccountMetrics['top'];
  accountId: string;
  username: string;
}) {
  const posts = useResource(
    (signal) =>
      Promise.all(top.map((entry) => api<Post>('GET', `/api/v1/posts/${entry.postId}`, undefined, signal))),
    [top],
  );
  if (top.length === 0) return <EmptyState title="No post was read in this period yet." />;
  return (
    <table className="table">
      <caption className="visually-hidden">Top posts of the period</caption>
      <thead>
        <tr>
          <th scope="col">Post</th>
          <th scope="col">Impressions</th>
          <th scope="col">Engagements</th>
        </tr>
      </thead>
      <tbody>
        {top.map((entry, index) => {
          const post = posts.data?.[index];
          const text = post === null ? 'A tweet not posted through xgate' : (post?.items[0]?.text ?? '…');
          const url = post?.items[0]?.url ?? `https://x.com/${username}/status/${entry.tweetId}`;
          const href = tweetHref({ tweetId: entry.tweetId, url }, accountId);
          return (
            <tr key={entry.postId ?? entry.tweetId}>
              <td>{href ? <a href={href}>{text.slice(0, 80) || '(media)'}</a> : text.slice(0, 80)}</td>
              <td>{entry.impressions.toLocaleString()}</td>
              <td>{entry.engagements.toLocaleString()}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** An account's dashboard: impressions and engagements per day, its top posts, and what the reads cost. */
export function Metrics() {
  const { accounts } = useSession();
  const location = useLocation();
  const account =
    accounts.find((candidate) => candidate.id === location.searchParams.get('account')) ?? accounts[0];
  const [days, setDays] = useState<(typeof PERIODS)[number]>(30);
  const metrics = useResource(
    (signal) =>
      account
        ? api<AccountMetrics>('GET', `/api/v1/accounts/${account.id}/metrics?days=${days}`, undefined, signal)
        : Promise.resolve(null),
    [account?.id, days],
  );
  const charts = useMemo(() => {
    const series = metrics.data?.series ?? [];
    const times = series.map((day) => Date.parse(`${day.day}T12:00:00Z`));
    return {
      times,
      impressions: [
        { label: 'Impressions', values: series.map((day) => day.impressions), colorVar: '--chart-1' },
      ],
      engagements: [
        { label: 'Engagements', values: series.map((day) => day.engagements), colorVar: '--chart-2' },
      ],
    };
  }, [metrics.data]);

  if (!account) return <EmptyState title="Connect an X account to see how its posts do." />;
  const totals = (metrics.data?.series ?? []).reduce(
    (sum, day) => ({
      impressions: sum.impressions + day.impressions,
      engagements: sum.engagements + day.engagements,
    }),
    { impressions: 0, engagements: 0 },
  );
  return (
    <section aria-labelledby="metrics-title">
      <div className="section-head">
        <h2 id="metrics-title">Metrics</h2>
        <div className="inline-form">
          <label>
            Account
            <select
              value={account.id}
              onChange={(event) => navigate(`/dashboard?account=${encodeURIComponent(event.target.value)}`)}
            >
              {accounts.map((candidate) => (
                <option key={candidate.id} value={candidate.id}>
                  @{candidate.username}
                </option>
              ))}
            </select>
          </label>
          <label>
            Period
            <select
              value={days}
              onChange={(event) => setDays(Number(event.target.value) as (typeof PERIODS)[number])}
            >
              {PERIODS.map((period) => (
                <option key={period} value={period}>
                  Last {period} days
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <ReadsLine />
      <ErrorNote error={metrics.error} />
      {!metrics.data ? (
        <Skeleton lines={4} />
      ) : (
        <>
          <dl className="tiles">
            <div>
              <dt>Impressions</dt>
              <dd>{totals.impressions.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Engagements</dt>
              <dd>{totals.engagements.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Engagement rate</dt>
              <dd>
                {totals.impressions > 0
                  ? `${((totals.engagements / totals.impressions) * 100).toFixed(2)} %`
                  : '–'}
              </dd>
            </div>
          </dl>
          <h3>Impressions per day (UTC)</h3>
          <Chart times={charts.times} series={charts.impressions} title="Impressions per day" dates />
          <h3>Engagements per day (UTC)</h3>
          <Chart
            times={charts.times}
            series={charts.engagements}
            title="Engagements per day"
            dates
            height={180}
          />
          <h3>Top posts</h3>
          <TopPosts top={metrics.data.top} accountId={account.id} username={account.username} />
          <p>
            <a
              href={`/api/v1/accounts/${account.id}/metrics?from=${metrics.data.from}&to=${metrics.data.to}&format=csv`}
              download
            >
              Download the days as CSV
            </a>
          </p>
        </>
      )}
    </section>
  );
}
