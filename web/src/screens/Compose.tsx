import { useEffect, useMemo, useRef, useState } from 'react';
import {
  type Account,
  ApiError,
  api,
  type FieldProblem,
  type Media,
  type Post,
  type PostEstimate,
  uploadMedia,
} from '../api.ts';
import { EmptyState, ErrorNote, Skeleton } from '../components/ui.tsx';
import { formatDateTime, fromLocalInput, TIME_ZONE, toLocalInput } from '../format.ts';
import { useStoredState } from '../hooks.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { tweetHref, useSession } from '../session.tsx';
import { limitFor, weightedLength } from '../text.ts';
import {
  ACCEPTED_TYPES,
  type Draft,
  type DraftItem,
  type DraftMedia,
  emptyDraft,
  emptyItem,
  mediaProblem,
  mediaTypeOf,
  newKey,
} from './compose-draft.ts';
import { ThreadPreview } from './ThreadPreview.tsx';

/** Object URLs of files chosen in this page's life, for previews (a reloaded draft shows the media's kind instead). */
const previews = new Map<string, string>();

interface PendingUpload {
  file: File;
  altText: string;
  progress: number | null;
  error: string | null;
}

function Counter({ length, limit, id }: { length: number; limit: number; id: string }) {
  const over = length > limit;
  return (
    <span id={id} className={`counter${over ? ' counter-over' : length > limit - 20 ? ' counter-near' : ''}`}>
      <span className="visually-hidden">Characters as X counts them: </span>
      {length} / {limit}
      {over && <span> — {length - limit} over the limit</span>}
    </span>
  );
}

function MediaChip({ media, onRemove }: { media: DraftMedia; onRemove: () => void }) {
  const preview = media.id ? previews.get(media.id) : undefined;
  return (
    <li className="media-chip">
      {preview && media.mediaType !== 'video' ? (
        <img src={preview} alt={media.altText || `Attached ${media.mediaType}`} />
      ) : preview ? (
        <video src={preview} muted aria-label={`Attached video ${media.name}`} />
      ) : (
        <span className="media-kind">{media.mediaType}</span>
      )}
      <span className="media-name">{media.name}</span>
      <button type="button" className="button-small" onClick={onRemove} aria-label={`Remove ${media.name}`}>
        Remove
      </button>
    </li>
  );
}

