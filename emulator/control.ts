import { z } from 'zod';
import { billingView, setBilling } from './billing.ts';
import type { EmulatorContext } from './context.ts';
import { listRequests, type RequestLogEntry } from './request-log.ts';
import {
  createState,
  type EmuClient,
  type EmuUser,
  type FaultKind,
  type FaultRule,
  TIERS,
  type Tier,
} from './state.ts';
import { createUser, type UserInput } from './users.ts';
import { ControlError, parseInput } from './validation.ts';

export type { UserInput } from './users.ts';

/** `POST /__admin/clients` body. A secret makes the client confidential. */
export interface ClientInput {
  clientId: string;
  clientSecret?: string | null;
  redirectUris: string[];
  name?: string;
}

/** One rule of `POST /__admin/faults`. */
export interface FaultRuleInput {
  method: string;
  path: string;
  kind: FaultKind;
  /** Required for `error`: the status to answer (400–599). */
  status?: number;
  /** 0–1, default 1. */
  probability?: number;
  /** How many requests the rule hits before it is removed; default unlimited. */
  count?: number;
  /** Required for `latency`: the delay in ms before the request is handled. */
  latencyMs?: number;
}

/** A row of `GET /__admin/tweets`; times are epoch ms. */
export interface AdminTweet {
  id: string;
  authorId: string;
  text: string;
  inReplyToTweetId: string | null;
  mediaIds: string[];
  createdAt: number;
  deletedAt: number | null;
}

/** The programmatic twin of the control API (`/__admin/*`); bad input throws `ControlError`. */
export interface EmulatorControl {
  /** Forgets everything; the clients given at start-up are registered again and the start tier restored. */
  reset(): void;
  /** Registers (or replaces) an OAuth client. */
  registerClient(input: ClientInput): EmuClient;
  /** Creates a user; `username` must be unique (case-insensitive). */
  createUser(input: UserInput): EmuUser;
  /** Authorize requests are approved as this user without the consent page; null turns it off. */
  setAutoApprove(userId: string | null): void;
  /**
   * The user revokes every app's access in X's settings: all their access and refresh tokens die, so the next
   * call answers 401 and the next refresh `invalid_grant`. Returns how many tokens died.
   */
  revokeAccess(userId: string): number;
  /** What X would bill the app so far (pay-per-use: reads of one tweet billed once per UTC day). */
  billing(): ReturnType<typeof billingView>;
  /** Sets the app's credit balance (null: unlimited) and/or its `client-not-enrolled` state. */
  setBilling(input: { creditsUsd?: number | null; notEnrolled?: boolean }): ReturnType<typeof billingView>;
  /** Moves the emulator clock forward; returns the new emulator time (epoch ms). */
  advanceClock(seconds: number): number;
  setTier(tier: Tier): void;
  tier(): Tier;
  /** Emulator time in epoch ms. */
  now(): number;
  /** Every tweet ever created, deleted ones included, oldest first. */
  tweets(): AdminTweet[];
  /** The most recent requests received (bounded), oldest first. */
  requests(): RequestLogEntry[];
  /** Replaces the fault rules. */
  setFaults(rules: FaultRuleInput[]): FaultRule[];
  clearFaults(): void;
}

const clientSchema = z
  .object({
    clientId: z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 printable ASCII characters without spaces'),
    clientSecret: z.string().min(1, 'must not be empty (omit it for a public client)').nullish(),
    redirectUris: z
      .array(
        z.string().refine((uri) => URL.canParse(uri), 'must be an absolute URL'),
        'must be an array of absolute URLs',
      )
      .min(1, 'needs at least one redirect URI'),
    name: z.string().min(1).max(100).optional(),
  })
  .strict();

const faultSchema = z
  .object({
    method: z
      .string()
      .regex(/^(\*|[A-Za-z]+)$/, 'must be an HTTP method or *')
      .transform((method) => method.toUpperCase()),
    path: z.string().startsWith('/', 'must start with /'),
    kind: z.enum(['error', 'latency', 'timeout', 'drop_after_commit']),
    status: z.number().int().min(400).max(599).optional(),
    probability: z.number().min(0).max(1).optional(),
    count: z.number().int().min(1).optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
  })
  .strict()
  .superRefine((rule, issues) => {
    if (rule.kind === 'error' && rule.status === undefined) {
      issues.addIssue({ code: 'custom', path: ['status'], message: 'is required for kind "error"' });
    }
    if (rule.kind === 'latency' && rule.latencyMs === undefined) {
      issues.addIssue({ code: 'custom', path: ['latencyMs'], message: 'is required for kind "latency"' });
    }
  });

