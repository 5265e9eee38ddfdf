/** Every kind of event the log records, each written in the same transaction as the change it records. */
export const EVENT_TYPES = [
  'post.scheduled',
  'post.published',
  'post.failed',
  'post.needs_review',
  'post.canceled',
  'post.deleted',
  'account.connected',
  'account.needs_reconnect',
  'account.disconnected',
  'webhook.disabled',
  'app.paused',
  'app.resumed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** What a post event carries. */
export interface PostEventData {
  postId: string;
  accountId: string;
  /** The post's status after the change. */
  status: string;
  /** For `post.published`: every item's tweet. */
  items?: Array<{ position: number; tweetId: string; url: string }>;
  /** For `post.failed` and `post.needs_review`: why. */
  error?: { code: string; message: string };
  /** For `post.scheduled`: when it is due (epoch ms). */
  scheduledAt?: number;
}

/** What an account event carries. */
export interface AccountEventData {
  accountId: string;
  username: string;
  /** For `account.needs_reconnect`: why, in words. */
  reason?: string;
}

/** What a webhook event carries. */
export interface WebhookEventData {
  webhookId: string;
  url: string;
  /** Why the endpoint was disabled, in words. */
  reason: string;
}

/** What an app-wide event carries (X refused the whole app, or accepts it again). */
export interface AppEventData {
  /** `x_credits_depleted` or `x_client_not_enrolled` (for `app.resumed`: what had paused it). */
  code: string;
  /** What X said, and what to do about it. */
  reason: string;
  /** When publishing and collection stopped (epoch ms). */
  since: number;
}

/** The data of each event type. */
export interface EventDataOf {
  'post.scheduled': PostEventData;
  'post.published': PostEventData;
  'post.failed': PostEventData;
  'post.needs_review': PostEventData;
  'post.canceled': PostEventData;
  'post.deleted': PostEventData;
  'account.connected': AccountEventData;
  'account.needs_reconnect': AccountEventData;
  'account.disconnected': AccountEventData;
  'webhook.disabled': WebhookEventData;
  'app.paused': AppEventData;
  'app.resumed': AppEventData;
}

/** An event to record: the change it belongs to decides `at` and the user. */
export type NewEvent = {
  [T in EventType]: { type: T; userId: string; at: number; data: EventDataOf[T] };
}[EventType];

/** An event as the log gives it back. */
export interface StoredEvent {
  id: string;
  type: EventType;
  at: number;
  data: EventDataOf[EventType];
  /** Where this event stands in the log; pass it back as `after` to read what follows. */
  cursor: string;
}
