import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createEmulator } from '../../emulator/index.ts';
import type { Config } from '../config/index.ts';

/** The OAuth client xgate registers at its own in-process emulator in sandbox mode. */
export const SANDBOX_CLIENT_ID = 'xgate-sandbox';

/** A running sandbox: the emulator, and the config pointed at it. */
export interface Sandbox {
  /** `config` with the X client, API URL and authorize URL of the in-process emulator. */
  config: Config;
  emulatorUrl: string;
  stop(): Promise<void>;
}

/**
 * Sandbox mode (no `X_CLIENT_ID`): starts the X emulator in this process on `config.host`
 * (port `XGATE_SANDBOX_EMULATOR_PORT`, default PORT+1), registers xgate as a confidential client whose
 * redirect is `PUBLIC_URL/auth/x/callback`, and keeps the emulator's users and tweets in
 * `<dataDir>/emulator-state.json` so they survive a restart.
 */
export async function startSandbox(config: Config, log: Logger): Promise<Sandbox> {
  // Stable across restarts without being stored anywhere: derived from the app secret.
  const clientSecret = Buffer.from(
    hkdfSync('sha256', config.secretKey, Buffer.alloc(0), 'xgate/sandbox-client/v1', 24),
  ).toString('base64url');
  const emulator = await createEmulator({
    tier: config.xTier,
    statePath: join(config.dataDir, 'emulator-state.json'),
    clients: [
      {
        clientId: SANDBOX_CLIENT_ID,
        clientSecret,
        redirectUris: [`${config.publicUrl}/auth/x/callback`],
        name: 'xgate (sandbox)',
      },
    ],
  });
  const bindHost = config.host;
  const listened = await emulator.listen({ host: bindHost, port: config.sandboxEmulatorPort });
  const port = new URL(listened).port;
  // The service calls the emulator over loopback; the browser reaches its consent page by the public host.
  const apiHost = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
  const emulatorUrl = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${port}`;
  const publicHost = new URL(config.publicUrl).hostname;
  const authorizeUrl = `http://${publicHost}:${port}/i/oauth2/authorize`;

  log.info(
    { emulatorUrl, authorizeUrl, stateFile: join(config.dataDir, 'emulator-state.json') },
    `Sandbox mode: X_CLIENT_ID is not set, so xgate uses its built-in X emulator at ${emulatorUrl} instead of X. Nothing is posted to the real X.`,
  );
  return {
    config: Object.freeze({
      ...config,
      xClientId: SANDBOX_CLIENT_ID,
      xClientSecret: clientSecret,
      xApiUrl: emulatorUrl,
      xAuthorizeUrl: authorizeUrl,
    }),
    emulatorUrl,
    stop: () => emulator.close(),
  };
}
