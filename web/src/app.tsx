import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { type Account, api, SIGNED_OUT_EVENT } from './api.ts';
import { PausedBanner } from './components/PausedBanner.tsx';
import { Skeleton } from './components/ui.tsx';
import { useResource } from './hooks.ts';
import { Link, useLocation } from './router.tsx';
import { Accounts } from './screens/Accounts.tsx';
import { Activity } from './screens/Activity.tsx';
import { History } from './screens/History.tsx';
import { Queue } from './screens/Queue.tsx';
import { Settings } from './screens/Settings.tsx';
import { SignIn } from './screens/SignIn.tsx';
import { SANDBOX, type Session, SessionContext } from './session.tsx';

// The composer carries X's text library (twitter-text): loaded when it is first shown.
const Compose = lazy(() => import('./screens/Compose.tsx').then((module) => ({ default: module.Compose })));
// The dashboard carries the charting library (uPlot).
const Metrics = lazy(() => import('./screens/Metrics.tsx').then((module) => ({ default: module.Metrics })));
const Sandbox = lazy(() => import('./screens/Sandbox.tsx').then((module) => ({ default: module.Sandbox })));

const NAV: { path: string; label: string }[] = [
  { path: '/compose', label: 'Compose' },
  { path: '/queue', label: 'Queue' },
  { path: '/history', label: 'History' },
  { path: '/dashboard', label: 'Metrics' },
  { path: '/activity', label: 'Activity' },
  { path: '/accounts', label: 'Accounts' },
  { path: '/settings', label: 'Settings' },
  ...(SANDBOX ? [{ path: '/sandbox', label: 'Sandbox X' }] : []),
];

function Screen({ path }: { path: string }) {
  switch (path) {
    case '/queue':
      return <Queue />;
    case '/history':
      return <History />;
    case '/activity':
      return <Activity />;
    case '/dashboard':
      return <Metrics />;
    case '/accounts':
      return <Accounts />;
    case '/settings':
      return <Settings />;
    case '/sandbox':
      return <Sandbox />;
    default:
      return <Compose />;
  }
}

export function App() {
  const location = useLocation();
  const me = useResource(
    (signal) => api<{ id: string; accounts: Account[] }>('GET', '/api/v1/me', undefined, signal),
    [],
  );
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    const onSignedOut = () => setSignedOut(true);
    window.addEventListener(SIGNED_OUT_EVENT, onSignedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, onSignedOut);
  }, []);

  const session = useMemo<Session | null>(
    () => (me.data ? { userId: me.data.id, accounts: me.data.accounts, reloadAccounts: me.reload } : null),
    [me.data, me.reload],
  );

  const path = location.pathname === '/' ? '/compose' : location.pathname;
  const current = NAV.find((entry) => entry.path === path);
  useEffect(() => {
    document.title = current ? `${current.label} · xgate` : 'xgate';
  }, [current]);

  if (me.loading && !me.data) {
    return (
      <main className="page">
        <Skeleton />
      </main>
    );
  }
  if (signedOut || me.error?.status === 401 || !session)
    return <SignIn error={me.error?.status === 401 ? null : me.error} />;

  return (
    <SessionContext.Provider value={session}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/compose" className="brand" aria-label="xgate home">
          xgate
        </Link>
        {SANDBOX && (
          <span
            className="badge badge-sandbox"
            title="Nothing is posted to the real X: the built-in emulator stands in for it."
          >
            sandbox
          </span>
        )}
        <nav aria-label="Main">
          <ul>
            {NAV.map((entry) => (
              <li key={entry.path}>
                <Link to={entry.path} aria-current={entry.path === path ? 'page' : undefined}>
                  {entry.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <PausedBanner />
      <main id="main" className="page" tabIndex={-1}>
        <h1 className="visually-hidden-focusable">{current?.label ?? 'Compose'}</h1>
        <Suspense fallback={<Skeleton />}>
          <Screen path={path} />
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}
