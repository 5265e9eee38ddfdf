import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, pendingMigrations } from '../src/db/index.ts';
import { migrations } from '../src/db/migrations/index.ts';
import { spawnXgate as run, waitFor, waitUntilReady } from './helpers/cli.ts';
import { freePort, makeTempDir } from './helpers/index.ts';

const children: ChildProcess[] = [];
const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) dir.remove();
});
function tempDir(): string {
  const dir = makeTempDir('xgate-cli-');
  dirs.push(dir);
  return dir.path;
}

describe('xgate CLI', () => {
  it('`xgate migrate` migrates a fresh SQLite file', async () => {
    const dir = tempDir();
    const url = `sqlite:${join(dir, 'nested', 'fresh.db')}`;
    const child = run(['migrate'], { DATABASE_URL: url, XGATE_DATA_DIR: dir });
    expect(await child.exit).toBe(0);
    expect(child.stdout()).toContain(`Applied ${Object.keys(migrations).length} migration(s)`);
    const handle = await createDatabase(url);
    try {
      expect(await pendingMigrations(handle.db)).toEqual([]);
    } finally {
      await handle.destroy();
    }
    const again = run(['migrate'], { DATABASE_URL: url, XGATE_DATA_DIR: dir });
    expect(await again.exit).toBe(0);
    expect(again.stdout()).toContain('Already up to date.');
  });

  it('refuses an invalid configuration with one message listing every bad variable, exit 1', async () => {
    const child = run(['serve'], {
      XGATE_DATA_DIR: tempDir(),
      PORT: 'eighty',
      X_TIER: 'gold',
      PUBLIC_URL: 'nope',
    });
    expect(await child.exit).toBe(1);
    const message = child.stderr();
    for (const variable of ['PORT', 'X_TIER', 'PUBLIC_URL']) expect(message).toContain(variable);
    expect(message.match(/Invalid configuration/g)).toHaveLength(1);
  });

  it('`xgate serve` in sandbox mode becomes ready, says so, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const port = await freePort();
    const child = run(['serve'], {
      XGATE_DATA_DIR: dir,
      PORT: String(port),
      XGATE_SANDBOX_EMULATOR_PORT: '0',
      LOG_LEVEL: 'info',
    });
    children.push(child.process);
    const base = `http://127.0.0.1:${port}`;
    await waitUntilReady(base, child);

    const lines = child.logLines() as { msg: string; emulatorUrl?: string }[];
    const sandboxLine = lines.find((l) => l.msg.startsWith('Sandbox mode'));
    expect(sandboxLine?.emulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.findIndex((l) => l.msg.startsWith('Sandbox mode'))).toBe(0);
    expect(lines.some((l) => l.msg.includes(`${base}/auth/x/login`))).toBe(true);
    // The emulator really runs in-process.
    expect((await fetch(`${sandboxLine?.emulatorUrl}/2/users/me`)).status).toBe(401);

    child.process.kill('SIGTERM');
    expect(await child.exit).toBe(0);
    expect(child.stdout()).toContain('"msg":"stopped"');
  });

  it('`xgate emulator` serves the X API with the registered clients', async () => {
    const dir = tempDir();
    const port = await freePort();
    const child = run(
      [
        'emulator',
        '--port',
        String(port),
        '--tier',
        'free',
        '--client',
        'app1:s3cret:http://127.0.0.1:9999/cb',
        '--client',
        'public1::http://127.0.0.1:9999/cb',
        '--state',
        join(dir, 'state.json'),
      ],
      {},
    );
    children.push(child.process);
    const base = `http://127.0.0.1:${port}`;
    const users = await waitFor(
      async () => {
        const answer = await fetch(`${base}/__admin/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice' }),
        });
        return answer.ok ? ((await answer.json()) as { username: string }) : undefined;
      },
      'the emulator',
      child,
    );
    expect(users.username).toBe('alice');
    child.process.kill('SIGTERM');
    expect(await child.exit).toBe(0);
  });

  it('rejects a malformed --client', async () => {
    const child = run(['emulator', '--client', 'only-an-id'], {});
    expect(await child.exit).not.toBe(0);
    expect(child.stderr()).toContain('ID:SECRET:REDIRECT_URI');
  });
});
