/*
 * Idempotency-Key for every POST under /api/v1 (CONTRACT §3 "Retries are safe").
 *
 * A key row `(user_id, key)` is the reservation; its primary key is what detects a concurrent request with
 * the same key, in this process or any other. Where the row is written depends on the route:
 *
 * - Routes that create a resource declare `config.idempotency.answerFor` and write the row **inside their
 *   create transaction** (`request.idempotency?.record(trx, id)`), as `in_progress` with a pointer to
 *   the new resource. Post and key commit together or not at all: no post without its key, no key without
 *   its post. The insert is also the race: two requests with the same key both run up to it; on PostgreSQL
 *   the second insert waits for the first transaction and then finds the key taken, on SQLite writers are
 *   serialised anyway. The loser throws 409 `idempotency_key_in_progress`, which rolls back its post.
 * - Every other POST reserves the key **before** its handler runs (its own small commit), because it has no
 *   transaction to share. A crash then leaves a reservation without work, which the lease below frees.
 *
 * While a request holds a key it keeps a lease (`lease_owner`, `lease_until`), renewed every third of its
 * length, so a retry can tell "still running" (409 with Retry-After, e.g. while the first holds `?wait`)
 * from "its process died" (lease run out). A dead holder's reservation without a resource is taken over
 * and the request runs again; one that had already created its resource is taken over and answered with
 * the resource's current state (`answerFor`), never created again.
 *
 * When the answer is known (`onSend`, before it is written to the socket) a 2xx–4xx answer is stored with
 * the key (`done`), and the same key with the same fingerprint replays it byte for byte with
 * `Idempotent-Replayed: true`; a different fingerprint gets 422 `idempotency_key_reused`. A 5xx is not
 * stored: the reservation is dropped so a retry runs again — unless the resource was created, in which case
 * the lease is ended so a retry answers from the resource at once. The same goes for an answer to a client
 * that hung up (e.g. during `?wait`) on a create route: its retry gets the resource as it is by then.
 *
 * The fingerprint is method, URL and the body as parsed before validation (JSON with sorted keys). A
 * streamed upload is fingerprinted by its handler once read (`bodyReadInHandler` + `begin()`): file sha256
 * and fields, since the multipart boundary changes on every retry.
 *
 * Cost for a create with a key: one indexed insert inside the create transaction (no extra commit), and
 * one update of that row by primary key that changes no indexed column (the stored answer).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import type { ZodFastify } from '../http/types.ts';
import {
  IdempotencyKeyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyResourceGoneError,
} from './idempotency.errors.ts';
import { fingerprintRequest } from './idempotency.fingerprint.ts';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  parseIdempotencyKey,
} from './idempotency.key.ts';
import {
  completeIdempotencyKey,
  findIdempotencyKey,
  type IdempotencyRecord,
  insertIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  type StoredAnswer,
  takeOverIdempotencyKey,
} from './idempotency.repository.ts';
import { createAnswerSealer } from './idempotency.seal.ts';

/** Per-route options (`config: { idempotency: {…} }`). Without them a POST still takes keys (reserve-first). */
export interface IdempotencyRouteOptions {
  /**
   * Declares that the route records its key in its create transaction with
   * `request.idempotency?.record(trx, id)`. Called when the first request with a key created `resourceId` but
   * died before answering: the answer to give instead (usually 201 and the resource as it is now), or
   * null if the resource no longer exists.
   */
  answerFor?: (
    request: FastifyRequest,
    resourceId: string,
  ) => Promise<{ status: number; body: unknown } | null>;
  /**
   * The handler reads the body itself (a streamed multipart upload), so the hooks cannot fingerprint it:
   * the handler calls `request.idempotency?.begin(reply, content)` once it knows the content.
   */
  bodyReadInHandler?: boolean;
  /** The answer holds a secret (a new API key): store it sealed with `XGATE_SECRET_KEY`, not in clear. */
  sealAnswer?: boolean;
}