function ItemEditor({
  item,
  index,
  count,
  limit,
  problems,
  onChange,
  onMove,
  onRemove,
  onSplit,
}: {
  item: DraftItem;
  index: number;
  count: number;
  limit: number;
  problems: FieldProblem[];
  onChange: (item: DraftItem) => void;
  onMove: (delta: number) => void;
  onRemove: () => void;
  onSplit: () => Promise<void>;
}) {
  const [pending, setPending] = useState<PendingUpload | null>(null);
  const [splitting, setSplitting] = useState(false);
  const [splitError, setSplitError] = useState<ApiError | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const length = weightedLength(item.text);
  const label = count > 1 ? `Tweet ${index + 1} of ${count}` : 'Your post';
  const textId = `item-${item.key}`;
  const counterId = `counter-${item.key}`;
  const errorId = `errors-${item.key}`;

  function choose(file: File | undefined) {
    if (!file) return;
    const problem = mediaProblem(file, item.media);
    setPending({ file, altText: '', progress: null, error: problem });
  }

  async function upload() {
    if (!pending || pending.error) return;
    const { file, altText } = pending;
    setPending({ ...pending, progress: 0 });
    try {
      const media = await uploadMedia(file, altText, (progress) =>
        setPending((old) => (old ? { ...old, progress } : old)),
      );
      previews.set(media.id, URL.createObjectURL(file));
      onChange({
        ...item,
        media: [
          ...item.media,
          { key: newKey(), id: media.id, mediaType: media.mediaType, name: file.name, altText },
        ],
      });
      setPending(null);
      if (fileInput.current) fileInput.current.value = '';
    } catch (caught) {
      setPending((old) => (old ? { ...old, progress: null, error: (caught as Error).message } : old));
    }
  }

  async function split() {
    setSplitting(true);
    setSplitError(null);
    try {
      await onSplit();
    } catch (caught) {
      setSplitError(caught as ApiError);
    } finally {
      setSplitting(false);
    }
  }

  return (
    <li className="card item-editor" data-item={index}>
      <div className="item-head">
        <label htmlFor={textId}>{label}</label>
        <Counter length={length} limit={limit} id={counterId} />
      </div>
      <textarea
        id={textId}
        value={item.text}
        rows={4}
        aria-describedby={`${counterId} ${errorId}`}
        aria-invalid={length > limit || problems.length > 0}
        placeholder={index === 0 ? 'What is happening?' : 'Add another tweet'}
        onChange={(event) => onChange({ ...item, text: event.target.value })}
      />
      <div id={errorId}>
        {problems.map((problem) => (
          <p key={`${problem.field}:${problem.message}`} className="error" role="alert">
            {problem.message}
          </p>
        ))}
        <ErrorNote error={splitError} />
      </div>
      {item.media.length > 0 && (
        <ul className="media-list" aria-label={`Media of ${label.toLowerCase()}`}>
          {item.media.map((media) => (
            <MediaChip
              key={media.key}
              media={media}
              onRemove={() =>
                onChange({ ...item, media: item.media.filter((other) => other.key !== media.key) })
              }
            />
          ))}
        </ul>
      )}
      {pending && (
        <div className="pending-upload">
          <p>
            <strong>{pending.file.name}</strong> ({mediaTypeOf(pending.file) ?? 'unknown type'})
          </p>
          {pending.error ? (
            <p className="error" role="alert">
              {pending.error}
            </p>
          ) : (
            <>
              <label>
                Alt text (describes the media for people who cannot see it)
                <input
                  type="text"
                  value={pending.altText}
                  maxLength={1000}
                  onChange={(event) => setPending({ ...pending, altText: event.target.value })}
                />
              </label>
              {pending.progress !== null && (
                <progress value={pending.progress} max={1} aria-label={`Uploading ${pending.file.name}`} />
              )}
            </>
          )}
          <div className="actions">
            <button type="button" onClick={() => setPending(null)}>
              Cancel
            </button>
            {!pending.error && (
              <button
                type="button"
                className="button-primary"
                onClick={upload}
                disabled={pending.progress !== null}
              >
                {pending.progress !== null ? `Uploading ${Math.round(pending.progress * 100)} %` : 'Upload'}
              </button>
            )}
          </div>
        </div>
      )}
      <div className="item-tools">
        <label className="button button-small file-button">
          Add media
          <input
            ref={fileInput}
            type="file"
            accept={ACCEPTED_TYPES}
            className="visually-hidden"
            onChange={(event) => choose(event.target.files?.[0])}
          />
        </label>
        {length > limit && (
          <button type="button" className="button-small" onClick={split} disabled={splitting}>
            {splitting ? 'Splitting…' : 'Split into a thread'}
          </button>
        )}
        {count > 1 && (
          <>
            <button
              type="button"
              className="button-small"
              onClick={() => onMove(-1)}
              disabled={index === 0}
              aria-label={`Move ${label.toLowerCase()} up`}
            >
              ↑
            </button>
            <button
              type="button"
              className="button-small"
              onClick={() => onMove(1)}
              disabled={index === count - 1}
              aria-label={`Move ${label.toLowerCase()} down`}
            >
              ↓
            </button>
            <button
              type="button"
              className="button-small"
              onClick={onRemove}
              aria-label={`Remove ${label.toLowerCase()}`}
            >
              Remove
            </button>
          </>
        )}
      </div>
    </li>
  );
}

