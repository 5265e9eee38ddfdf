import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * X's pay-per-use prices in USD (docs/x-api.md §4 "Pay-per-use pricing": launched 2026-02-06, prices as of
 * 2026-04-20). A reply is billed at the price X lists for a "summoned" reply; X does not document what a reply in
 * your own thread costs — if your bill says otherwise, change `reply` in your price file (XGATE_PRICES_FILE).
 * Reads (`post_read`, `user_read`) are billed at most once per UTC day per resource.
 */
export const DEFAULT_PRICES = {
  post: 0.015,
  post_with_url: 0.2,
  reply: 0.01,
  delete: 0.01,
  post_read: 0.005,
  user_read: 0.01,
  owned_read: 0.001,
  media_upload: 0,
  media_metadata: 0.005,
} as const;

export type Operation = keyof typeof DEFAULT_PRICES;
export type PriceTable = Readonly<Record<Operation, number>>;

/** When the default prices were read from X's pricing page. */
export const PRICES_AS_OF = '2026-04-20';

const priceFile = z.strictObject(
  Object.fromEntries(
    Object.keys(DEFAULT_PRICES).map((operation) => [
      operation,
      z.number(`${operation} must be a price in USD`).min(0, `${operation} must not be negative`).optional(),
    ]),
  ) as Record<Operation, z.ZodOptional<z.ZodNumber>>,
);

/** The default prices, with those of the JSON file at `path` (XGATE_PRICES_FILE) in their place. */
export function loadPrices(path: string | undefined): PriceTable {
  if (path === undefined) return DEFAULT_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`XGATE_PRICES_FILE (${path}) could not be read as JSON: ${(error as Error).message}`);
  }
  const result = priceFile.safeParse(parsed);
  if (!result.success) {
    throw new Error(
      `XGATE_PRICES_FILE (${path}) is not a price table: ${result.error.issues.map((issue) => issue.message).join('; ')}. Give prices in USD by operation, e.g. {"post_with_url": 0.2}.`,
    );
  }
  return { ...DEFAULT_PRICES, ...result.data };
}
