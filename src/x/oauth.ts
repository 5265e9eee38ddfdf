/**
 * OAuth 2.0 Authorization Code + PKCE against X, through oauth4webapi (docs/x-api.md §1).
 * X publishes no discovery document, so the authorization server metadata is built by hand from `X_API_URL`
 * and `X_AUTHORIZE_URL`.
 */
import * as oauth from 'oauth4webapi';
import { XError } from './errors.ts';
import {
  fetchWithTimeout,
  reportRateLimit,
  responseError,
  type Transport,
  type XCallContext,
} from './transport.ts';
import type { XTokenSet } from './types.ts';

/** The X app (OAuth 2.0 client) xgate acts as. */
export interface XOAuthConfig {
  /** Base of the token and revoke endpoints: `${apiUrl}/2/oauth2/token|revoke`. */
  apiUrl: string;
  /** Where people are sent to authorize, e.g. `https://x.com/i/oauth2/authorize`. */
  authorizeUrl: string;
  clientId: string;
  /** Set for a confidential client (X "Web App"); unset for a public one. */
  clientSecret?: string;
  /** `PUBLIC_URL/auth/x/callback`; must match one of the app's registered callback URLs exactly. */
  redirectUri: string;
  scopes: readonly string[];
}

/** The scopes xgate asks for: reading the profile, posting, media upload, and a refresh token. */
export const defaultScopes = [
  'tweet.read',
  'tweet.write',
  'users.read',
  'media.write',
  'offline.access',
] as const;

/** Where a sign-in starts: send the person to `url`; keep `state` and `codeVerifier` until the callback. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  codeVerifier: string;
}

function authorizationServer(config: XOAuthConfig): oauth.AuthorizationServer {
  return {
    issuer: new URL(config.apiUrl).origin,
    authorization_endpoint: config.authorizeUrl,
    token_endpoint: new URL('/2/oauth2/token', config.apiUrl).href,
    revocation_endpoint: new URL('/2/oauth2/revoke', config.apiUrl).href,
  };
}

/**
 * X's documented client authentication: `Authorization: Basic base64(client_id:client_secret)` for confidential
 * clients (X does not form-decode the credentials), and `client_id` in the body always — X has been seen to
 * insist on it even with a Basic header.
 */
function clientAuth(config: XOAuthConfig): oauth.ClientAuth {
  return (_as, client, body, headers) => {
    body.set('client_id', client.client_id);
    if (config.clientSecret !== undefined) {
      const credentials = Buffer.from(`${config.clientId}:${config.clientSecret}`).toString('base64');
      headers.set('authorization', `Basic ${credentials}`);
    }
  };
}

