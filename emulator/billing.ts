import twitterText from 'twitter-text';

/**
 * What X would bill the app under pay-per-use (launched 2026-02-06; prices as of 2026-04-20, docs/x-api.md): a
 * post created ($0.015; $0.20 when its text has a URL), a reply ($0.01, the price X lists for a "summoned" reply;
 * X does not document a self-reply's price, so the emulator and xgate both bill a reply so, URL or not), a post
 * deleted ($0.01), the user read of `GET /2/users/me` ($0.010), media alt text ($0.005); each tweet (or user) a
 * read returns ($0.005) at most once per UTC day (X's 24-hour de-duplication). Media uploads are not billed.
 * Failed requests are not billed. Kept as running totals plus the most recent charges, so a long benchmark does
 * not grow the state without bound.
 *
 * With a credit balance set, a billable call is refused with X's 402 once it is used up; with `notEnrolled`, every
 * v2 call gets X's 403 `client-not-enrolled` (an app not attached to the pay-per-use package).
 */

export const PRICES_USD = {
  post: 0.015,
  post_with_url: 0.2,
  reply: 0.01,
  delete: 0.01,
  post_read: 0.005,
  user_read: 0.01,
  media_metadata: 0.005,
} as const;

export type BilledOperation = keyof typeof PRICES_USD;

/** How many individual charges `GET /__admin/billing` lists (the most recent); totals count them all. */
export const CHARGES_KEPT = 20_000;

export interface Charge {
  at: number;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  operation: BilledOperation;
  resourceId: string;
  usd: number;
}

export interface BillingState {
  /** `null`: unlimited (the default). */
  creditsUsd: number | null;
  notEnrolled: boolean;
  totalUsd: number;
  chargeCount: number;
  /** Reads billed, by UTC day. */
  readsByDay: Map<string, number>;
  /** The most recent charges, oldest first. */
  charges: Charge[];
  /** The tweets already billed on `billedDay` (X bills a resource once per UTC day). */
  billedDay: string;
  billedToday: Map<string, true>;
}

export function createBilling(): BillingState {
  return {
    creditsUsd: null,
    notEnrolled: false,
    totalUsd: 0,
    chargeCount: 0,
    readsByDay: new Map(),
    charges: [],
    billedDay: '',
    billedToday: new Map(),
  };
}

const utcDate = (at: number) => new Date(at).toISOString().slice(0, 10);

function charge(billing: BillingState, operation: BilledOperation, resourceId: string, now: number): void {
  const usd = PRICES_USD[operation];
  const day = utcDate(now);
  billing.totalUsd = Math.round((billing.totalUsd + usd) * 1e6) / 1e6;
  if (billing.creditsUsd !== null) billing.creditsUsd = Math.round((billing.creditsUsd - usd) * 1e6) / 1e6;
  billing.chargeCount += 1;
  billing.charges.push({ at: now, day, operation, resourceId, usd });
  if (billing.charges.length > CHARGES_KEPT) billing.charges.splice(0, billing.charges.length - CHARGES_KEPT);
}

/** Bills a read of a resource (a tweet id, or `user:<id>`) at `now`, unless it was already billed this UTC day. */
export function billRead(
  billing: BillingState,
  resourceId: string,
  now: number,
  operation: 'post_read' | 'user_read' = 'post_read',
): void {
  const day = utcDate(now);
  if (billing.billedDay !== day) {
    billing.billedDay = day;
    billing.billedToday = new Map();
  }
  if (billing.billedToday.has(resourceId)) return;
  billing.billedToday.set(resourceId, true);
  if (operation === 'post_read') billing.readsByDay.set(day, (billing.readsByDay.get(day) ?? 0) + 1);
  charge(billing, operation, resourceId, now);
}

/** Bills a created tweet: a reply, a post with a URL, or a plain post. */
export function billCreate(
  billing: BillingState,
  tweet: { id: string; text: string; inReplyToTweetId: string | null },
  now: number,
): void {
  const operation: BilledOperation =
    tweet.inReplyToTweetId !== null
      ? 'reply'
      : twitterText.extractUrls(tweet.text).length > 0
        ? 'post_with_url'
        : 'post';
  charge(billing, operation, tweet.id, now);
}

export function billWrite(
  billing: BillingState,
  operation: 'delete' | 'media_metadata',
  resourceId: string,
  now: number,
): void {
  charge(billing, operation, resourceId, now);
}

/** X's answer when the app may not be billed now (credits used up, or not enrolled), or null when it may. */
export function billingRefusal(billing: BillingState, clientId: string): Record<string, unknown> | null {
  if (billing.notEnrolled) {
    return {
      client_id: clientId,
      detail:
        'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
      registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
      title: 'Client Forbidden',
      required_enrollment: 'Appropriate Level of API Access',
      reason: 'client-not-enrolled',
      type: 'https://api.twitter.com/2/problems/client-forbidden',
      status: 403,
    };
  }
  if (billing.creditsUsd !== null && billing.creditsUsd <= 0) {
    return {
      detail: 'credits depleted',
      status: 402,
      title: 'Payment Required',
      type: 'https://api.x.com/2/problems/credits-depleted',
    };
  }
  return null;
}

/** `POST /__admin/billing`: a new credit balance (null: unlimited) and/or the enrollment state. */
export function setBilling(
  billing: BillingState,
  input: { creditsUsd?: number | null; notEnrolled?: boolean },
): void {
  if (input.creditsUsd !== undefined) billing.creditsUsd = input.creditsUsd;
  if (input.notEnrolled !== undefined) billing.notEnrolled = input.notEnrolled;
}

/** The answer of `GET /__admin/billing`. */
export function billingView(billing: BillingState) {
  return {
    creditsUsd: billing.creditsUsd,
    notEnrolled: billing.notEnrolled,
    totalUsd: billing.totalUsd,
    chargeCount: billing.chargeCount,
    readsByDay: Object.fromEntries(billing.readsByDay),
    charges: billing.charges,
  };
}
