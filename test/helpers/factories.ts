import type { AppDeps } from '../../src/deps.ts';
import { createApiKey } from '../../src/users/api-keys.repository.ts';
import { SESSION_COOKIE } from '../../src/users/sessions.ts';
import { createUser, type User } from '../../src/users/users.repository.ts';
import { createHttpClient, type TestHttpClient } from './http-client.ts';
import type { TestService } from './service.ts';

/** A new user row (no X account). */
export function makeUser(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<User> {
  return createUser(deps.db, deps.clock.now());
}

/** A new API key for `userId`; returns the secret too. */
export async function makeApiKey(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  userId: string,
  name = 'test key',
): Promise<{ id: string; key: string }> {
  const { apiKey, key } = await createApiKey(deps.db, { userId, name, now: deps.clock.now() });
  return { id: apiKey.id, key };
}

/** A new user with an API key, and a client of `service` that sends the key (`Authorization: Bearer`). */
export async function makeApiClient(service: TestService): Promise<{ user: User; client: TestHttpClient }> {
  const user = await makeUser(service.app.deps);
  const { key } = await makeApiKey(service.app.deps, user.id);
  return { user, client: createHttpClient(service.url, { bearer: key }) };
}

/** The value of a valid session cookie for `userId` (what signing in with X would set). */
export function makeSessionCookie(
  deps: Pick<AppDeps, 'sessions'>,
  userId: string,
  idleSeconds = 3600,
): Promise<string> {
  return deps.sessions.create(userId, { idleSeconds });
}

/** A user with a session: `{ user, cookie }` — put it in a client with `client.setCookie(SESSION_COOKIE, cookie)`. */
export async function makeSignedInUser(
  deps: Pick<AppDeps, 'db' | 'clock' | 'sessions'>,
): Promise<{ user: User; cookie: string }> {
  const user = await makeUser(deps);
  return { user, cookie: await makeSessionCookie(deps, user.id) };
}

export { SESSION_COOKIE };
