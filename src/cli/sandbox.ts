import { hkdfSync } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createEmulator } from '../../emulator/index.ts';
import type { Config } from '../config/index.ts';

/** The OAuth client xgate registers at its own in-process emulator in sandbox mode. */
export const SANDBOX_CLIENT_ID = 'xgate-sandbox';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A running sandbox: the emulator, and the config pointed at it. */
export interface Sandbox {
  /** `config` with the X client, API URL and authorize URL of the in-process emulator. */
  config: Config;
  emulatorUrl: string;
  stop(): Promise<void>;
}

/**
 * Sandbox mode (no `X_CLIENT_ID`): starts the X emulator in this process on loopback
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
  // Loopback only, whatever HOST is: anyone reaching the emulator could pick a sandbox user on its consent page
  // (and so sign in to xgate as that user) or reset it through /__admin.
  const bindHost = isLoopback(config.host) ? config.host : '127.0.0.1';
  let listened: string;
  try {
    listened = await emulator.listen({ host: bindHost, port: config.sandboxEmulatorPort });
  } catch (error) {
    await emulator.close();
    throw error;
  }
  const port = new URL(listened).port;
  const emulatorUrl = `http://${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${port}`;
  // The browser reaches the consent page by the public host when that is this machine too (e.g. localhost).
  const publicHost = new URL(config.publicUrl).hostname;
  const consentHost = isLoopback(publicHost.replace(/^\[|\]$/g, '')) ? publicHost : bindHost;
  const authorizeUrl = `http://${consentHost.includes(':') && !consentHost.startsWith('[') ? `[${consentHost}]` : consentHost}:${port}/i/oauth2/authorize`;

  log.info(
    { emulatorUrl, authorizeUrl, stateFile: join(config.dataDir, 'emulator-state.json') },
    `Sandbox mode: X_CLIENT_ID is not set, so xgate uses its built-in X emulator at ${emulatorUrl} instead of X. Nothing is posted to the real X.`,
  );
  if (bindHost !== config.host) {
    log.warn(
      { host: config.host, emulatorHost: bindHost },
      `HOST is ${config.host}, but the sandbox's X emulator listens on ${bindHost} only, so its consent page (sandbox sign-in) works from a browser on this machine. Set X_CLIENT_ID to use the real X from other machines.`,
    );
  }
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
