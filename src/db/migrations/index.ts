import type { Migration } from 'kysely';
import * as m0001 from './0001_users.ts';
import * as m0002 from './0002_accounts.ts';
import * as m0003 from './0003_posts.ts';
import * as m0004 from './0004_idempotency.ts';
import * as m0005 from './0005_sessions.ts';
import * as m0006 from './0006_secret_canary.ts';
import * as m0007 from './0007_events.ts';
import * as m0008 from './0008_posting_schedules.ts';
import * as m0009 from './0009_webhooks.ts';
import * as m0010 from './0010_cli_logins.ts';
import * as m0011 from './0011_post_tweet_count.ts';
import * as m0012 from './0012_events_log_order.ts';
import * as m0013 from './0013_metrics.ts';
import * as m0014 from './0014_spend.ts';
import * as m0015 from './0015_post_cost.ts';
import * as m0016 from './0016_budget_hours.ts';
import * as m0017 from './0017_budget_check_locked.ts';
import * as m0018 from './0018_claim_order_index.ts';

/**
 * Every migration, by name (applied in name order). One file per domain; add a new file and a line here
 * to change the schema after a release. Times are `bigint` epoch ms: on SQLite the declared type `bigint`
 * has integer affinity, so the same DDL serves both dialects.
 */
export const migrations: Record<string, Migration> = {
  '0001_users': m0001,
  '0002_accounts': m0002,
  '0003_posts': m0003,
  '0004_idempotency': m0004,
  '0005_sessions': m0005,
  '0006_secret_canary': m0006,
  '0007_events': m0007,
  '0008_posting_schedules': m0008,
  '0009_webhooks': m0009,
  '0010_cli_logins': m0010,
  '0011_post_tweet_count': m0011,
  '0012_events_log_order': m0012,
  '0013_metrics': m0013,
  '0014_spend': m0014,
  '0015_post_cost': m0015,
  '0016_budget_hours': m0016,
  '0017_budget_check_locked': m0017,
  '0018_claim_order_index': m0018,
};
