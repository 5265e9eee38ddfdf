import { type Clock, systemClock } from '../clock.ts';
import { XError } from './errors.ts';
import {
  type AuthorizationRequest,
  exchangeCode,
  refreshTokens,
  revokeToken,
  startAuthorization,
  type XOAuthConfig,
} from './oauth.ts';
import {
  appendUploadRequest,
  type CreateTweetInput,
  createTweetRequest,
  deleteTweetRequest,
  finalizeUploadRequest,
  getMeRequest,
  getTweetMetricsRequest,
  getTweetsRequest,
  getUserTweetsRequest,
  initializeUploadRequest,
  readCreatedTweet,
  readDeleted,
  readMedia,
  readTweetMetrics,
  readTweetPage,
  readTweets,
  readUser,
  setAltTextRequest,
  type UserTweetsQuery,
  uploadMediaRequest,
  uploadStatusRequest,
} from './requests.ts';
import { type OnOutcome, type OnRateLimit, send, type Transport, type XCallContext } from './transport.ts';
import type {
  XMedia,
  XMediaCategory,
  XMediaSource,
  XTokenSet,
  XTweet,
  XTweetMetricsAnswer,
  XTweetPage,
  XUser,
} from './types.ts';

/** Options of `createXClient`. Only `oauth` is required. */
export interface XClientOptions {
  oauth: XOAuthConfig;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  clock?: Clock;
  /** Waits between media STATUS polls; injected so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout in ms (default 30,000). */
  timeoutMs?: number;
  /** Size of each APPEND segment of a chunked upload, in bytes (default 4 MiB). */
  chunkBytes?: number;
  /** Longest total wait for X to process a GIF/video before giving up, in ms (default 10 minutes). */
  maxProcessingMs?: number;
  /** Receives the budget headers of every response (see `OnRateLimit`). */
  onRateLimit?: OnRateLimit;
  /** Called after every v2 call X answered: what xgate will be billed, and app-wide refusals. */
  onOutcome?: OnOutcome;
}

/** X calls made on behalf of one user, with that user's access token. Every method throws `XError`. */
export interface XUserApi {
  /** `GET /2/users/me` with profile image and subscription type. */
  getMe(): Promise<XUser>;
  /** `POST /2/tweets`. A lost answer is `ambiguous`: reconcile with `getUserTweets` before resending. */
  createTweet(input: CreateTweetInput): Promise<{ id: string; text: string }>;
  /** `DELETE /2/tweets/:id` → whether X says it is deleted. */
  deleteTweet(tweetId: string): Promise<boolean>;
  /** `GET /2/tweets?ids=` (≤ 100 ids). Ids X does not return (deleted, unknown) are absent from the answer. */
  getTweets(ids: readonly string[]): Promise<XTweet[]>;
  /** `GET /2/tweets?ids=` (1–100) with public metrics, and the author-only ones when `withPrivate`. */
  getTweetMetrics(ids: readonly string[], withPrivate: boolean): Promise<XTweetMetricsAnswer>;
  /** `GET /2/users/:id/tweets`, newest first. */
  getUserTweets(userId: string, query?: UserTweetsQuery): Promise<XTweetPage>;
  /**
   * Uploads media: one-shot `POST /2/media/upload` for `tweet_image`; initialize/append/finalize and STATUS
   * polling (honouring `check_after_secs`) for `tweet_gif`/`tweet_video`. Resolves when X says it is usable.
   */
  uploadMedia(source: XMediaSource, options: { mime: string; category: XMediaCategory }): Promise<XMedia>;
  /** `POST /2/media/metadata` with `alt_text` (≤ 1,000 characters). */
  setAltText(mediaId: string, text: string): Promise<void>;
}

/** The X client: OAuth steps with the app's credentials, and `forToken` for user-context calls. */
export interface XClient {
  /** A fresh state + PKCE verifier and the URL to send the person to. */
  startAuthorization(): Promise<AuthorizationRequest>;
  /** Exchanges the callback's code (state checked against `expectedState`) for a token set. */
  exchangeCode(
    callbackParams: URLSearchParams,
    expectedState: string,
    codeVerifier: string,
  ): Promise<XTokenSet>;
  /** Trades a refresh token for a new pair; the old refresh token is spent. */
  refresh(refreshToken: string, context?: XCallContext): Promise<XTokenSet>;
  /** Revokes an access or refresh token. */
  revoke(token: string, hint: 'access_token' | 'refresh_token', context?: XCallContext): Promise<void>;
  /**
   * User-context API for one access token. `xUserId`, when known, is passed to `onRateLimit`.
   * Cheap: builds no connection, so call it per use with the token from the vault.
   */
  forToken(accessToken: string, context?: XCallContext): XUserApi;
}

