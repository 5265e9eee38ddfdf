import type { ApiError } from '../api.ts';
import { ErrorNote } from '../components/ui.tsx';
import { SANDBOX } from '../session.tsx';

export function SignIn({ error }: { error: ApiError | null | undefined }) {
  const next =
    window.location.pathname === '/' ? '' : `?next=${encodeURIComponent(window.location.pathname)}`;
  return (
    <main className="signin" id="main">
      <h1>xgate</h1>
      <p className="lead">
        Post to X from your own server: threads, media and schedules, with tokens that never get lost.
      </p>
      <ErrorNote error={error} />
      <a className="button button-primary button-large" href={`/auth/x/login${next}`}>
        Sign in with X
      </a>
      {SANDBOX && (
        <p className="muted">
          Sandbox mode: you sign in at xgate's built-in X emulator, and nothing is posted to the real X. Set{' '}
          <code>X_CLIENT_ID</code> to use your X app.
        </p>
      )}
      <p className="muted">
        Scripting instead? <a href="/docs">The API reference</a>.
      </p>
    </main>
  );
}