/** Pure: the authorize URL for a given state and PKCE S256 challenge. */
export function buildAuthorizationUrl(config: XOAuthConfig, state: string, codeChallenge: string): URL {
  const url = new URL(config.authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', config.redirectUri);
  url.searchParams.set('scope', config.scopes.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url;
}

/** A fresh state and PKCE verifier, and the authorize URL that carries them. */
export async function startAuthorization(config: XOAuthConfig): Promise<AuthorizationRequest> {
  const state = oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  return { url: buildAuthorizationUrl(config, state, challenge), state, codeVerifier };
}

/** Runs one token/revoke call through oauth4webapi, turning every failure into an `XError`. */
async function oauthCall<T>(
  transport: Transport,
  endpoint: string,
  kind: 'token' | 'idempotent',
  context: XCallContext,
  call: (options: oauth.TokenEndpointRequestOptions) => Promise<Response>,
  process: (response: Response) => Promise<T>,
): Promise<T> {
  let last: { response: Response; text: string } | undefined;
  const options: oauth.TokenEndpointRequestOptions = {
    [oauth.customFetch]: async (url, init) => {
      last = await fetchWithTimeout(transport, endpoint, kind, url, init as RequestInit);
      const { response, text } = last;
      return new Response(text === '' ? null : text, { status: response.status, headers: response.headers });
    },
    [oauth.allowInsecureRequests]: transport.apiUrl.startsWith('http:'),
  };
  const response = await call(options);
  const rateLimit = last ? reportRateLimit(transport, endpoint, last.response.headers, context) : undefined;
  try {
    return await process(response);
  } catch (error) {
    if (error instanceof XError || !last) throw error;
    const status = last.response.status;
    let body: unknown;
    try {
      body = JSON.parse(last.text);
    } catch {
      body = undefined;
    }
    if (status >= 200 && status < 300) {
      throw new XError(
        { failureClass: kind === 'token' ? 'ambiguous' : 'retryable', code: 'x_unreadable_body' },
        `X answered ${endpoint} with a body that does not fit OAuth 2.0.`,
        { endpoint, status, rateLimit, cause: error },
      );
    }
    throw responseError(endpoint, kind, status, body, rateLimit, transport.clock.now());
  }
}

function tokenSet(
  result: oauth.TokenEndpointResponse,
  issuedAt: number,
  requested: readonly string[],
): XTokenSet {
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? null,
    // X answers expires_in: 7200. Counting from before the request keeps the estimate on the safe side.
    expiresAt: issuedAt + (result.expires_in ?? 7200) * 1000,
    scopes: (result.scope ?? requested.join(' ')).split(' ').filter((scope) => scope !== ''),
  };
}

/**
 * Exchanges the callback's `code` for tokens. `callbackParams` is the callback's query string; its `state` must
 * equal `expectedState` (checked again here) and `codeVerifier` is the one from `startAuthorization`.
 */
export async function exchangeCode(
  transport: Transport,
  config: XOAuthConfig,
  callbackParams: URLSearchParams,
  expectedState: string,
  codeVerifier: string,
): Promise<XTokenSet> {
  const as = authorizationServer(config);
  const client: oauth.Client = { client_id: config.clientId };
  const endpoint = 'POST /2/oauth2/token';
  let validated: URLSearchParams;
  try {
    validated = oauth.validateAuthResponse(as, client, callbackParams, expectedState);
  } catch (error) {
    throw new XError(
      { failureClass: 'terminal', code: 'x_invalid_request' },
      'The authorization answer is not valid.',
      {
        endpoint,
        error: callbackParams.get('error') ?? undefined,
        cause: error,
      },
    );
  }
  const issuedAt = transport.clock.now();
  const result = await oauthCall(
    transport,
    endpoint,
    'token',
    {},
    (options) =>
      oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth(config),
        validated,
        config.redirectUri,
        codeVerifier,
        options,
      ),
    (response) => oauth.processAuthorizationCodeResponse(as, client, response),
  );
  return tokenSet(result, issuedAt, config.scopes);
}

/** Trades a refresh token for a new pair. X rotates refresh tokens: the one passed in is spent on success. */
export async function refreshTokens(
  transport: Transport,
  config: XOAuthConfig,
  refreshToken: string,
  context: XCallContext = {},
): Promise<XTokenSet> {
  const as = authorizationServer(config);
  const client: oauth.Client = { client_id: config.clientId };
  const issuedAt = transport.clock.now();
  const result = await oauthCall(
    transport,
    'POST /2/oauth2/token',
    'token',
    context,
    (options) => oauth.refreshTokenGrantRequest(as, client, clientAuth(config), refreshToken, options),
    (response) => oauth.processRefreshTokenResponse(as, client, response),
  );
  return tokenSet(result, issuedAt, config.scopes);
}

/** Revokes an access or refresh token at X (`POST /2/oauth2/revoke`). */
export async function revokeToken(
  transport: Transport,
  config: XOAuthConfig,
  token: string,
  hint: 'access_token' | 'refresh_token',
  context: XCallContext = {},
): Promise<void> {
  const as = authorizationServer(config);
  const client: oauth.Client = { client_id: config.clientId };
  await oauthCall(
    transport,
    'POST /2/oauth2/revoke',
    'idempotent',
    context,
    (options) =>
      oauth.revocationRequest(as, client, clientAuth(config), token, {
        ...options,
        additionalParameters: { token_type_hint: hint },
      }),
    (response) => oauth.processRevocationResponse(response),
  );
}