async function* chunksOf(source: XMediaSource, size: number): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    for (let offset = 0; offset < source.length; offset += size) yield source.subarray(offset, offset + size);
    return;
  }
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const piece of source.stream) {
    pending.push(piece);
    pendingBytes += piece.length;
    while (pendingBytes >= size) {
      const joined = Buffer.concat(pending);
      yield joined.subarray(0, size);
      pending = [joined.subarray(size)];
      pendingBytes = joined.length - size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

async function collect(source: XMediaSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  const parts: Uint8Array[] = [];
  for await (const piece of source.stream) parts.push(piece);
  return Buffer.concat(parts);
}

/** Builds the X client. See `XClient` and `XUserApi`. */
export function createXClient(options: XClientOptions): XClient {
  const transport: Transport = {
    apiUrl: options.oauth.apiUrl,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    clock: options.clock ?? systemClock,
    timeoutMs: options.timeoutMs ?? 30_000,
    onRateLimit: options.onRateLimit,
    onOutcome: options.onOutcome,
  };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
  const maxProcessingMs = options.maxProcessingMs ?? 10 * 60_000;
  const config = options.oauth;

  function forToken(accessToken: string, context: XCallContext = {}): XUserApi {
    const call = (request: Parameters<typeof send>[1]) => send(transport, request, accessToken, context);

    async function waitForProcessing(media: Awaited<ReturnType<typeof readMedia>>): Promise<XMedia> {
      let current = media;
      let waited = 0;
      while (current.processing && current.processing.state !== 'succeeded') {
        if (current.processing.state === 'failed') {
          throw new XError(
            { failureClass: 'terminal', code: 'x_media_failed' },
            'X could not process the media.',
            {
              endpoint: 'GET /2/media/upload',
              detail: current.processing.errorMessage,
            },
          );
        }
        const delay = Math.max(1, current.processing.checkAfterSecs ?? 1) * 1000;
        if (waited + delay > maxProcessingMs) {
          throw new XError(
            { failureClass: 'retryable', code: 'x_media_failed' },
            `X was still processing the media after ${Math.round(waited / 1000)} s.`,
            { endpoint: 'GET /2/media/upload' },
          );
        }
        await sleep(delay);
        waited += delay;
        current = readMedia(await call(uploadStatusRequest(current.mediaId)), 'GET /2/media/upload');
      }
      return {
        mediaId: current.mediaId,
        mediaKey: current.mediaKey,
        expiresAfterSecs: current.expiresAfterSecs,
      };
    }

    return {
      getMe: async () => readUser(await call(getMeRequest())),
      createTweet: async (input) => readCreatedTweet(await call(createTweetRequest(input))),
      deleteTweet: async (tweetId) => readDeleted(await call(deleteTweetRequest(tweetId))),
      getTweets: async (ids) => (ids.length === 0 ? [] : readTweets(await call(getTweetsRequest(ids)))),
      getTweetMetrics: async (ids, withPrivate) =>
        readTweetMetrics(await call(getTweetMetricsRequest(ids, withPrivate))),
      getUserTweets: async (userId, query) => readTweetPage(await call(getUserTweetsRequest(userId, query))),
      async uploadMedia(source, { mime, category }) {
        if (category === 'tweet_image') {
          const bytes = await collect(source);
          const media = readMedia(
            await call(uploadMediaRequest(bytes, mime, category)),
            'POST /2/media/upload',
          );
          return waitForProcessing(media);
        }
        const size = source instanceof Uint8Array ? source.length : source.size;
        const init = readMedia(
          await call(initializeUploadRequest(size, mime, category)),
          'POST /2/media/upload/initialize',
        );
        let segment = 0;
        for await (const chunk of chunksOf(source, chunkBytes)) {
          await call(appendUploadRequest(init.mediaId, segment, chunk));
          segment += 1;
        }
        const finalized = readMedia(
          await call(finalizeUploadRequest(init.mediaId)),
          'POST /2/media/upload/:id/finalize',
        );
        return waitForProcessing(finalized);
      },
      async setAltText(mediaId, text) {
        await call(setAltTextRequest(mediaId, text));
      },
    };
  }

  return {
    startAuthorization: () => startAuthorization(config),
    exchangeCode: (params, expectedState, verifier) =>
      exchangeCode(transport, config, params, expectedState, verifier),
    refresh: (refreshToken, context) => refreshTokens(transport, config, refreshToken, context),
    revoke: (token, hint, context) => revokeToken(transport, config, token, hint, context),
    forToken,
  };
}
