import { afterEach, describe, expect, it } from 'vitest';
import { spawnXgate, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import { createHttpClient, freePort, makeTempDir } from './helpers/index.ts';
import { signInWithX } from './helpers/x-signin.ts';

const running: XgateProcess[] = [];
const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  for (const dir of dirs.splice(0)) dir.remove();
});

async function serve(env: Record<string, string>, port: number): Promise<XgateProcess> {
  const child = spawnXgate(['serve'], { ...env, PORT: String(port), LOG_LEVEL: 'info' });
  running.push(child);
  await waitUntilReady(`http://127.0.0.1:${port}`, child);
  return child;
}

async function stop(child: XgateProcess): Promise<void> {
  child.process.kill('SIGTERM');
  expect(await child.exit).toBe(0);
}

describe('sandbox mode', () => {
  it('signs in with a sandbox X account, and keeps users, tokens and keys across a restart', async () => {
    const dir = makeTempDir('xgate-sandbox-');
    dirs.push(dir);
    const [port, emulatorPort] = [await freePort(), await freePort()];
    const env = { XGATE_DATA_DIR: dir.path, XGATE_SANDBOX_EMULATOR_PORT: String(emulatorPort) };
    const base = `http://127.0.0.1:${port}`;

    const first = await serve(env, port);
    const browser = createHttpClient(base);
    const callback = await signInWithX(browser, { username: 'sandbox_alice' });
    expect(callback.status).toBe(302);
    // The callback lands on the web app, told that it runs in sandbox mode (nothing reaches the real X).
    expect(callback.headers.get('location')).toBe('/');
    const home = await browser.get('/');
    expect(home.text).toContain('<meta name="xgate-sandbox" content="true">');
    const me = await browser.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json.accounts).toEqual([
      expect.objectContaining({ username: 'sandbox_alice', status: 'active' }),
    ]);
    const { json: apiKey } = await browser.post('/api/v1/api-keys', { name: 'sandbox script' });
    await stop(first);

    const second = await serve(env, port);
    const script = createHttpClient(base, { bearer: apiKey.key });
    const again = await script.get('/api/v1/me');
    expect(again.json).toEqual(me.json);
    // The restarted emulator still knows the account and its token.
    const verified = await script.post(`/api/v1/accounts/${me.json.accounts[0].id}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.json).toMatchObject({ username: 'sandbox_alice', status: 'active' });
    await stop(second);
  });
});
