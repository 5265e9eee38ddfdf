/**
 * What X would bill the app under pay-per-use: each tweet returned by a lookup or a timeline is a post read,
 * billed at most once per UTC day per tweet (X's rule). Kept as running totals plus the most recent charges, so
 * a long benchmark does not grow the state without bound.
 */

/** X's pay-per-use price of a post read (USD), from its pricing page. */
export const POST_READ_USD = 0.005;
/** How many individual charges `GET /__admin/billing` lists (the most recent); totals count them all. */
export const CHARGES_KEPT = 20_000;

export interface Charge {
  at: number;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  operation: 'post_read';
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

/** Bills a read of `tweetId` at `now`, unless it was already billed this UTC day. */
export function billRead(billing: BillingState, tweetId: string, now: number): void {
  const day = new Date(now).toISOString().slice(0, 10);
  if (billing.billedDay !== day) {
    billing.billedDay = day;
    billing.billedToday = new Map();
  }
  if (billing.billedToday.has(tweetId)) return;
  billing.billedToday.set(tweetId, true);
  billing.totalUsd = Math.round((billing.totalUsd + POST_READ_USD) * 1e6) / 1e6;
  if (billing.creditsUsd !== null)
    billing.creditsUsd = Math.max(0, Math.round((billing.creditsUsd - POST_READ_USD) * 1e6) / 1e6);
  billing.chargeCount += 1;
  billing.readsByDay.set(day, (billing.readsByDay.get(day) ?? 0) + 1);
  billing.charges.push({ at: now, day, operation: 'post_read', resourceId: tweetId, usd: POST_READ_USD });
  if (billing.charges.length > CHARGES_KEPT) billing.charges.splice(0, billing.charges.length - CHARGES_KEPT);
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
