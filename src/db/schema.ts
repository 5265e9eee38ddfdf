import type { Generated } from 'kysely';

/**
 * Kysely table types. Times are integer epoch milliseconds; JSON lists are stored as text.
 * See docs/DESIGN.md for what each table is for.
 */

export type AccountStatus = 'active' | 'needs_reconnect' | 'disconnected';
/** A post's states (the transitions are in docs/DESIGN.md; the groupings in src/posts/post-status.ts). */
export const POST_STATUSES = [
  'scheduled',
  'publishing',
  'published',
  'failed',
  'needs_review',
  'canceled',
] as const;
export type PostStatus = (typeof POST_STATUSES)[number];
/**
 * `deleted`: the item's tweet was published, then deleted from X at the user's request (the post is `canceled`).
 * `canceled`: the post was canceled before this item was sent.
 */
export const POST_ITEM_STATUSES = [
  'pending',
  'sending',
  'published',
  'failed',
  'unknown',
  'deleted',
  'canceled',
] as const;
export type PostItemStatus = (typeof POST_ITEM_STATUSES)[number];
export type MediaType = 'image' | 'gif' | 'video';

export interface UsersTable {
  id: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  /** The first characters of the key, shown in listings so a person can tell keys apart. */
  prefix: string;
  /** sha256 hex of the whole key; the key itself is never stored. */
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface SessionsTable {
  /** sha256 hex of the session secret; the secret travels only in the sealed cookie. */
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  /** Idle expiry: slides forward with use, never past `absolute_expires_at`. */
  expires_at: number;
  absolute_expires_at: number;
}

export interface SecretCanaryTable {
  id: string;
  /** A known value sealed with the key the data was sealed with. */
  sealed: string;
  created_at: number;
}

export interface AccountsTable {
  id: string;
  user_id: string;
  x_user_id: string;
  username: string;
  name: string;
  profile_image_url: string | null;
  subscription_type: string | null;
  status: AccountStatus;
  status_reason: string | null;
  /** Granted scopes, space-separated, as X returned them. */
  scopes: string;
  access_token_sealed: string | null;
  refresh_token_sealed: string | null;
  token_expires_at: number | null;
  last_refreshed_at: number | null;
  refresh_lease_owner: string | null;
  refresh_lease_until: number | null;
  refresh_failures: number;
  next_refresh_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AccountEventsTable {
  id: string;
  account_id: string;
  kind: string;
  detail: string | null;
  at: number;
}

export interface MediaTable {
  id: string;
  user_id: string;
  media_type: MediaType;
  mime: string;
  size: number;
  sha256: string;
  alt_text: string | null;
  path: string;
  created_at: number;
}

export interface PostsTable {
  id: string;
  user_id: string;
  account_id: string;
  status: PostStatus;
  scheduled_at: number;
  created_at: number;
  updated_at: number;
  published_at: number | null;
  error_code: string | null;
  error_message: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  attempts: number;
  /** When the dispatcher may next look at this post (= scheduled_at until a retry moves it). */
  next_attempt_at: number;
  /** The account's queue slot this post took ("add to queue"), or null (a time of its own). */
  queue_slot_at: number | null;
  /** How many tweets (items) the post makes. */
  tweet_count: Generated<number>;
  /** What X will bill for it, estimated when it was scheduled or changed (USD). */
  estimated_cost_usd: Generated<number>;
  /** 0 or 1: the first item's URLs were moved into a reply. */
  link_in_reply: Generated<number>;
}

export interface PostingSchedulesTable {
  account_id: string;
  timezone: string;
  /** JSON: [{days: ["mon", …], time: "HH:MM"}]. */
  slots: string;
  /** JSON: [{from: "YYYY-MM-DD", to: "YYYY-MM-DD"}]. */
  blackout: string;
  spacing_minutes: number;
  /** 1: later queued posts move up into a slot freed by a cancel. */
  pull_forward: number;
  updated_at: number;
}

export interface PostItemsTable {
  post_id: string;
  position: number;
  text: string;
  /** JSON array of xgate media ids. */
  media_ids: string;
  status: PostItemStatus;
  tweet_id: string | null;
  attempt_started_at: number | null;
  error_message: string | null;
}

export interface RateLimitsTable {
  /** `app` or `user:<xUserId>`. */
  scope: string;
  /** e.g. `POST /2/tweets`. */
  endpoint: string;
  window: '15m' | '24h';
  limit: number;
  remaining: number;
  reset_at: number;
  updated_at: number;
}

export interface IdempotencyKeysTable {
  user_id: string;
  /** The `Idempotency-Key` header as sent (1–255 printable ASCII characters). */
  key: string;
  /** sha256 hex of method, path and body (see src/idempotency/idempotency.fingerprint.ts). */
  fingerprint: string;
  status: 'in_progress' | 'done';
  /** The resource the first request created (e.g. a post id), written in its create transaction. */
  resource_id: string | null;
  /** Which request holds the key while `in_progress`; it keeps `lease_until` in the future while it runs. */
  lease_owner: string | null;
  lease_until: number;
  response_status: number | null;
  response_content_type: string | null;
  /** The first final answer's body, exactly as sent. */
  response_body: string | null;
  created_at: number;
  expires_at: number;
}

export interface EventsTable {
  /** Insertion order (generated). */
  seq: Generated<number>;
  /** The writing transaction's id on PostgreSQL, 0 on SQLite: the log is ordered by (tx, seq). */
  tx: number;
  id: string;
  user_id: string;
  type: string;
  subject_id: string;
  /** JSON. */
  data: string;
  at: number;
}

export interface WebhooksTable {
  id: string;
  user_id: string;
  url: string;
  /** JSON array of event types; null = every type. */
  types: string | null;
  description: string;
  /** 1 or 0. */
  enabled: number;
  disabled_reason: string | null;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
  cursor_tx: number;
  cursor_seq: number;
  next_run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  /** event, test, replay. */
  kind: string;
  event_tx: number;
  event_seq: number;
  payload: string;
  /** pending, delivered, failed. */
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  finished_at: number | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  at: number;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

export interface CliLoginsTable {
  id: string;
  device_code_hash: string;
  user_code: string;
  name: string;
  /** pending, approved, denied, done. */
  status: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
}

export interface MetricTargetsTable {
  tweet_id: string;
  /** Null for a timeline tweet xgate did not publish. */
  post_id: string | null;
  position: number;
  account_id: string;
  user_id: string;
  published_at: number;
  next_read_at: number | null;
  stopped_reason: string | null;
  last_read_at: number | null;
  last_read_day: number | null;
  reads: Generated<number>;
  /** JSON: the last counts read. */
  last_counts: string | null;
  lease_until: Generated<number>;
}

export interface MetricSnapshotsTable {
  tweet_id: string;
  at: number;
  day: number;
  post_id: string | null;
  account_id: string;
  impressions: number;
  likes: number;
  replies: number;
  reposts: number;
  quotes: number;
  bookmarks: number;
  url_clicks: number | null;
  profile_clicks: number | null;
  engagements: number | null;
}

export interface AccountMetricsDailyTable {
  account_id: string;
  day: number;
  impressions: number;
  engagements: number;
  likes: number;
  replies: number;
  reposts: number;
  quotes: number;
  bookmarks: number;
}

export interface MetricReadsTable {
  account_id: string;
  day: number;
  requests: number;
  reads: number;
  billed: number;
}

export interface MetricTimelinesTable {
  account_id: string;
  enabled_at: number;
  since_id: string | null;
  next_poll_at: number;
  lease_until: Generated<number>;
}

export interface MetricIntakeTable {
  id: number;
  cursor_tx: number;
  cursor_seq: number;
}

export interface SpendDailyTable {
  x_user_id: string;
  day: number;
  operation: string;
  calls: number;
  usd: number;
}

export interface SpendReadDaysTable {
  day: number;
  resource_id: string;
}

export interface SpendSettingsTable {
  account_id: string;
  monthly_cap_usd: number | null;
  daily_cap_usd: number | null;
  /** 0 or 1. */
  link_in_reply: Generated<number>;
}

export interface AppPauseTable {
  id: number;
  code: string;
  detail: string;
  since: number;
  next_probe_at: number;
  probe_interval_ms: number;
}

/**
 * Tweets of the scheduled and publishing posts per hour of `next_attempt_at` (in stripes, summed by readers). Written
 * only by triggers on `posts` (migration 0016); read by the budget check in src/posts.
 */
export interface BudgetHoursTable {
  hour: number;
  stripe: number;
  tweets: number;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  sessions: SessionsTable;
  secret_canary: SecretCanaryTable;
  accounts: AccountsTable;
  account_events: AccountEventsTable;
  media: MediaTable;
  posts: PostsTable;
  post_items: PostItemsTable;
  rate_limits: RateLimitsTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  posting_schedules: PostingSchedulesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  cli_logins: CliLoginsTable;
  metric_targets: MetricTargetsTable;
  metric_snapshots: MetricSnapshotsTable;
  account_metrics_daily: AccountMetricsDailyTable;
  metric_reads: MetricReadsTable;
  metric_intake: MetricIntakeTable;
  metric_timelines: MetricTimelinesTable;
  spend_daily: SpendDailyTable;
  spend_read_days: SpendReadDaysTable;
  spend_settings: SpendSettingsTable;
  app_pause: AppPauseTable;
  budget_hours: BudgetHoursTable;
}
