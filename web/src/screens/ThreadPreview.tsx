import type { Account } from '../api.ts';
import { Avatar } from '../components/ui.tsx';
import { urlsIn } from '../text.ts';
import type { DraftItem } from './compose-draft.ts';

/** The text with its URLs shown as X shows them (links, each counted as 23 characters). */
function TweetText({ text }: { text: string }) {
  const urls = urlsIn(text);
  if (urls.length === 0) return <>{text}</>;
  const parts: (string | { url: string })[] = [];
  let rest = text;
  for (const url of urls) {
    const at = rest.indexOf(url);
    if (at === -1) continue;
    parts.push(rest.slice(0, at), { url });
    rest = rest.slice(at + url.length);
  }
  parts.push(rest);
  return (
    <>
      {parts.map((part, index) =>
        typeof part === 'string' ? (
          part
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text, in order
          <span key={index} className="tweet-link">
            {part.url.replace(/^https?:\/\//, '').slice(0, 30)}
            {part.url.replace(/^https?:\/\//, '').length > 30 ? '…' : ''}
          </span>
        ),
      )}
    </>
  );
}

/** How the post or thread will look on X: one tweet under the other, joined by the reply line. */
export function ThreadPreview({
  account,
  items,
  previews,
}: {
  account: Account;
  items: DraftItem[];
  previews: ReadonlyMap<string, string>;
}) {
  return (
    <ol className="tweet-thread">
      {items.map((item, index) => (
        <li key={item.key} className={`tweet${index < items.length - 1 ? ' tweet-continues' : ''}`}>
          <Avatar account={account} size={40} />
          <div className="tweet-body">
            <p className="tweet-author">
              <strong>{account.name}</strong> <span className="muted">@{account.username}</span>
            </p>
            <p className="tweet-text">
              {item.text === '' ? <span className="muted">(no text)</span> : <TweetText text={item.text} />}
            </p>
            {item.media.length > 0 && (
              <div className={`tweet-media tweet-media-${Math.min(item.media.length, 4)}`}>
                {item.media.map((media) => {
                  const preview = media.id ? previews.get(media.id) : undefined;
                  return preview && media.mediaType !== 'video' ? (
                    <img key={media.key} src={preview} alt={media.altText || ''} />
                  ) : (
                    <span key={media.key} className="media-kind">
                      {media.mediaType}
                    </span>
                  );
                })}
              </div>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
