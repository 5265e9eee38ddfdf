import type { EmuClient, EmulatorState } from '../state.ts';
import { isKnownScope, splitScopes } from './scopes.ts';

/** A valid authorize request. */
export interface AuthorizeRequest {
  client: EmuClient;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256' | 'plain';
}

/**
 * What to do with an authorize request:
 * - `page`: the client or redirect URI cannot be trusted, so show an error page and never redirect;
 * - `redirect`: send the error back to the (registered) redirect URI, as RFC 6749 §4.1.2.1 says;
 * - `ok`: ask for consent.
 */
export type AuthorizeCheck =
  | { kind: 'page'; message: string }
  | { kind: 'redirect'; redirectUri: string; error: string; description: string; state: string | null }
  | { kind: 'ok'; request: AuthorizeRequest };

/** X allows `state` up to 500 characters (docs.x.com authorization-code page). */
export const MAX_STATE_LENGTH = 500;

const MAX_CHALLENGE_LENGTH = 128;

function param(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

/** Checks the parameters of `GET /i/oauth2/authorize` (also re-checked when the consent form is posted). */
export function checkAuthorizeRequest(state: EmulatorState, params: Record<string, unknown>): AuthorizeCheck {
  const clientId = param(params, 'client_id');
  const client = clientId === undefined ? undefined : state.clients.get(clientId);
  if (client === undefined) {
    return {
      kind: 'page',
      message: 'This app is not registered (unknown client_id), so it cannot be authorized.',
    };
  }
  const redirectUri = param(params, 'redirect_uri');
  if (redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
    return {
      kind: 'page',
      message: `The redirect_uri does not exactly match a callback URL registered for ${client.name}.`,
    };
  }

  const givenState = param(params, 'state');
  const echoState = givenState !== undefined && givenState.length <= MAX_STATE_LENGTH ? givenState : null;
  const refuse = (error: string, description: string): AuthorizeCheck => ({
    kind: 'redirect',
    redirectUri,
    error,
    description,
    state: echoState,
  });

  const responseType = param(params, 'response_type');
  if (responseType === undefined)
    return refuse('invalid_request', 'Missing required parameter [response_type].');
  if (responseType !== 'code') {
    return refuse('unsupported_response_type', 'Only response_type=code is supported.');
  }
  if (givenState === undefined || givenState === '') {
    return refuse('invalid_request', 'Missing required parameter [state].');
  }
  if (givenState.length > MAX_STATE_LENGTH) {
    return refuse(
      'invalid_request',
      `The state parameter may be at most ${MAX_STATE_LENGTH} characters long.`,
    );
  }

  const scope = param(params, 'scope');
  const scopes = scope === undefined ? [] : splitScopes(scope);
  if (scopes.length === 0) return refuse('invalid_request', 'Missing required parameter [scope].');
  const unknown = scopes.filter((s) => !isKnownScope(s));
  if (unknown.length > 0) return refuse('invalid_scope', `Unknown scope: ${unknown.join(' ')}.`);

  const codeChallenge = param(params, 'code_challenge');
  if (codeChallenge === undefined || codeChallenge === '') {
    return refuse('invalid_request', 'Missing required parameter [code_challenge].');
  }
  if (codeChallenge.length > MAX_CHALLENGE_LENGTH) {
    return refuse(
      'invalid_request',
      `The code_challenge may be at most ${MAX_CHALLENGE_LENGTH} characters long.`,
    );
  }
  const method = param(params, 'code_challenge_method') ?? 'plain';
  let codeChallengeMethod: 'S256' | 'plain';
  if (method === 'S256' || method === 's256') codeChallengeMethod = 'S256';
  else if (method === 'plain') codeChallengeMethod = 'plain';
  else return refuse('invalid_request', 'code_challenge_method must be S256 or plain.');

  return {
    kind: 'ok',
    request: { client, redirectUri, scopes, state: givenState, codeChallenge, codeChallengeMethod },
  };
}

/** `redirectUri` with `params` added to its query (keeping any query it already has). */
export function redirectWith(redirectUri: string, params: Record<string, string | null>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.set(name, value);
  }
  return url.toString();
}

/** The authorize parameters a consent form carries back, in a stable order. */
export const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const;