const faultsSchema = z.array(faultSchema, 'rules must be an array of fault rules');

/** Validates control input for the admin routes, which parse their bodies with these schemas too. */
export const controlSchemas = {
  faults: faultsSchema,
  autoApprove: z.object({ userId: z.string().min(1, 'is required') }).strict(),
  clock: z
    .object({
      advanceSeconds: z.number('must be a number of seconds').finite().min(0, 'must not be negative'),
    })
    .strict(),
  tier: z.object({ tier: z.enum(TIERS as [Tier, ...Tier[]]) }).strict(),
  billing: z
    .object({
      creditsUsd: z
        .number('must be a number of dollars or null')
        .finite()
        .min(0, 'must not be negative')
        .nullable()
        .optional(),
      notEnrolled: z.boolean('must be true or false').optional(),
    })
    .strict(),
};

/** Builds the control over the context's state; `initialClients` and `initialTier` are what `reset` restores. */
export function createControl(args: {
  ctx: EmulatorContext;
  initialTier: Tier;
  initialClients: readonly ClientInput[];
}): EmulatorControl {
  const { ctx, initialTier, initialClients } = args;
  const { state } = ctx;

  const control: EmulatorControl = {
    reset() {
      // Ids keep increasing across a reset, so ids from before never come back with new meaning.
      const { lastId, duplicateWindowMs } = state;
      Object.assign(state, createState(initialTier), { lastId, duplicateWindowMs });
      for (const client of initialClients) control.registerClient(client);
      ctx.markDirty();
    },

    registerClient(input) {
      const parsed = parseInput(clientSchema, input, 'client');
      const client: EmuClient = {
        clientId: parsed.clientId,
        clientSecret: parsed.clientSecret ?? null,
        redirectUris: parsed.redirectUris,
        name: parsed.name ?? parsed.clientId,
      };
      state.clients.set(client.clientId, client);
      ctx.markDirty();
      return client;
    },

    createUser: (input) => createUser(ctx, input),

    setAutoApprove(userId) {
      if (userId !== null && !state.users.has(userId)) {
        throw new ControlError('user_not_found', `No user with id ${userId}; create it first.`, 404);
      }
      state.autoApproveUserId = userId;
      ctx.markDirty();
    },

    revokeAccess(userId) {
      if (!state.users.has(userId))
        throw new ControlError('user_not_found', `No user with id ${userId}.`, 404);
      let revoked = 0;
      for (const tokens of [state.accessTokens, state.refreshTokens] as Map<string, { userId: string }>[]) {
        for (const [token, entry] of tokens) {
          if (entry.userId !== userId) continue;
          tokens.delete(token);
          revoked += 1;
        }
      }
      ctx.markDirty();
      return revoked;
    },

    billing: () => billingView(state.billing),

    setBilling(input) {
      setBilling(state.billing, parseInput(controlSchemas.billing, input, 'billing change'));
      ctx.markDirty();
      return billingView(state.billing);
    },

    advanceClock(seconds) {
      const parsed = parseInput(controlSchemas.clock, { advanceSeconds: seconds }, 'clock change');
      state.clockOffsetMs += Math.round(parsed.advanceSeconds * 1000);
      ctx.markDirty();
      return ctx.clock.now();
    },

    setTier(tier) {
      state.tier = parseInput(controlSchemas.tier, { tier }, 'tier').tier;
      ctx.markDirty();
    },

    tier: () => state.tier,
    now: () => ctx.clock.now(),

    tweets() {
      return [...state.tweets.values()].map((tweet) => ({
        id: tweet.id,
        authorId: tweet.authorId,
        text: tweet.text,
        inReplyToTweetId: tweet.inReplyToTweetId,
        mediaIds: tweet.mediaIds,
        createdAt: tweet.createdAt,
        deletedAt: tweet.deletedAt,
      }));
    },

    requests: () => listRequests(state.requestLog),

    setFaults(rules) {
      const parsed = parseInput(faultsSchema, rules, 'fault rules');
      state.faults = parsed.map((rule) => ({
        method: rule.method,
        path: rule.path,
        kind: rule.kind,
        status: rule.status ?? null,
        probability: rule.probability ?? 1,
        remaining: rule.count ?? null,
        latencyMs: rule.latencyMs ?? 0,
      }));
      ctx.markDirty();
      return state.faults;
    },

    clearFaults() {
      state.faults = [];
      ctx.markDirty();
    },
  };
  return control;
}
