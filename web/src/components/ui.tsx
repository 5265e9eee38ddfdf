import { type ReactNode, useEffect, useRef, useState } from 'react';
import type { Account, ApiError } from '../api.ts';

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** An API error in plain words, announced to screen readers. */
export function ErrorNote({ error }: { error: ApiError | Error | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error.message}
    </p>
  );
}

/** A placeholder with the size of what it stands for, so nothing jumps when the data arrives. */
export function Skeleton({ lines = 3 }: { lines?: number }) {
  return (
    <div className="skeleton" aria-busy="true">
      <span className="visually-hidden">Loading…</span>
      {Array.from({ length: lines }, (_, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: identical placeholders, never reordered
        <div key={index} className="skeleton-line" />
      ))}
    </div>
  );
}

export function Avatar({
  account,
  size = 40,
}: {
  account: Pick<Account, 'name' | 'username' | 'profileImageUrl'>;
  size?: number;
}) {
  const [failed, setFailed] = useState(false);
  if (account.profileImageUrl && !failed) {
    return (
      <img
        className="avatar"
        src={account.profileImageUrl}
        alt=""
        width={size}
        height={size}
        onError={() => setFailed(true)}
      />
    );
  }
  return (
    <span className="avatar avatar-initial" aria-hidden="true" data-size={size}>
      {(account.name || account.username).slice(0, 1).toUpperCase()}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status.replace('_', ' ')}</span>;
}

/** Copies `value`; says "Copied" for a moment. */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className="button-small"
      onClick={async () => {
        await navigator.clipboard?.writeText(value).catch(() => undefined);
        setCopied(true);
      }}
    >
      <span aria-live="polite">{copied ? 'Copied' : label}</span>
    </button>
  );
}

/** A modal question (the native <dialog>: focus kept inside, Escape cancels). */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  return (
    <dialog ref={dialog} aria-labelledby="dialog-title" onCancel={onCancel} className="dialog">
      <h2 id="dialog-title">{title}</h2>
      <div>{children}</div>
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Keep
        </button>
        <button type="button" className={danger ? 'button-danger' : 'button-primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