/** The thread as it will be sent: with its first tweet's links moved into a reply when the estimate says so. */
function previewItems(items: DraftItem[], estimate: PostEstimate | null): DraftItem[] {
  const [first, ...rest] = items;
  if (!first || !estimate || estimate.items.length !== items.length + 1) return items;
  return [
    { ...first, text: estimate.items[0]?.text ?? first.text },
    { key: 'links-in-reply', text: estimate.items[1]?.text ?? '', media: [] },
    ...rest,
  ];
}

/** A scheduled post as a draft: its items, with each attached file's kind read from the API. */
async function loadForEdit(postId: string): Promise<Draft> {
  const post = await api<Post>('GET', `/api/v1/posts/${encodeURIComponent(postId)}`);
  const items = await Promise.all(
    post.items.map(async (item) => ({
      key: newKey(),
      text: item.text,
      media: await Promise.all(
        item.mediaIds.map(async (id) => {
          const media = await api<Media>('GET', `/api/v1/media/${encodeURIComponent(id)}`);
          return {
            key: newKey(),
            id,
            mediaType: media.mediaType,
            name: `${media.mediaType} ${id.slice(-6)}`,
            altText: media.altText ?? '',
          };
        }),
      ),
    })),
  );
  return {
    accountId: post.accountId,
    items,
    mode: 'schedule',
    scheduledLocal: toLocalInput(post.scheduledAt),
    submitKey: `edit:${post.id}`,
  };
}

function Published({ post, account }: { post: Post; account: Account | undefined }) {
  return (
    <div className="card result" role="status">
      {post.status === 'published' ? (
        <>
          <p>
            <strong>Published</strong>
            {account ? ` as @${account.username}` : ''}:
          </p>
          <ol className="tweet-links">
            {post.items.map((item) => (
              <li key={item.position}>
                <a href={tweetHref(item, post.accountId)}>{item.url ?? item.tweetId}</a>
              </li>
            ))}
          </ol>
        </>
      ) : post.status === 'scheduled' ? (
        <p>
          <strong>Scheduled</strong> for {formatDateTime(post.scheduledAt)} ({TIME_ZONE}).{' '}
          <Link to="/queue">See the queue</Link>.
        </p>
      ) : (
        <p>
          The post is <strong>{post.status.replace('_', ' ')}</strong>
          {post.error ? `: ${post.error.message}` : '.'} <Link to="/history">See it in History</Link>.
        </p>
      )}
    </div>
  );
}

/** The composer; `?edit=POST_ID` edits a scheduled post. A new editor (and draft) for each post edited. */
export function Compose() {
  const editId = useLocation().searchParams.get('edit');
  return <ComposeForm key={editId ?? 'new'} editId={editId} />;
}

