import { setTimeout as sleep } from 'node:timers/promises';
import type { Credentials } from './config.ts';
import { CliError, EXIT } from './errors.ts';

/** The API's error body. */
interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

/** An error answer of the API, with its code and details for the command to explain. */
export class ApiError extends CliError {
  constructor(
    message: string,
    exitCode: number,
    code: string,
    readonly status: number,
    readonly details: unknown,
  ) {
    super(message, exitCode, code);
  }
}

/** Waits before each retry after a network error: a retried POST carries the same Idempotency-Key. */
const RETRY_WAITS_MS = [500, 1500, 4000];

/**
 * A small client of a running xgate's `/api/v1`, with the CLI's API key. Network errors are retried (with the
 * command's one Idempotency-Key on POSTs, so a retried command never posts twice); error answers become
 * {@link ApiError}s whose message says what to do next.
 */
export class ApiClient {
  constructor(
    readonly credentials: Credentials,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get url(): string {
    return this.credentials.url;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      form?: FormData;
      idempotencyKey?: string;
      auth?: boolean;
      timeoutMs?: number;
    } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth !== false) {
      if (!this.credentials.apiKey) {
        throw new CliError(
          `not logged in to ${this.url}: run \`xgate login\` (or set XGATE_URL and XGATE_API_KEY)`,
          EXIT.auth,
          'unauthorized',
        );
      }
      headers.authorization = `Bearer ${this.credentials.apiKey}`;
    }
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let body: string | FormData | undefined;
    if (options.form) body = options.form;
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const retriable = method === 'GET' || method === 'DELETE' || options.idempotencyKey !== undefined;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(`${this.url}${path}`, {
          method,
          headers,
          ...(body !== undefined && { body }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 90_000),
        });
      } catch (error) {
        const wait = RETRY_WAITS_MS[attempt];
        if (retriable && wait !== undefined) {
          await sleep(wait);
          continue;
        }
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        throw new CliError(
          `cannot reach xgate at ${this.url} (${cause}): is it running? (\`xgate serve\`, or set XGATE_URL)`,
          EXIT.failed,
          'unreachable',
        );
      }
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      let json: unknown = null;
      try {
        json = text === '' ? null : JSON.parse(text);
      } catch {
        json = null;
      }
      if (response.ok) return json as T;
      if (
        response.status >= 500 &&
        retriable &&
        RETRY_WAITS_MS[attempt] !== undefined &&
        response.status !== 501
      ) {
        await sleep(RETRY_WAITS_MS[attempt] as number);
        continue;
      }
      throw this.#explain(response.status, json as ApiErrorBody | null, text);
    }
  }

  #explain(status: number, body: ApiErrorBody | null, text: string): ApiError {
    const code = body?.error?.code ?? `http_${status}`;
    const message = body?.error?.message ?? (text.slice(0, 200) || `HTTP ${status}`);
    const details = body?.error?.details;
    if (status === 401) {
      return new ApiError(
        `${this.url} refused the API key (revoked or invalid): run \`xgate login\``,
        EXIT.auth,
        code,
        status,
        details,
      );
    }
    if (code === 'account_needs_reconnect' || code === 'account_disconnected') {
      return new ApiError(
        `${message} Run \`xgate connect\` and sign in at X as that account.`,
        EXIT.auth,
        code,
        status,
        details,
      );
    }
    return new ApiError(message, EXIT.failed, code, status, details);
  }
}
