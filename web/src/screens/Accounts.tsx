import { useState } from 'react';
import { type Account, ApiError, api, type MetricsSettings, type SpendSettings } from '../api.ts';
import {
  Avatar,
  ConfirmDialog,
  CopyButton,
  EmptyState,
  ErrorNote,
  Skeleton,
  StatusBadge,
} from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useResource } from '../hooks.ts';
import { useSession } from '../session.tsx';

const CONNECT_HREF = `/auth/x/login?connect=1`;

/** The opt-in collection of the account's own tweets not posted through xgate (each read is billed by X). */
function TimelineSetting({ accountId }: { accountId: string }) {
  const settings = useResource(
    (signal) =>
      api<MetricsSettings>('GET', `/api/v1/accounts/${accountId}/metrics/settings`, undefined, signal),
    [accountId],
  );
  const [error, setError] = useState<ApiError | null>(null);
  if (!settings.data) return null;
  return (
    <div className="setting">
      <label className="checkbox">
        <input
          type="checkbox"
          checked={settings.data.timeline}
          onChange={async (event) => {
            setError(null);
            try {
              await api('PUT', `/api/v1/accounts/${accountId}/metrics/settings`, {
                timeline: event.target.checked,
              });
              settings.reload();
            } catch (caught) {
              setError(caught as ApiError);
            }
          }}
        />
        Also collect metrics of this account’s tweets not posted through xgate (read from its timeline hourly;
        X bills each read)
      </label>
      <ErrorNote error={error} />
    </div>
  );
}

const usd = new Intl.NumberFormat(undefined, {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 3,
});

/** What the account spent at X this month, its caps, and whether its links go into a reply by default. */
function SpendSettingsForm({ accountId }: { accountId: string }) {
  const settings = useResource(
    (signal) => api<SpendSettings>('GET', `/api/v1/accounts/${accountId}/spend-settings`, undefined, signal),
    [accountId],
  );
  const [monthly, setMonthly] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  if (!settings.data) return null;
  const cap = monthly ?? (settings.data.monthlyCapUsd === null ? '' : String(settings.data.monthlyCapUsd));
  const save = async (body: Partial<Pick<SpendSettings, 'monthlyCapUsd' | 'linkInReply'>>) => {
    setError(null);
    setSaved(false);
    try {
      await api('PUT', `/api/v1/accounts/${accountId}/spend-settings`, body);
      setSaved(true);
      setMonthly(null);
      settings.reload();
    } catch (caught) {
      setError(caught as ApiError);
    }
  };
  return (
    <div className="setting">
      <p className="muted">Estimated X charges this month: {usd.format(settings.data.monthSpentUsd)}</p>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          const value = cap.trim() === '' ? null : Number(cap);
          if (value !== null && (!Number.isFinite(value) || value < 0)) {
            setError(
              new ApiError(
                0,
                'invalid_cap',
                'Give the cap as an amount in dollars, e.g. 25, or leave it empty.',
              ),
            );
            return;
          }
          void save({ monthlyCapUsd: value });
        }}
      >
        <label>
          Monthly cap in USD (empty: none)
          <input
            type="text"
            inputMode="decimal"
            value={cap}
            onChange={(event) => setMonthly(event.target.value)}
          />
        </label>
        <button type="submit">Save cap</button>
        {saved && <span role="status">Saved</span>}
      </form>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={settings.data.linkInReply}
          onChange={(event) => void save({ linkInReply: event.target.checked })}
        />
        Put links in a reply by default (X bills a post with a link $0.20 instead of $0.015)
      </label>
      <ErrorNote error={error} />
    </div>
  );
}

function AccountCard({ account, onChanged }: { account: Account; onChanged: () => void }) {
  const [busy, setBusy] = useState<'verify' | 'disconnect' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  async function verify() {
    setBusy('verify');
    setError(null);
    setNotice(null);
    try {
      const answer = await api<Account>('POST', `/api/v1/accounts/${account.id}/verify`);
      setNotice(
        answer.status === 'active'
          ? `Connected: X answered as @${answer.username}.`
          : `X refused: ${answer.statusReason ?? 'the account needs to be reconnected.'}`,
      );
      onChanged();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(null);
    }
  }

  async function disconnect() {
    setConfirming(false);
    setBusy('disconnect');
    setError(null);
    try {
      await api('DELETE', `/api/v1/accounts/${account.id}`);
      onChanged();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(null);
    }
  }

  return (
    <li className="card account" data-account-id={account.id}>
      <div className="account-head">
        <Avatar account={account} />
        <div className="account-names">
          <strong>{account.name}</strong>
          <span className="muted">@{account.username}</span>
        </div>
        <StatusBadge status={account.status} />
      </div>
      {account.status === 'needs_reconnect' && (
        <p className="warning">
          X no longer accepts this account's tokens{account.statusReason ? `: ${account.statusReason}` : ''}.
          Scheduled posts wait until you reconnect it.
        </p>
      )}
      <dl className="facts">
        <dt>Account id</dt>
        <dd>
          <code>{account.id}</code> <CopyButton value={account.id} label="Copy id" />
        </dd>
        <dt>Connected</dt>
        <dd>{formatDateTime(account.createdAt)}</dd>
        {account.subscriptionType && (
          <>
            <dt>X subscription</dt>
            <dd>{account.subscriptionType}</dd>
          </>
        )}
      </dl>
      {account.status !== 'disconnected' && <TimelineSetting accountId={account.id} />}
      {account.status !== 'disconnected' && <SpendSettingsForm accountId={account.id} />}
      <ErrorNote error={error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <div className="actions">
        {account.status === 'active' && (
          <button type="button" onClick={verify} disabled={busy !== null}>
            {busy === 'verify' ? 'Testing…' : 'Test connection'}
          </button>
        )}
        {account.status !== 'active' && (
          <a className="button button-primary" href={CONNECT_HREF}>
            Reconnect
          </a>
        )}
        {account.status !== 'disconnected' && (
          <button
            type="button"
            className="button-danger"
            onClick={() => setConfirming(true)}
            disabled={busy !== null}
          >
            {busy === 'disconnect' ? 'Disconnecting…' : 'Disconnect'}
          </button>
        )}
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Disconnect @${account.username}?`}
        confirmLabel="Disconnect"
        danger
        onConfirm={disconnect}
        onCancel={() => setConfirming(false)}
      >
        <p>
          xgate revokes its access at X and forgets the tokens.{' '}
          <strong>Every scheduled post of this account is canceled.</strong> Published tweets stay on X. You
          can connect the account again later.
        </p>
      </ConfirmDialog>
    </li>
  );
}

export function Accounts() {
  const session = useSession();
  const accounts = useResource((signal) => api<Account[]>('GET', '/api/v1/accounts', undefined, signal), []);
  const changed = () => {
    accounts.reload();
    session.reloadAccounts();
  };
  return (
    <section aria-labelledby="accounts-title">
      <div className="section-head">
        <h2 id="accounts-title">X accounts</h2>
        <a className="button" href={CONNECT_HREF}>
          Connect another account
        </a>
      </div>
      <ErrorNote error={accounts.error} />
      {!accounts.data ? (
        <Skeleton />
      ) : accounts.data.length === 0 ? (
        <EmptyState title="No X account yet — connect one to start posting." />
      ) : (
        <ul className="cards">
          {accounts.data.map((account) => (
            <AccountCard key={account.id} account={account} onChanged={changed} />
          ))}
        </ul>
      )}
    </section>
  );
}