function ComposeForm({ editId }: { editId: string | null }) {
  const session = useSession();
  const postable = session.accounts.filter((account) => account.status !== 'disconnected');
  const firstActive = postable.find((account) => account.status === 'active') ?? postable[0];
  const [draft, setDraft] = useStoredState<Draft>(editId ? `xgate.draft.${editId}` : 'xgate.draft', () =>
    emptyDraft(firstActive?.id ?? ''),
  );
  const [loadingEdit, setLoadingEdit] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<Post | null>(null);
  const [estimate, setEstimate] = useState<PostEstimate | null>(null);
  const estimateInput = useMemo(
    () =>
      JSON.stringify({
        accountId: draft.accountId,
        items: draft.items.map((item) => ({
          text: item.text,
          mediaIds: item.media.flatMap((media) => (media.id ? [media.id] : [])),
        })),
        ...(draft.linkInReply !== undefined && { linkInReply: draft.linkInReply }),
      }),
    [draft.accountId, draft.items, draft.linkInReply],
  );

  // What X will bill (and the thread as it will be sent): asked of the API a moment after typing stops.
  useEffect(() => {
    const input = JSON.parse(estimateInput) as { items: { text: string; mediaIds: string[] }[] };
    if (input.items.every((item) => item.text.trim() === '' && item.mediaIds.length === 0)) {
      setEstimate(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api<PostEstimate>('POST', '/api/v1/posts/estimate', input, controller.signal)
        .then(setEstimate)
        .catch(() => setEstimate(null));
    }, 400);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [estimateInput]);

  // Editing a scheduled post: its stored form fills the composer once (unless a draft of the edit is kept).
  useEffect(() => {
    if (!editId || draft.submitKey.startsWith('edit:')) return;
    setLoadingEdit(true);
    loadForEdit(editId)
      .then(setDraft)
      .catch((caught) => setError(caught as ApiError))
      .finally(() => setLoadingEdit(false));
  }, [editId, draft.submitKey, setDraft]);

  if (postable.length === 0) {
    return (
      <EmptyState title="Connect an X account to start posting.">
        <a className="button button-primary" href="/auth/x/login?connect=1">
          Connect an X account
        </a>
      </EmptyState>
    );
  }
  if (loadingEdit) return <Skeleton lines={6} />;

  const account = postable.find((candidate) => candidate.id === draft.accountId) ?? firstActive;
  const limit = limitFor(account?.subscriptionType);
  const problems = error?.problems ?? [];
  const itemProblems = (index: number) => problems.filter((problem) => problem.item === index);
  const formProblems = problems.filter((problem) => problem.item === undefined);
  const tooLong = draft.items.some((item) => weightedLength(item.text) > limit);
  const empty = draft.items.some((item) => item.text.trim() === '' && item.media.length === 0);
  const scheduleMissing = draft.mode === 'schedule' && draft.scheduledLocal === '';
  const blocked = tooLong || empty || scheduleMissing || !account;

  const update = (patch: Partial<Draft>) => {
    setError(null);
    setResult(null);
    setDraft((old) => ({ ...old, ...patch }));
  };
  const setItems = (items: DraftItem[]) => update({ items });

  async function submit() {
    if (blocked || !account) return;
    setSubmitting(true);
    setError(null);
    const items = draft.items.map((item) => ({
      text: item.text,
      mediaIds: item.media.flatMap((media) => (media.id ? [media.id] : [])),
    }));
    const scheduledAt =
      draft.mode === 'schedule' ? new Date(fromLocalInput(draft.scheduledLocal)).toISOString() : undefined;
    try {
      const post = editId
        ? await api<Post>('PATCH', `/api/v1/posts/${encodeURIComponent(editId)}`, {
            items,
            ...(scheduledAt && { scheduledAt }),
          })
        : await api<Post>(
            'POST',
            draft.mode === 'now' ? '/api/v1/posts?wait=15' : '/api/v1/posts',
            {
              accountId: account.id,
              items,
              ...(scheduledAt && { scheduledAt }),
              ...(draft.linkInReply !== undefined && { linkInReply: draft.linkInReply }),
            },
            undefined,
            { 'idempotency-key': draft.submitKey },
          );
      setResult(post);
      window.localStorage.removeItem(editId ? `xgate.draft.${editId}` : 'xgate.draft');
      if (editId) navigate('/queue');
      else setDraft(emptyDraft(account.id));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'unexpected', String(caught)));
    } finally {
      setSubmitting(false);
    }
  }

  async function splitItem(index: number) {
    const item = draft.items[index];
    if (!item) return;
    const answer = await api<{ items: { text: string }[] }>('POST', '/api/v1/threads/split', {
      text: item.text,
    });
    const parts = answer.items.map((part, partIndex) =>
      partIndex === 0 ? { ...item, text: part.text } : emptyItem(part.text),
    );
    setItems([...draft.items.slice(0, index), ...parts, ...draft.items.slice(index + 1)]);
  }

  return (
    <div className="compose">
      <form
        className="compose-form"
        aria-label={editId ? 'Edit the scheduled post' : 'Compose a post'}
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h2>{editId ? 'Edit the scheduled post' : 'Compose'}</h2>
        <label className="field">
          Post as
          <select
            value={account?.id ?? ''}
            disabled={Boolean(editId)}
            onChange={(event) => update({ accountId: event.target.value })}
          >
            {postable.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                @{candidate.username}
                {candidate.status === 'needs_reconnect' ? ' (needs reconnect)' : ''}
              </option>
            ))}
          </select>
        </label>
        {account?.status === 'needs_reconnect' && (
          <p className="warning">
            @{account.username} needs to be reconnected before xgate can post for it.{' '}
            <Link to="/accounts">Reconnect it</Link>.
          </p>
        )}
        <ol className="items">
          {draft.items.map((item, index) => (
            <ItemEditor
              key={item.key}
              item={item}
              index={index}
              count={draft.items.length}
              limit={limit}
              problems={itemProblems(index)}
              onChange={(changed) =>
                setItems(draft.items.map((other) => (other.key === item.key ? changed : other)))
              }
              onMove={(delta) => {
                const items = [...draft.items];
                const [moved] = items.splice(index, 1);
                if (moved) items.splice(index + delta, 0, moved);
                setItems(items);
              }}
              onRemove={() => setItems(draft.items.filter((other) => other.key !== item.key))}
              onSplit={() => splitItem(index)}
            />
          ))}
        </ol>
        <button
          type="button"
          onClick={() => setItems([...draft.items, emptyItem()])}
          disabled={draft.items.length >= 25}
        >
          Add a tweet to the thread
        </button>

        <fieldset className="when">
          <legend>When</legend>
          <label className="radio">
            <input
              type="radio"
              name="mode"
              checked={draft.mode === 'now'}
              disabled={Boolean(editId)}
              onChange={() => update({ mode: 'now' })}
            />
            Now
          </label>
          <label className="radio">
            <input
              type="radio"
              name="mode"
              checked={draft.mode === 'schedule'}
              onChange={() => update({ mode: 'schedule' })}
            />
            At a time
          </label>
          {draft.mode === 'schedule' && (
            <label className="field">
              Date and time ({TIME_ZONE})
              <input
                type="datetime-local"
                value={draft.scheduledLocal}
                min={toLocalInput(Date.now())}
                onChange={(event) => update({ scheduledLocal: event.target.value })}
              />
            </label>
          )}
        </fieldset>

        <div className="cost">
          {!editId && (
            <label className="checkbox">
              <input
                type="checkbox"
                checked={draft.linkInReply ?? estimate?.linkInReply ?? false}
                onChange={(event) => update({ linkInReply: event.target.checked })}
              />
              Put links in a reply (X bills a post with a link more)
            </label>
          )}
          {estimate && (
            <p className="muted" aria-live="polite">
              Estimated X cost: <strong>${estimate.estimatedCostUsd.toFixed(3)}</strong>
            </p>
          )}
        </div>
        {estimate?.warnings.map((warning) => (
          <p key={warning.code} className="warning">
            {warning.message}
          </p>
        ))}
        {formProblems.map((problem) => (
          <p key={problem.message} className="error" role="alert">
            {problem.message}
          </p>
        ))}
        {error && problems.length === 0 && <ErrorNote error={error} />}
        <div className="actions">
          {editId && (
            <Link to="/queue" className="button">
              Back to the queue
            </Link>
          )}
          <button type="submit" className="button-primary" disabled={blocked || submitting}>
            {submitting
              ? 'Sending…'
              : editId
                ? 'Save changes'
                : draft.mode === 'now'
                  ? 'Post now'
                  : 'Schedule'}
          </button>
        </div>
        {result && <Published post={result} account={account} />}
      </form>
      <aside className="preview" aria-label="Preview">
        <h2>Preview</h2>
        {account && (
          <ThreadPreview account={account} items={previewItems(draft.items, estimate)} previews={previews} />
        )}
      </aside>
    </div>
  );
}
