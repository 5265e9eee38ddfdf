import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenSealer } from '../src/accounts/index.ts';
import { createDatabase } from '../src/db/index.ts';
import { accountRow } from './fixtures/accounts.ts';
import { spawnXgate, stopChild, waitFor, waitUntilReady, type XgateProcess } from './helpers/cli.ts';
import { describeEachDialect, freePort, freePortWithNext, makeTempDir } from './helpers/index.ts';

const running: XgateProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((child) => stopChild(child.process, 'SIGKILL')));
});
function start(args: string[], env: Record<string, string>): XgateProcess {
  const child = spawnXgate(args, env);
  running.push(child);
  return child;
}

/** A start-up failure is one line on stderr: no stack trace, no JSON. */
function expectOneLine(child: XgateProcess): string {
  const lines = child.stderr().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^xgate: /);
  expect(child.stderr()).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describeEachDialect('start-up with another secret key', (ctx) => {
  it('refuses to start with one sentence, and `forget-tokens --yes` lets it start with the new key', async () => {
    const key = randomBytes(32).toString('base64');
    const env = {
      DATABASE_URL: ctx.databaseUrl,
      XGATE_DATA_DIR: ctx.dataDir,
      X_CLIENT_ID: 'startup-test',
      X_API_URL: 'http://127.0.0.1:9',
      PORT: String(await freePort()),
    };
    const first = start(['serve', '--no-worker'], { ...env, XGATE_SECRET_KEY: key });
    await waitUntilReady(`http://127.0.0.1:${env.PORT}`, first);
    // An account whose tokens are sealed with the first key.
    const handle = await createDatabase(ctx.databaseUrl);
    const now = Date.now();
    const row = accountRow({
      id: randomUUID(),
      userId: randomUUID(),
      xUserId: '42',
      username: 'keyed',
      now,
      tokens: {
        sealer: createTokenSealer(Buffer.from(key, 'base64')),
        accessToken: 'token',
        refreshToken: 'refresh',
        lastRefreshedAt: now,
        expiresAt: now + 3_600_000,
      },
    });
    try {
      await handle.db.insertInto('users').values({ id: row.user_id, created_at: now }).execute();
      await handle.db.insertInto('accounts').values(row).execute();
    } finally {
      await handle.destroy();
    }
    await stopChild(first.process);

    const other = randomBytes(32).toString('base64');
    const refused = start(['serve', '--no-worker'], { ...env, XGATE_SECRET_KEY: other });
    expect(await refused.exit).toBe(1);
    const line = expectOneLine(refused);
    expect(line).toMatch(/XGATE_SECRET_KEY is not the key this database was sealed with/);
    expect(line).toMatch(/xgate forget-tokens/);
    const worker = start(['worker'], { ...env, XGATE_SECRET_KEY: other });
    expect(await worker.exit).toBe(1);
    expectOneLine(worker);

    const dryRun = start(['forget-tokens'], { ...env, XGATE_SECRET_KEY: other });
    expect(await dryRun.exit).toBe(0);
    expect(dryRun.stdout()).toMatch(/--yes/);
    const forget = start(['forget-tokens', '--yes'], { ...env, XGATE_SECRET_KEY: other });
    expect(await forget.exit).toBe(0);
    expect(forget.stdout()).toMatch(/Erased the tokens of 1 account/);

    const again = start(['serve', '--no-worker'], { ...env, XGATE_SECRET_KEY: other });
    await waitUntilReady(`http://127.0.0.1:${env.PORT}`, again);
    const check = await createDatabase(ctx.databaseUrl);
    try {
      const account = await check.db
        .selectFrom('accounts')
        .select(['status', 'status_reason', 'access_token_sealed'])
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      expect(account).toMatchObject({ status: 'needs_reconnect', access_token_sealed: null });
      expect(account.status_reason).toMatch(/Reconnect the account/);
    } finally {
      await check.destroy();
    }
  });
});

