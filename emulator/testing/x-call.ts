import { expectConformsToSpec } from './conformance.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field, as JSON.
type Json = any;

/** One answer of the emulator: status, headers and the parsed JSON body (undefined when not JSON). */
export interface XAnswer<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

/** How to send a request: a bearer token, a query, and a JSON, form or multipart body. */
export interface XCallOptions {
  token?: string;
  query?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  multipart?: FormData;
  headers?: Record<string, string>;
}

/**
 * Calls the emulator at `baseUrl` over real HTTP and, for every `/2/…` route, checks the JSON answer
 * against X's OpenAPI spec (`expectConformsToSpec`), so a body that X could not have sent fails the test.
 * `pathTemplate` names the route (`/2/tweets/:id`); `params` fills it in.
 */
export function xCaller(baseUrl: string) {
  return async function call<T = Json>(
    method: string,
    pathTemplate: string,
    options: XCallOptions & { params?: Record<string, string> } = {},
  ): Promise<XAnswer<T>> {
    const path = pathTemplate.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`no value for :${name} in ${pathTemplate}`);
      return encodeURIComponent(value);
    });
    const url = new URL(path, baseUrl);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: RequestInit['body'];
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form);
    } else if (options.multipart !== undefined) {
      body = options.multipart;
    }
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    const parsed =
      response.headers.get('content-type')?.includes('json') && text !== '' ? JSON.parse(text) : undefined;
    if (pathTemplate.startsWith('/2/') && !pathTemplate.startsWith('/2/oauth2/')) {
      expectConformsToSpec(method, pathTemplate, response.status, parsed);
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };
}
