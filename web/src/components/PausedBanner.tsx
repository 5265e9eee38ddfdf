import { useEffect, useState } from 'react';
import { type ApiError, type AppStatus, api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { ErrorNote } from './ui.tsx';

/** Shown while X refuses the app (credits depleted, not enrolled): posts wait, nothing is lost. */
export function PausedBanner() {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [checking, setChecking] = useState(false);

  useEffect(() => {
    let stopped = false;
    const load = () =>
      api<AppStatus>('GET', '/api/v1/app/status')
        .then((answer) => !stopped && setStatus(answer))
        .catch(() => undefined);
    void load();
    const timer = setInterval(load, 60_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  if (!status?.paused) return null;
  return (
    <div className="banner" role="alert">
      <p>
        <strong>Publishing is paused: X refuses the app.</strong> {status.reason} Your scheduled posts wait
        and are published once X accepts the app again
        {status.nextProbeAt ? ` (xgate asks again ${formatDateTime(status.nextProbeAt)})` : ''}.
      </p>
      <ErrorNote error={error} />
      <button
        type="button"
        disabled={checking}
        onClick={async () => {
          setChecking(true);
          setError(null);
          try {
            setStatus(await api<AppStatus>('POST', '/api/v1/admin/resume'));
          } catch (caught) {
            setError(caught as ApiError);
          } finally {
            setChecking(false);
          }
        }}
      >
        {checking ? 'Asking X…' : 'I topped up: check now'}
      </button>
    </div>
  );
}
