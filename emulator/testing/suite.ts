import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createEmulator, type Emulator } from '../index.ts';
import type { SubscriptionType } from '../state.ts';
import { authorizeUser } from './oauth.ts';
import { xCaller } from './x-call.ts';

type XCall = ReturnType<typeof xCaller>;

/** A user of the emulator with an access token issued to the suite's client. */
export interface SuiteUser {
  /** The X user id. */
  id: string;
  token: string;
}

/** One emulator shared by the tests of a file; see {@link useEmulator}. */
export interface EmulatorSuite {
  /** The emulator, listening (available from `beforeAll` on). */
  readonly emulator: Emulator;
  /** {@link xCaller} on the emulator: every `/2/…` answer is checked against X's OpenAPI spec. */
  call: XCall;
  /** Creates a user and authorizes it (consent approved) for the suite's client. */
  connect(
    username: string,
    options?: { scopes?: string[]; subscriptionType?: SubscriptionType },
  ): Promise<SuiteUser>;
  /** A fresh token for an existing user, e.g. once the clock moved past the old one's expiry. */
  reauthorize(userId: string): Promise<SuiteUser>;
}

/**
 * Registers the vitest hooks of a test file that talks to one emulator over real HTTP: created (tier
 * `unlimited`, its clock fixed at `start`, epoch ms) and listening before all tests, reset before each test
 * (tier back to `unlimited`, `client` registered again), closed after all.
 */
export function useEmulator(options: {
  client: { clientId: string; redirectUri: string };
  start: number;
}): EmulatorSuite {
  const { client, start } = options;
  let emulator: Emulator | undefined;
  let url = '';
  let caller: XCall | undefined;

  const ready = (): Emulator => {
    if (emulator === undefined) throw new Error('the emulator starts in beforeAll: use it inside a test');
    return emulator;
  };
  const authorize = async (userId: string, scopes?: string[]): Promise<SuiteUser> => {
    const token = await authorizeUser(url, { ...client, userId, scopes });
    return { id: userId, token: token.access_token };
  };

  beforeAll(async () => {
    emulator = await createEmulator({ tier: 'unlimited', now: () => start });
    url = await emulator.listen();
    caller = xCaller(url);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  beforeEach(() => {
    const control = ready().control;
    control.reset();
    control.setTier('unlimited');
    control.registerClient({ clientId: client.clientId, redirectUris: [client.redirectUri] });
  });

  return {
    get emulator() {
      return ready();
    },
    call: (...args) => {
      if (caller === undefined) throw new Error('the emulator starts in beforeAll: use it inside a test');
      return caller(...args);
    },
    async connect(username, connectOptions = {}) {
      const user = ready().control.createUser({
        username,
        subscriptionType: connectOptions.subscriptionType,
      });
      return authorize(user.id, connectOptions.scopes);
    },
    reauthorize: (userId) => authorize(userId),
  };
}
