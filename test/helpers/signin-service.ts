import type { Tier } from '../../emulator/index.ts';
import type { TestClock } from './clock.ts';
import type { DialectContext } from './dialects.ts';
import { startTestEmulator, type TestEmulator } from './emulator.ts';
import { startTestService, TEST_X_CLIENT_ID, type TestService } from './service.ts';

/**
 * Starts the emulator on `clock` and xgate over the dialect's database pointed at it, and registers the
 * service at the emulator as the OAuth client "Sign in with X" uses (`TEST_X_CLIENT_ID`, the service's
 * callback; confidential when `clientSecret` is given, which the service then sends). Stop both in `afterAll`.
 */
export async function startSignInService(
  ctx: DialectContext,
  options: {
    clock: TestClock;
    tier?: Tier;
    worker?: boolean;
    env?: Record<string, string>;
    clientSecret?: string;
  },
): Promise<{ emulator: TestEmulator; service: TestService }> {
  const { clock, clientSecret } = options;
  const emulator = await startTestEmulator({
    now: () => clock.now(),
    ...(options.tier ? { tier: options.tier } : {}),
  });
  try {
    const service = await startTestService({
      databaseUrl: ctx.databaseUrl,
      dataDir: ctx.dataDir,
      emulatorUrl: emulator.url,
      clock,
      worker: options.worker ?? false,
      env: { ...options.env, ...(clientSecret ? { X_CLIENT_SECRET: clientSecret } : {}) },
    });
    emulator.control.registerClient({
      clientId: TEST_X_CLIENT_ID,
      ...(clientSecret ? { clientSecret } : {}),
      redirectUris: [`${service.url}/auth/x/callback`],
      name: 'xgate tests',
    });
    return { emulator, service };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
