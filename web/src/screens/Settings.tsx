import { useState } from 'react';
import { type ApiError, type ApiKey, api } from '../api.ts';
import { ConfirmDialog, CopyButton, EmptyState, ErrorNote, Skeleton } from '../components/ui.tsx';
import { formatDateTime, formatRelative } from '../format.ts';
import { useResource } from '../hooks.ts';

function NewKey({ created, onDone }: { created: ApiKey & { key: string }; onDone: () => void }) {
  const curl = `curl -H 'Authorization: Bearer ${created.key}' ${window.location.origin}/api/v1/accounts`;
  return (
    <div className="card new-key" role="status">
      <p>
        <strong>Your new key “{created.name}”.</strong> Copy it now: xgate keeps only its hash and will never
        show it again.
      </p>
      <p className="secret">
        <code data-testid="new-api-key">{created.key}</code>{' '}
        <CopyButton value={created.key} label="Copy key" />
      </p>
      <p>Try it:</p>
      <pre>
        <code>{curl}</code>
      </pre>
      <CopyButton value={curl} label="Copy curl example" />{' '}
      <button type="button" onClick={onDone}>
        I have saved it
      </button>
    </div>
  );
}

function ApiKeys() {
  const keys = useResource((signal) => api<ApiKey[]>('GET', '/api/v1/api-keys', undefined, signal), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  async function create() {
    setError(null);
    try {
      setCreated(await api<ApiKey & { key: string }>('POST', '/api/v1/api-keys', { name }));
      setName('');
      keys.reload();
    } catch (caught) {
      setError(caught as ApiError);
    }
  }

  async function revoke(key: ApiKey) {
    setRevoking(null);
    try {
      await api('DELETE', `/api/v1/api-keys/${key.id}`);
    } catch (caught) {
      setError(caught as ApiError);
    }
    keys.reload();
  }

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p className="muted">
        For scripts, bots and the xgate CLI: send <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <label>
          Name of the new key
          <input
            type="text"
            value={name}
            maxLength={100}
            required
            placeholder="e.g. deploy bot"
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <button type="submit" className="button-primary">
          Create key
        </button>
      </form>
      <ErrorNote error={error ?? keys.error} />
      {created && <NewKey created={created} onDone={() => setCreated(null)} />}
      {!keys.data ? (
        <Skeleton lines={2} />
      ) : keys.data.length === 0 ? (
        <EmptyState title="No API keys yet." />
      ) : (
        <table className="table">
          <caption className="visually-hidden">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key starts with</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id} data-key-id={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{formatDateTime(key.createdAt)}</td>
                <td>{key.lastUsedAt ? formatRelative(key.lastUsedAt) : 'never'}</td>
                <td>
                  <button
                    type="button"
                    className="button-danger button-small"
                    onClick={() => setRevoking(key)}
                  >
                    Revoke<span className="visually-hidden"> {key.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke"
        danger
        onConfirm={() => revoking && revoke(revoking)}
        onCancel={() => setRevoking(null)}
      >
        <p>Requests with this key are refused from now on. Scripts that use it stop working.</p>
      </ConfirmDialog>
    </section>
  );
}

function Session() {
  const [error, setError] = useState<ApiError | null>(null);
  async function signOut(all: boolean) {
    try {
      await api('POST', all ? '/auth/logout?all=1' : '/auth/logout');
      window.location.assign('/');
    } catch (caught) {
      setError(caught as ApiError);
    }
  }
  return (
    <section aria-labelledby="session-title">
      <h2 id="session-title">Session</h2>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="button" onClick={() => signOut(false)}>
          Sign out
        </button>
        <button type="button" className="button-danger" onClick={() => signOut(true)}>
          Sign out everywhere
        </button>
      </div>
      <p className="muted">
        “Sign out everywhere” ends every browser session of yours (API keys keep working).
      </p>
    </section>
  );
}

export function Settings() {
  return (
    <div className="settings">
      <ApiKeys />
      <Session />
      <section aria-labelledby="links-title">
        <h2 id="links-title">For developers</h2>
        <p>
          <a href="/docs">API reference</a> · <a href="/openapi.json">OpenAPI document</a>
        </p>
      </section>
    </div>
  );
}
