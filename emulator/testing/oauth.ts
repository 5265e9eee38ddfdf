import { createHash, randomBytes } from 'node:crypto';

/** What `POST /2/oauth2/token` answers. */
export interface TokenResponse {
  token_type: 'bearer';
  expires_in: number;
  access_token: string;
  scope: string;
  refresh_token?: string;
}

/** The scopes xgate asks for. */
export const SERVICE_SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'media.write', 'offline.access'];

/** A PKCE pair (S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function decodeEntities(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The hidden fields and the action of the consent page's form, read with plain string matching. */
export function parseConsentForm(html: string): { action: string; hidden: Record<string, string> } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error('no consent form in the page');
  const hidden: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    hidden[match[1] as string] = decodeEntities(match[2] as string);
  }
  return { action: decodeEntities(action), hidden };
}

/** Basic header of a confidential client, encoded as RFC 6749 §2.3.1 says. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * Runs the whole authorization-code + PKCE flow over HTTP against an emulator at `baseUrl`: opens the
 * authorize URL, approves the consent form as `userId` (or follows the auto-approve redirect), and
 * exchanges the code. Throws with the emulator's answer when a step fails.
 */
export async function authorizeUser(
  baseUrl: string,
  options: {
    clientId: string;
    clientSecret?: string;
    redirectUri: string;
    userId: string;
    scopes?: string[];
  },
): Promise<TokenResponse> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    scope: (options.scopes ?? SERVICE_SCOPES).join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  let answer = await fetch(`${baseUrl}/i/oauth2/authorize?${query}`, { redirect: 'manual' });
  if (answer.status === 200) {
    const form = parseConsentForm(await answer.text());
    answer = await fetch(new URL(form.action, baseUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.hidden, user_id: options.userId, decision: 'authorize' }),
    });
  }
  const location = answer.headers.get('location');
  if (answer.status !== 302 || location === null) {
    throw new Error(`authorize failed: ${answer.status} ${await answer.text()}`);
  }
  const code = new URL(location).searchParams.get('code');
  if (code === null) throw new Error(`authorize redirected without a code: ${location}`);

  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: options.redirectUri,
    code_verifier: verifier,
  });
  if (options.clientSecret === undefined) body.set('client_id', options.clientId);
  else headers.authorization = basicAuthorization(options.clientId, options.clientSecret);
  const token = await fetch(`${baseUrl}/2/oauth2/token`, { method: 'POST', headers, body });
  if (token.status !== 200) throw new Error(`token exchange failed: ${token.status} ${await token.text()}`);
  return (await token.json()) as TokenResponse;
}
