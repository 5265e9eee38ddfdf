import { openApiViolation } from './openapi-check.ts';
/** One answer, body already read. `json` is the parsed body when it was JSON, else undefined. */
export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of arbitrary answers
  json: any;
}

export interface RequestOptions {
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Raw body (string, FormData…); set `content-type` in `headers` yourself for strings. */
  body?: RequestInit['body'];
  headers?: Record<string, string>;
  /** Send `X-XGate-CSRF: 1` (default: the client's setting). */
  csrf?: boolean;
}

/**
 * A tiny HTTP client for tests over real HTTP: keeps a cookie jar (like a browser, per client), never follows
 * redirects (tests look at `location`), and sends the CSRF header unless told not to.
 */
export interface TestHttpClient {
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  get(path: string, options?: RequestOptions): Promise<TestResponse>;
  post(path: string, json?: unknown, options?: RequestOptions): Promise<TestResponse>;
  patch(path: string, json?: unknown, options?: RequestOptions): Promise<TestResponse>;
  delete(path: string, options?: RequestOptions): Promise<TestResponse>;
  /** Current cookies, name → value. */
  readonly cookies: Map<string, string>;
  /** Sets a cookie by hand (e.g. a session made by `makeSessionCookie`). */
  setCookie(name: string, value: string): void;
}

/** `baseUrl` like `http://127.0.0.1:1234`; `bearer` adds `Authorization: Bearer <key>` to every request. */
export function createHttpClient(
  baseUrl: string,
  options: { csrf?: boolean; bearer?: string } = {},
): TestHttpClient {
  const cookies = new Map<string, string>();
  const defaultCsrf = options.csrf ?? true;

  function remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = {};
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (opts.csrf ?? defaultCsrf) headers['x-xgate-csrf'] = '1';
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    Object.assign(headers, opts.headers);
    const response = await fetch(new URL(path, baseUrl), { method, headers, body, redirect: 'manual' });
    remember(response.headers);
    const text = await response.text();
    let json: unknown;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') json = JSON.parse(text);
    const violation = openApiViolation(
      method,
      response.url || new URL(path, baseUrl).href,
      response.status,
      json,
    );
    if (violation) throw new Error(violation);
    return { status: response.status, headers: response.headers, text, json };
  }

  return {
    request,
    get: (path, opts) => request('GET', path, opts),
    post: (path, json, opts) => request('POST', path, { ...opts, json: json ?? opts?.json }),
    patch: (path, json, opts) => request('PATCH', path, { ...opts, json: json ?? opts?.json }),
    delete: (path, opts) => request('DELETE', path, opts),
    cookies,
    setCookie(name, value) {
      cookies.set(name, value);
    },
  };
}
