// Every call goes through the same /api/v1 that scripts use: the session cookie, and `X-XGate-CSRF: 1` on
// state-changing requests (the API refuses them without it).

export type AccountStatus = 'active' | 'needs_reconnect' | 'disconnected';

export interface Account {
  id: string;
  xUserId: string;
  username: string;
  name: string;
  profileImageUrl: string | null;
  status: AccountStatus;
  statusReason: string | null;
  subscriptionType: string | null;
  createdAt: number;
}

export type PostStatus = 'scheduled' | 'publishing' | 'published' | 'failed' | 'needs_review' | 'canceled';

export interface PostItem {
  position: number;
  text: string;
  mediaIds: string[];
  status: string;
  tweetId?: string;
  url?: string;
  error?: string;
}

export interface Post {
  id: string;
  accountId: string;
  status: PostStatus;
  scheduledAt: number;
  createdAt: number;
  publishedAt: number | null;
  error?: { code: string; message: string };
  items: PostItem[];
}

export interface Media {
  id: string;
  mediaType: 'image' | 'gif' | 'video';
  size: number;
  mime?: string;
  altText?: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface XgateEvent {
  id: string;
  type: string;
  at: number;
  data: Record<string, unknown>;
}

export interface SandboxTweet {
  id: string;
  text: string;
  inReplyToTweetId: string | null;
  mediaIds: string[];
  createdAt: number;
  deletedAt: number | null;
}

/** One field the API named as wrong (`details` of a 400), or the item a post rule is about (`details.item`). */
export interface FieldProblem {
  item?: number;
  field: string;
  message: string;
}

/** An error answer of the API: its stable code, its sentence, and where in the request it points. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** The fields the error is about, with the thread item they belong to when it says. */
  get problems(): FieldProblem[] {
    const details = this.details;
    if (Array.isArray(details)) {
      return details.map((entry: { field?: string; message?: string }) => {
        const match = /^items\.(\d+)\.?(.*)$/.exec(entry.field ?? '');
        return match
          ? { item: Number(match[1]), field: match[2] || 'text', message: entry.message ?? this.message }
          : { field: entry.field ?? '', message: entry.message ?? this.message };
      });
    }
    if (details && typeof details === 'object' && 'item' in details) {
      const { item, field } = details as { item: number; field?: string };
      return [{ item, field: field ?? 'text', message: this.message }];
    }
    return [];
  }
}

/** Fired when the API answers 401: the session ended (signed out here or elsewhere). */
export const SIGNED_OUT_EVENT = 'xgate:signed-out';

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const body = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    const error = body?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `The server answered ${response.status}.`,
      error?.details,
    );
  }
  return body as T;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  signal?: AbortSignal,
  extraHeaders?: Record<string, string>,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
  if (method !== 'GET') headers['x-xgate-csrf'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ...(signal && { signal }),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(
      0,
      'network_error',
      'xgate could not be reached. Check that it is running, then try again.',
    );
  }
  return answer<T>(response);
}

/** Uploads a file to `POST /api/v1/media`, reporting progress from 0 to 1 (fetch cannot report upload progress). */
export function uploadMedia(
  file: File,
  altText: string,
  onProgress: (fraction: number) => void,
): Promise<Media> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/api/v1/media');
    request.setRequestHeader('x-xgate-csrf', '1');
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      answer<Media>(
        new Response(request.status === 204 ? null : request.responseText, { status: request.status }),
      ).then(resolve, reject);
    };
    request.onerror = () =>
      reject(
        new ApiError(0, 'network_error', 'The upload was interrupted. Check your connection and try again.'),
      );
    const form = new FormData();
    if (altText.trim() !== '') form.append('altText', altText.trim());
    form.append('file', file);
    request.send(form);
  });
}

/** Every page of a cursor-paged list, up to `max` items. */
export async function listAll<T>(path: string, max = 500): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page: { items: T[]; nextCursor: string | null } = await api(
      'GET',
      `${path}${separator}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}

export interface MetricPoint {
  at: number;
  impressions: number;
  likes: number;
  replies: number;
  reposts: number;
  quotes: number;
  bookmarks: number;
  urlClicks?: number;
  profileClicks?: number;
  engagements?: number;
}

export interface PostMetrics {
  postId: string;
  items: { position: number; tweetId: string; series: MetricPoint[] }[];
}

export interface AccountMetrics {
  accountId: string;
  from: string;
  to: string;
  series: {
    day: string;
    impressions: number;
    engagements: number;
    likes: number;
    replies: number;
    reposts: number;
    quotes: number;
    bookmarks: number;
    engagementRate: number;
  }[];
  top: { postId: string | null; tweetId: string; impressions: number; engagements: number }[];
}

export interface ReadPeriod {
  requests: number;
  reads: number;
  billedReads: number;
  estimatedUsd: number;
}

export interface MetricReads {
  pricePerReadUsd: number;
  today: ReadPeriod & { day: string };
  month: ReadPeriod & { month: string };
  caps: { readsPerAccountPerDay: number; readsPerDay: number };
}

export interface MetricsSettings {
  accountId: string;
  timeline: boolean;
  timelineSince: number | null;
}

export interface PostWarning {
  code: string;
  item: number;
  message: string;
}

export interface PostEstimate {
  items: { text: string; mediaIds: string[] }[];
  estimatedCostUsd: number;
  linkInReply: boolean;
  warnings: PostWarning[];
}

export interface AppStatus {
  paused: boolean;
  code: string | null;
  reason: string | null;
  since: number | null;
  nextProbeAt: number | null;
}

export interface SpendSettings {
  accountId: string;
  monthlyCapUsd: number | null;
  dailyCapUsd: number | null;
  linkInReply: boolean;
  monthSpentUsd: number;
}
