import { parseConsentForm } from '../../emulator/testing/oauth.ts';
import { createTokenSealer } from '../../src/accounts/sealing.ts';
import type { AppDeps } from '../../src/deps.ts';
import type { TestHttpClient, TestResponse } from './http-client.ts';

/**
 * Drives "Sign in with X" like a browser without one: `GET /auth/x/login` on the service, fetches the
 * emulator's consent page, submits its form (as `username`, created when new) and returns the callback URL
 * the emulator redirected to — not yet visited, so tests can tamper with it, delay it or replay it.
 */
export async function authorizeAtEmulator(
  client: TestHttpClient,
  options: { username: string; connect?: boolean; decision?: 'authorize' | 'cancel'; loginPath?: string },
): Promise<URL> {
  const login = await client.get(
    options.loginPath ?? (options.connect ? '/auth/x/login?connect=1' : '/auth/x/login'),
  );
  if (login.status !== 302) throw new Error(`login answered ${login.status}: ${login.text}`);
  const authorizeUrl = new URL(login.headers.get('location') ?? '');
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${html}`);
  const form = new URLSearchParams({
    ...parseConsentForm(html).hidden,
    user_id: 'new',
    username: options.username,
    decision: options.decision ?? 'authorize',
  });
  const submitted = await fetch(new URL('/i/oauth2/authorize', authorizeUrl), {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  if (submitted.status !== 302)
    throw new Error(`consent form answered ${submitted.status}: ${await submitted.text()}`);
  return new URL(submitted.headers.get('location') ?? '');
}

/** Visits the callback URL on the service (path + query only). */
export function visitCallback(client: TestHttpClient, callback: URL): Promise<TestResponse> {
  return client.get(`${callback.pathname}${callback.search}`);
}

/** The `xgate-error` code of one of the sign-in problem pages. */
export function pageErrorCode(response: TestResponse): string | undefined {
  return /<meta name="xgate-error" content="([^"]+)">/.exec(response.text)?.[1];
}

/** Signs in completely; returns the callback response (302 to `/`). */
export async function signInWithX(
  client: TestHttpClient,
  options: { username: string; connect?: boolean },
): Promise<TestResponse> {
  const response = await visitCallback(client, await authorizeAtEmulator(client, options));
  if (response.status !== 302) throw new Error(`callback answered ${response.status}: ${response.text}`);
  return response;
}

/** The plaintext tokens stored for an account (tests only: to prove they never appear elsewhere). */
export async function storedTokens(
  deps: Pick<AppDeps, 'db' | 'config'>,
  accountId: string,
): Promise<{ accessToken: string | null; refreshToken: string | null }> {
  const row = await deps.db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  const sealer = createTokenSealer(deps.config.secretKey);
  return {
    accessToken:
      row.access_token_sealed === null ? null : sealer.unseal(row.id, 'access', row.access_token_sealed),
    refreshToken:
      row.refresh_token_sealed === null ? null : sealer.unseal(row.id, 'refresh', row.refresh_token_sealed),
  };
}