/** The state of one request that sent an Idempotency-Key. */
export interface IdempotencyContext {
  readonly userId: string;
  readonly key: string;
  /** This request's id as a lease holder. */
  readonly owner: string;
  /**
   * `open`: no row of ours yet (a create route before its transaction); `held`: we hold the row;
   * `settled`: answered from the row, or refused: nothing to store.
   */
  phase: 'open' | 'held' | 'settled';
  /**
   * For routes with `bodyReadInHandler`: checks the key against `content` (field values, and files as
   * their sha256 — what makes two uploads the same) before anything is created. True when the answer has
   * been given (a replay): the handler returns `reply` without doing anything. Throws 409/422 like the hooks.
   */
  begin(reply: FastifyReply, content: unknown): Promise<boolean>;
  /**
   * For routes with `answerFor`: writes the key inside the create transaction `trx`, pointing at the
   * resource it created. Throws 409 `idempotency_key_in_progress` (rolling the transaction back) when
   * another request with the same key got there first.
   */
  record(trx: Kysely<Database>, resourceId: string): Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotency?: IdempotencyRouteOptions;
  }
  interface FastifyRequest {
    /** Set when a POST under /api/v1 sent a valid Idempotency-Key; null otherwise. */
    idempotency: IdempotencyContext | null;
  }
}

/** What the hooks need. */
export interface IdempotencyDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  /** How long a key is remembered. */
  ttlMs: number;
  /** Seals answers of routes with `sealAnswer`. */
  secretKey: Buffer;
  /** How long a holder's claim lasts without renewal (default 15 s); renewed every third of that. */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 15_000;
/** Renewals stop after this long even if a handler never answers, so a lost request cannot pin a key. */
const MAX_HOLD_MS = 10 * 60_000;
/** Retry-After of a 409: the first request usually answers within a second (or its `?wait`). */
const RETRY_AFTER_SECONDS = 1;

interface RequestState {
  /** The body as parsed, before validation rewrites it. */
  rawBody: unknown;
  /** Set in preHandler. */
  fingerprint: string | null;
  renewal: NodeJS.Timeout | null;
}

/** `POST /api/v1/…` routes are the ones that take keys. */
function takesKeys(method: string | string[], url: string): boolean {
  const methods = Array.isArray(method) ? method : [method];
  return methods.includes('POST') && url.startsWith('/api/v1/');
}

const headerSchema = z.looseObject({
  [IDEMPOTENCY_KEY_HEADER]: z
    .string()
    .min(1)
    .max(MAX_IDEMPOTENCY_KEY_LENGTH)
    .regex(/^[\x20-\x7e]+$/)
    .optional()
    .describe(
      'Makes a retry safe (e.g. a UUID per logical request): the same key with the same request replays the first answer ' +
        'with `Idempotent-Replayed: true` and does nothing again; with a different request → 422 `idempotency_key_reused`; ' +
        'while the first is still running → 409 `idempotency_key_in_progress` with Retry-After. 1–255 printable ASCII ' +
        'characters, scoped to the caller, kept 24 hours by default (XGATE_IDEMPOTENCY_TTL_HOURS); 5xx answers are not kept.',
    ),
});

/**
 * Installs Idempotency-Key handling on every `POST /api/v1/…` route registered after it (register it
 * before the route modules): the header in the OpenAPI document, key validation (400
 * `invalid_idempotency_key`), replay, 409/422, and storing the final answer.
 */
