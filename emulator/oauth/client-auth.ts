import type { EmuClient, EmulatorState } from '../state.ts';

/** The OAuth error the token and revoke endpoints answer when the client cannot be authenticated. */
export interface OAuthFailure {
  status: number;
  error: string;
  description: string;
}

/** X's answer to a confidential client without (or with a wrong) Basic header. */
const MISSING_AUTHORIZATION: OAuthFailure = {
  status: 401,
  error: 'unauthorized_client',
  description: 'Missing valid authorization header',
};

function formDecode(text: string): string {
  return decodeURIComponent(text.replaceAll('+', ' '));
}

/** `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1), or null. */
function parseBasic(header: string | undefined): { id: string; secret: string } | null {
  if (header === undefined || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * Who is calling the token or revoke endpoint. Confidential clients must send the Basic header (a
 * `client_secret` in the body does not count, as on X); public clients send `client_id` in the body.
 */
export function authenticateClient(
  state: EmulatorState,
  authorization: string | undefined,
  bodyClientId: string | undefined,
): { client: EmuClient } | { failure: OAuthFailure } {
  const basic = parseBasic(authorization);
  if (basic !== null) {
    const client = state.clients.get(basic.id);
    if (client === undefined) return { failure: MISSING_AUTHORIZATION };
    if ((client.clientSecret ?? '') !== basic.secret) return { failure: MISSING_AUTHORIZATION };
    if (bodyClientId !== undefined && bodyClientId !== basic.id) return { failure: MISSING_AUTHORIZATION };
    return { client };
  }
  if (bodyClientId === undefined || bodyClientId === '') {
    return {
      failure: {
        status: 400,
        error: 'invalid_request',
        description: 'Missing required parameter [client_id].',
      },
    };
  }
  const client = state.clients.get(bodyClientId);
  if (client === undefined) {
    return {
      failure: { status: 401, error: 'invalid_client', description: 'Client authentication failed.' },
    };
  }
  if (client.clientSecret !== null) return { failure: MISSING_AUTHORIZATION };
  return { client };
}
