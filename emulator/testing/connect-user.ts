import type { Emulator } from '../index.ts';
import type { SubscriptionType } from '../state.ts';
import { authorizeUser, SERVICE_SCOPES } from './oauth.ts';

/** The public client `connectUser` registers (and refreshes as): tests that refresh must use it too. */
export const TEST_CLIENT = {
  clientId: 'emulator-test-client',
  redirectUri: 'http://127.0.0.1/callback',
} as const;

/** A user connected through the real OAuth flow, with its tokens. */
export interface ConnectedUser {
  userId: string;
  username: string;
  accessToken: string;
  refreshToken: string | null;
  scope: string;
}

/**
 * Creates a user on a listening emulator and runs the authorization-code + PKCE flow for it over HTTP
 * (consent form approved as that user) with the public `TEST_CLIENT`, registered on first use.
 */
export async function connectUser(
  emulator: Emulator,
  options: { username: string; name?: string; subscriptionType?: SubscriptionType; scopes?: string[] },
): Promise<ConnectedUser> {
  if (emulator.url === '') throw new Error('connectUser needs a listening emulator (call listen() first)');
  emulator.control.registerClient({
    clientId: TEST_CLIENT.clientId,
    redirectUris: [TEST_CLIENT.redirectUri],
  });
  const user = emulator.control.createUser({
    username: options.username,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.subscriptionType === undefined ? {} : { subscriptionType: options.subscriptionType }),
  });
  const tokens = await authorizeUser(emulator.url, {
    clientId: TEST_CLIENT.clientId,
    redirectUri: TEST_CLIENT.redirectUri,
    userId: user.id,
    scopes: options.scopes ?? SERVICE_SCOPES,
  });
  return {
    userId: user.id,
    username: user.username,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? null,
    scope: tokens.scope,
  };
}