describe('start-up failures are one line that says what to do', () => {
  it('a busy PORT names PORT; a busy emulator port names it too', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = makeTempDir('xgate-startup-');
      try {
        // The emulator on any free port, so PORT+1 (maybe taken by a test running beside this one) plays no part.
        const busy = start(['serve'], {
          XGATE_DATA_DIR: dir.path,
          PORT: String(port),
          XGATE_SANDBOX_EMULATOR_PORT: '0',
        });
        expect(await busy.exit).toBe(1);
        expect(expectOneLine(busy)).toMatch(new RegExp(`port ${port} \\(PORT\\).*already uses it`));

        const emulatorBusy = start(['serve'], {
          XGATE_DATA_DIR: dir.path,
          PORT: String(await freePort()),
          XGATE_SANDBOX_EMULATOR_PORT: String(port),
        });
        expect(await emulatorBusy.exit).toBe(1);
        expect(expectOneLine(emulatorBusy)).toMatch(
          new RegExp(`port ${port}, which the sandbox's X emulator uses`),
        );
      } finally {
        dir.remove();
      }
    } finally {
      blocker.close();
    }
  });

  it('an unreachable PostgreSQL names DATABASE_URL without its password', async () => {
    const dir = makeTempDir('xgate-startup-');
    try {
      const closedPort = await freePort();
      const child = start(['serve'], {
        XGATE_DATA_DIR: dir.path,
        PORT: String(await freePort()),
        DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${closedPort}/xgate`,
      });
      expect(await child.exit).toBe(1);
      const line = expectOneLine(child);
      expect(line).toMatch(/Cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/xgate \(DATABASE_URL\)/);
      expect(line).not.toContain('hunter2');
    } finally {
      dir.remove();
    }
  });
});

describe('sandbox exposure', () => {
  it('with HOST=0.0.0.0 the in-process emulator listens on loopback only, says so, and keeps its state 0600', async () => {
    const dir = makeTempDir('xgate-startup-');
    try {
      const port = await freePortWithNext();
      const child = start(['serve'], { XGATE_DATA_DIR: dir.path, PORT: String(port), HOST: '0.0.0.0' });
      await waitUntilReady(`http://127.0.0.1:${port}`, child);
      const sandbox = child.logLines().find((l) => l.msg.startsWith('Sandbox mode'));
      expect(sandbox?.emulatorUrl).toBe(`http://127.0.0.1:${port + 1}`);
      expect(child.logLines().some((l) => /listens on 127\.0\.0\.1 only/.test(l.msg))).toBe(true);
      // A user created through the control API makes the emulator write its state.
      await fetch(`http://127.0.0.1:${port + 1}/__admin/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'someone' }),
      });
      const statePath = join(dir.path, 'emulator-state.json');
      const mode = await waitFor(
        async () => {
          try {
            return statSync(statePath).mode & 0o777;
          } catch {
            return undefined;
          }
        },
        'the emulator state file',
        child,
      );
      expect(mode.toString(8)).toBe('600');
    } finally {
      dir.remove();
    }
  });
});

describe('npm start', () => {
  it('stops gracefully on SIGTERM: nothing keeps serving after npm exits', async () => {
    const dir = makeTempDir('xgate-startup-');
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: join(import.meta.dirname, '..'),
      env: {
        ...process.env,
        XGATE_DATA_DIR: dir.path,
        PORT: String(port),
        // The emulator on any free port: PORT+1 may be taken by a test running beside this one.
        XGATE_SANDBOX_EMULATOR_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    npm.stderr?.on('data', (chunk) => {
      out += chunk;
    });
    const exited = once(npm, 'exit');
    try {
      let ready = false;
      for (let i = 0; i < 300 && !ready && npm.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready, `npm start never became ready; its output:\n${out}`).toBe(true);
      npm.kill('SIGTERM');
      await exited;
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      expect(out).toContain('"msg":"stopped"');
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      dir.remove();
    }
  });
});