export function installIdempotency(app: ZodFastify, deps: IdempotencyDeps): void {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const sealer = createAnswerSealer(deps.secretKey);
  // Per-request bookkeeping the route does not see; dropped with the request.
  const states = new WeakMap<FastifyRequest, RequestState>();
  app.decorateRequest('idempotency', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    if (!takesKeys(route.method, route.url)) return;
    const schema = route.schema ?? {};
    const existing = schema.headers as z.ZodObject | undefined;
    route.schema = {
      ...schema,
      headers: existing instanceof z.ZodObject ? existing.extend(headerSchema.shape).loose() : headerSchema,
    };
  });

  app.addHook('preValidation', async (request) => {
    const route = request.routeOptions.url;
    if (route === undefined || !takesKeys(request.method, route)) return;
    const key = parseIdempotencyKey(request.raw.headersDistinct[IDEMPOTENCY_KEY_HEADER]);
    // Keys are scoped to a user; an anonymous POST (auth `none`/`optional`) has nobody to scope them to.
    if (key === null || !request.user) return;
    const state: RequestState = { rawBody: request.body, fingerprint: null, renewal: null };
    const ctx: IdempotencyContext = {
      userId: request.user.id,
      key,
      owner: randomUUID(),
      phase: 'open',
      begin: (reply, content) => begin(request, reply, ctx, state, content),
      record: (trx, resourceId) => record(request, ctx, state, trx, resourceId),
    };
    request.idempotency = ctx;
    states.set(request, state);
  });

  app.addHook('preHandler', async (request, reply) => {
    const ctx = request.idempotency;
    const state = states.get(request);
    if (!ctx || !state || request.routeOptions.config.idempotency?.bodyReadInHandler) return;
    // Multipart bodies attached by `@fastify/multipart` arrive after the hooks above ran.
    const body = state.rawBody !== undefined ? state.rawBody : request.body;
    if (await begin(request, reply, ctx, state, body)) return reply;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const ctx = request.idempotency;
    const state = states.get(request);
    if (!ctx || !state || ctx.phase === 'settled') return payload;
    stopRenewing(state);
    const phase = ctx.phase;
    ctx.phase = 'settled';
    const options = request.routeOptions.config.idempotency;
    const body = payloadText(payload);
    try {
      // Not kept: a 5xx, a body that cannot be stored exactly, or — when the route can answer from its
      // resource — an answer the client hung up on: its retry gets the resource as it is by then (a
      // `?wait` retry waits again) rather than a snapshot nobody received.
      const clientGone = reply.raw.destroyed && options?.answerFor !== undefined;
      if (reply.statusCode >= 500 || body === null || clientGone) {
        if (phase === 'held') await releaseIdempotencyKey(deps.db, ctx);
        return payload;
      }
      const contentType = reply.getHeader('content-type');
      const answer: StoredAnswer = {
        status: reply.statusCode,
        contentType: typeof contentType === 'string' ? contentType : null,
        body: options?.sealAnswer ? sealer.seal(ctx.userId, ctx.key, body) : body,
      };
      const stored = phase === 'held' && (await completeIdempotencyKey(deps.db, { ...ctx, answer }));
      if (!stored && state.fingerprint !== null) {
        // No row of ours: an answer given before the create transaction (e.g. 404), or after it rolled
        // back. Kept unless another request holds the key by now.
        const now = deps.clock.now();
        await insertIdempotencyKey(deps.db, {
          ...ctx,
          fingerprint: state.fingerprint,
          now,
          expiresAt: now + deps.ttlMs,
          answer,
        });
      }
    } catch (error) {
      // The answer still goes out; the lease runs out and a retry is handled as after a crash.
      request.log.error({ err: error }, 'could not store the answer of an Idempotency-Key');
    }
    return payload;
  });

  app.addHook('onResponse', async (request) => {
    const state = states.get(request);
    if (state) stopRenewing(state);
  });

  async function record(
    request: FastifyRequest,
    ctx: IdempotencyContext,
    state: RequestState,
    trx: Kysely<Database>,
    resourceId: string,
  ): Promise<void> {
    if (!request.routeOptions.config.idempotency?.answerFor) {
      throw new Error(
        `${request.routeOptions.url}: record() needs the route option config.idempotency.answerFor`,
      );
    }
    if (ctx.phase !== 'open' || state.fingerprint === null) {
      throw new Error('record() is for the create transaction of a request that has not answered yet');
    }
    const now = deps.clock.now();
    const won = await insertIdempotencyKey(trx, {
      ...ctx,
      fingerprint: state.fingerprint,
      now,
      expiresAt: now + deps.ttlMs,
      lease: { owner: ctx.owner, until: now + leaseMs },
      resourceId,
    });
    if (!won) {
      ctx.phase = 'settled';
      throw new IdempotencyKeyInProgressError(RETRY_AFTER_SECONDS);
    }
    ctx.phase = 'held';
  }

  /** Fingerprints the request and decides: run it (false), or it has been answered from the key (true). */
  async function begin(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: IdempotencyContext,
    state: RequestState,
    body: unknown,
  ): Promise<boolean> {
    if (state.fingerprint !== null) throw new Error('begin() runs once per request');
    const fingerprint = fingerprintRequest({ method: request.method, url: request.url, body });
    state.fingerprint = fingerprint;
    const createsInTransaction = request.routeOptions.config.idempotency?.answerFor !== undefined;
    const now = deps.clock.now();
    let existing = await findIdempotencyKey(deps.db, ctx.userId, ctx.key, now);
    if (existing === null && !createsInTransaction) {
      if (await reserve(ctx, fingerprint, now)) return startRenewing(ctx, state);
      existing = await findIdempotencyKey(deps.db, ctx.userId, ctx.key, now);
    }
    // A create route with a new key: its transaction writes the key. Renewal starts now so the lease
    // stays fresh from the moment that transaction commits.
    if (existing === null) return startRenewing(ctx, state);
    return answerFromRecord(request, reply, ctx, state, existing, now);
  }

  async function reserve(ctx: IdempotencyContext, fingerprint: string, now: number): Promise<boolean> {
    const won = await insertIdempotencyKey(deps.db, {
      ...ctx,
      fingerprint,
      now,
      expiresAt: now + deps.ttlMs,
      lease: { owner: ctx.owner, until: now + leaseMs },
    });
    if (won) ctx.phase = 'held';
    return won;
  }

  async function answerFromRecord(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: IdempotencyContext,
    state: RequestState,
    record: IdempotencyRecord,
    now: number,
  ): Promise<boolean> {
    const options = request.routeOptions.config.idempotency;
    if (record.fingerprint !== state.fingerprint) {
      ctx.phase = 'settled';
      throw new IdempotencyKeyReusedError();
    }
    if (record.status === 'done' && record.answer) {
      ctx.phase = 'settled';
      replay(reply, ctx, record.answer, options?.sealAnswer === true);
      return true;
    }
    if (record.leaseUntil > now) {
      ctx.phase = 'settled';
      throw new IdempotencyKeyInProgressError(RETRY_AFTER_SECONDS);
    }
    // The holder stopped renewing: it died, or ended in a 5xx.
    if (record.resourceId === null) {
      // A reservation whose request died before finishing its work: run again. (A create route writes its
      // key in its transaction, which takes over such a row the same way.)
      if (options?.answerFor) return startRenewing(ctx, state);
      if (await reserve(ctx, record.fingerprint, now)) return startRenewing(ctx, state);
      ctx.phase = 'settled';
      throw new IdempotencyKeyInProgressError(RETRY_AFTER_SECONDS);
    }
    const claim = { userId: ctx.userId, key: ctx.key, owner: ctx.owner, now, until: now + leaseMs };
    if (!options?.answerFor || !(await takeOverIdempotencyKey(deps.db, claim))) {
      ctx.phase = 'settled';
      throw new IdempotencyKeyInProgressError(RETRY_AFTER_SECONDS);
    }
    ctx.phase = 'held';
    startRenewing(ctx, state);
    const current = await options.answerFor(request, record.resourceId);
    if (current === null) throw new IdempotencyResourceGoneError();
    reply.status(current.status).send(current.body);
    return true;
  }

  function replay(reply: FastifyReply, ctx: IdempotencyContext, answer: StoredAnswer, sealed: boolean): void {
    const body = sealed ? sealer.unseal(ctx.userId, ctx.key, answer.body) : answer.body;
    if (body === null) {
      // XGATE_SECRET_KEY changed since: the secret in that answer is gone for good.
      throw new IdempotencyResourceGoneError();
    }
    reply.status(answer.status).header(IDEMPOTENT_REPLAYED_HEADER, 'true');
    if (answer.contentType !== null) reply.header('content-type', answer.contentType);
    reply.send(body);
  }

  function startRenewing(ctx: IdempotencyContext, state: RequestState): false {
    if (state.renewal) return false;
    const started = Date.now();
    state.renewal = setInterval(() => {
      if (ctx.phase === 'settled' || Date.now() - started > MAX_HOLD_MS) return stopRenewing(state);
      const until = deps.clock.now() + leaseMs;
      renewIdempotencyLease(deps.db, { ...ctx, until }).catch((error: unknown) =>
        deps.log.warn({ err: error }, 'could not renew an Idempotency-Key lease'),
      );
    }, leaseMs / 3);
    state.renewal.unref();
    return false;
  }

  function stopRenewing(state: RequestState): void {
    if (state.renewal) {
      clearInterval(state.renewal);
      state.renewal = null;
    }
  }
}

/** The body as stored text, or null when it cannot be stored exactly (a stream, or bytes that are not UTF-8). */
function payloadText(payload: unknown): string | null {
  if (payload === null || payload === undefined) return '';
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) {
    const text = payload.toString('utf8');
    return Buffer.from(text, 'utf8').equals(payload) ? text : null;
  }
  return null;
}
