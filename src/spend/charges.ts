import twitterText from 'twitter-text';
import type { XCallOutcome } from '../x/index.ts';
import type { Operation, PriceTable } from './prices.ts';

/** One thing X bills for a call. A read (`perDay`) is billed only the first time that UTC day, app-wide. */
export interface Charge {
  operation: Operation;
  /** The tweet (or `user:<id>`) it is about. */
  resourceId: string;
  perDay: boolean;
}

/** What a tweet's creation is billed as: a reply, a post with a URL, or a plain post. */
export function createOperation(text: string, isReply: boolean): Operation {
  if (isReply) return 'reply';
  return twitterText.extractUrls(text).length > 0 ? 'post_with_url' : 'post';
}

/** The estimated cost of publishing these items as a thread (item n+1 replies to item n). */
export function threadCost(prices: PriceTable, texts: readonly string[]): number {
  const usd = texts.reduce((sum, text, index) => sum + prices[createOperation(text, index > 0)], 0);
  return Math.round(usd * 1e6) / 1e6;
}

const objectsIn = (answer: unknown): { id?: unknown }[] => {
  const data = (answer as { data?: unknown } | undefined)?.data;
  if (Array.isArray(data)) return data as { id?: unknown }[];
  return data && typeof data === 'object' ? [data as { id?: unknown }] : [];
};

/** What X bills for one successful v2 call (pay-per-use rules); nothing for a failed one. */
export function chargesOf(outcome: XCallOutcome): Charge[] {
  if (!('answer' in outcome)) return [];
  const { request, answer } = outcome;
  switch (request.endpoint) {
    case 'POST /2/tweets': {
      const body = request.json as { text?: string; reply?: { in_reply_to_tweet_id?: string } } | undefined;
      const id = objectsIn(answer)[0]?.id;
      const operation = createOperation(body?.text ?? '', body?.reply?.in_reply_to_tweet_id !== undefined);
      return typeof id === 'string' ? [{ operation, resourceId: id, perDay: false }] : [];
    }
    case 'DELETE /2/tweets/:id':
      return [{ operation: 'delete', resourceId: request.path.split('/').at(-1) ?? '', perDay: false }];
    case 'GET /2/tweets':
    case 'GET /2/users/:id/tweets':
      return objectsIn(answer)
        .map((tweet) => tweet.id)
        .filter((id): id is string => typeof id === 'string')
        .map((id) => ({ operation: 'post_read', resourceId: id, perDay: true }));
    case 'GET /2/users/me': {
      const id = objectsIn(answer)[0]?.id;
      return typeof id === 'string'
        ? [{ operation: 'user_read', resourceId: `user:${id}`, perDay: true }]
        : [];
    }
    case 'POST /2/media/metadata':
      return [
        {
          operation: 'media_metadata',
          resourceId: String((request.json as { id?: string })?.id ?? ''),
          perDay: false,
        },
      ];
    default:
      return request.endpoint.startsWith('POST /2/media/upload')
        ? [{ operation: 'media_upload', resourceId: '', perDay: false }]
        : [];
  }
}
