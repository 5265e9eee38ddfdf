import type { ChildProcess } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWhen } from '../src/cli/client/time.ts';
import { png } from './fixtures/media.ts';
import {
  runXgate,
  spawnXgate,
  stopChild,
  waitFor,
  waitUntilReady,
  type XgateProcess,
} from './helpers/cli.ts';
import { createHttpClient, freePort, makeTempDir } from './helpers/index.ts';
import { authorizeAtEmulator, visitCallback } from './helpers/x-signin.ts';

const ESC = '\u001b';

describe('friendly times for --at', () => {
  // Monday 2026-11-30 10:15 local time.
  const now = new Date(2026, 10, 30, 10, 15);
  const local = (d: number, h: number, m = 0) => new Date(2026, 10, d, h, m).getTime();
  it('reads ISO 8601, relative, day words, weekdays and times alone, in the local zone', () => {
    expect(parseWhen('in 2h', now).getTime()).toBe(now.getTime() + 2 * 3_600_000);
    expect(parseWhen('+30m', now).getTime()).toBe(now.getTime() + 30 * 60_000);
    expect(parseWhen('tomorrow 09:00', now).getTime()).toBe(new Date(2026, 11, 1, 9, 0).getTime());
    expect(parseWhen('tomorrow', now).getTime()).toBe(new Date(2026, 11, 1, 9, 0).getTime());
    expect(parseWhen('today 6:30pm', now).getTime()).toBe(local(30, 18, 30));
    expect(parseWhen('mon 8am', now).getTime()).toBe(new Date(2026, 11, 7, 8, 0).getTime());
    expect(parseWhen('monday 11:00', now).getTime()).toBe(local(30, 11));
    expect(parseWhen('fri 14:15', now).getTime()).toBe(new Date(2026, 11, 4, 14, 15).getTime());
    expect(parseWhen('9am', now).getTime()).toBe(new Date(2026, 11, 1, 9, 0).getTime());
    expect(parseWhen('21:30', now).getTime()).toBe(local(30, 21, 30));
    expect(parseWhen('2026-12-24T08:00Z', now).toISOString()).toBe('2026-12-24T08:00:00.000Z');
    expect(parseWhen('2026-12-24', now).getTime()).toBe(new Date(2026, 11, 24).getTime());
    for (const bad of ['someday', 'tomorrow at noonish', 'in 2 fortnights', '25:00', 'monkey 9am', '13pm']) {
      expect(() => parseWhen(bad, now), bad).toThrow(/cannot read the time/);
    }
  });
});

describe('the command line against a real `xgate serve` (sandbox)', () => {
  const temp = makeTempDir('xgate-cli-');
  let server: XgateProcess;
  let url: string;
  const config = join(temp.path, 'config');
  const env = () => ({ XDG_CONFIG_HOME: config, TZ: 'Europe/Paris' });
  const xgate = (args: string[], input = '', extra: Record<string, string> = {}) =>
    runXgate(args, { ...env(), ...extra }, input);
  const outputs: string[] = [];
  const json = async (args: string[], input = '') => {
    const run = await xgate([...args, '--json'], input);
    outputs.push(run.stdout);
    if (run.code !== 0) throw new Error(`xgate ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  };
  const following: ChildProcess[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawnXgate(['serve'], {
      PORT: String(port),
      XGATE_SANDBOX_EMULATOR_PORT: '0',
      XGATE_DATA_DIR: join(temp.path, 'data'),
      LOG_LEVEL: 'warn',
    });
    await waitUntilReady(url, server);
  });
  afterAll(async () => {
    for (const child of following) child.kill('SIGKILL');
    await stopChild(server.process);
    temp.remove();
  });

  it('without a login: exit 4 and the command that fixes it', async () => {
    const run = await xgate(['queue']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('run `xgate login`');
  });

  it('logs in through the code flow (approved in the browser after signing in with X)', async () => {
    const login = spawnXgate(['login', '--url', url, '--name', 'ci-runner'], env());
    const verification = await waitFor(
      async () => /Open (\S+)/.exec(login.stderr())?.[1],
      'the verification URL',
      login,
    );
    const code = /code: ([A-Z]{4}-[A-Z]{4})/.exec(login.stderr())?.[1];
    expect(verification).toBe(`${url}/cli/approve?code=${code}`);

    const browser = createHttpClient(url, { csrf: false });
    const first = await browser.get(new URL(verification).pathname + new URL(verification).search);
    expect(first.status).toBe(302);
    const callback = await authorizeAtEmulator(browser, {
      username: 'cli_user',
      loginPath: first.headers.get('location')!,
    });
    const signedIn = await visitCallback(browser, callback);
    expect(signedIn.headers.get('location')).toBe(`/cli/approve?code=${code}`);
    const page = await browser.get(`/cli/approve?code=${code}`);
    expect(page.text).toContain('ci-runner');
    expect(page.text).toContain(code);

    // A form from another site approves nothing.
    const forged = await browser.request('POST', '/cli/approve', {
      body: new URLSearchParams({ code: code!, decision: 'approve' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    });
    expect(forged.status).toBe(403);
    const approved = await browser.request('POST', '/cli/approve', {
      body: new URLSearchParams({ code: code!, decision: 'approve' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    });
    expect(approved.text).toContain('go back to your terminal');

    expect(await login.exit).toBe(0);
    expect(login.stdout()).toContain(`Logged in to ${url}`);
    expect(statSync(join(config, 'xgate', 'config.json')).mode & 0o777).toBe(0o600);
    // The same approval cannot be used twice.
    const again = await browser.request('POST', '/cli/approve', {
      body: new URLSearchParams({ code: code!, decision: 'approve' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    });
    expect(again.status).toBe(404);
  }, 60_000);

  it('lists accounts, posts now (prints the link), and a thread with an image from a file', async () => {
    const accounts = await json(['accounts']);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ username: 'cli_user', status: 'active' });

    const now = await xgate(['post', 'Hello from the command line']);
    expect(now.code).toBe(0);
    expect(now.stdout.trim()).toMatch(/^https:\/\/x\.com\/cli_user\/status\/\d+$/);

    writeFileSync(join(temp.path, 'chart.png'), png());
    writeFileSync(
      join(temp.path, 'thread.md'),
      'First, the news.\n![A chart, rising](chart.png)\n---\nSecond, the details.\n---\nThird, thanks.\n',
    );
    const thread = await json(['thread', join(temp.path, 'thread.md')]);
    expect(thread.status).toBe('published');
    expect(thread.items).toHaveLength(3);
    expect(thread.items[0].mediaIds).toHaveLength(1);
    expect(
      thread.items.every((i: { url: string }) => /^https:\/\/x\.com\/cli_user\/status\/\d+$/.test(i.url)),
    ).toBe(true);

    const piped = await xgate(['post', '-'], 'Text from a pipe\n');
    expect(piped.code).toBe(0);
  }, 60_000);

  it('schedules with a friendly time (echoing the UTC time it understood), queues, cancels', async () => {
    const scheduled = await xgate(['post', 'Later', '--at', 'tomorrow 09:00']);
    expect(scheduled.code).toBe(0);
    // "Tomorrow" is the CLI's (TZ=Europe/Paris): the day after today there, whatever this process's zone (between
    // 23:00 and 24:00 UTC they differ). 09:00 in Paris falls on the same date in UTC.
    const parisToday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
    const tomorrow = new Date(Date.parse(`${parisToday}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(scheduled.stdout).toContain(`read as ${tomorrow}`);
    expect(scheduled.stdout).toMatch(/Scheduled \S+ for \d{4}-\d{2}-\d{2} \d{2}:\d{2}:00 UTC/);
    const id = /Scheduled (\S+)/.exec(scheduled.stdout)?.[1];

    const queue = await json(['queue']);
    expect(queue.map((p: { id: string }) => p.id)).toEqual([id]);
    const text = await xgate(['queue']);
    expect(text.stdout).toContain(id);

    expect((await xgate(['cancel', id!])).code).toBe(0);
    expect(await json(['queue'])).toEqual([]);
    const twice = await xgate(['cancel', id!]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('canceled');
  }, 60_000);

  it('events --follow prints a publish as it happens', async () => {
    const follow = spawnXgate(
      ['events', '--follow', '--type', 'post.published', '--limit', '0', '--json'],
      env(),
    );
    following.push(follow.process);
    const lines = () => follow.stdout();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const posted = await json(['post', 'Followed']);
    for (let i = 0; i < 100 && !lines().includes(posted.id); i++)
      await new Promise((r) => setTimeout(r, 100));
    const event = lines()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((e) => e.data?.postId === posted.id);
    expect(event).toMatchObject({ type: 'post.published', data: { status: 'published' } });
    follow.process.kill('SIGINT');
  }, 60_000);

  it('imports a CSV: every bad row reported by line, nothing imported; --skip-invalid imports the rest; again creates nothing', async () => {
    writeFileSync(
      join(temp.path, 'posts.csv'),
      [
        'account,time,text,media,alt',
        '@cli_user,in 3h,First imported post,,',
        '@nobody,in 4h,Wrong account,,',
        '@cli_user,someday,Bad time,,',
        `@cli_user,in 5h,"With a chart",chart.png,A chart`,
        `@cli_user,in 6h,${'x'.repeat(300)},,`,
      ].join('\n'),
    );
    const file = join(temp.path, 'posts.csv');
    const refused = await xgate(['import', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 3: no account @nobody here');
    expect(refused.stderr).toContain('line 4: cannot read the time "someday"');
    expect(refused.stderr).not.toContain('line 2');
    expect(await json(['queue'])).toEqual([]);

    const imported = await json(['import', file, '--skip-invalid']);
    expect(imported.imported).toHaveLength(2);
    expect(imported.skipped.map((s: { line: number }) => s.line)).toEqual([3, 4, 6]);
    expect((await json(['queue'])).length).toBe(2);

    const again = await json(['import', file, '--skip-invalid']);
    expect(again).toMatchObject({ imported: [], alreadyImported: true });
    expect((await json(['queue'])).length).toBe(2);
  }, 60_000);

  it('usage errors exit 2, failures exit 1, and non-TTY output has no escape codes', async () => {
    expect((await xgate(['post', 'x', '--at', 'someday'])).code).toBe(2);
    expect((await xgate(['post'])).code).toBe(2);
    expect((await xgate(['frobnicate'])).code).toBe(2);
    expect((await xgate(['post', 'x', '--frob'])).code).toBe(2);
    // Over 1,000 characters: measured in the server's text worker thread (from dist/ when it is built).
    const tooLong = await xgate(['post', 'y. '.repeat(600), '--json']);
    expect(tooLong.code).toBe(1);
    expect(JSON.parse(tooLong.stdout)).toMatchObject({ error: { code: 'text_too_long' } });
    for (const command of [
      'post',
      'thread',
      'login',
      'logout',
      'accounts',
      'connect',
      'queue',
      'show',
      'cancel',
      'retry',
      'delete',
      'events',
      'import',
      'keys',
      'completion',
    ]) {
      const help = await xgate([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain('Examples:');
    }
    expect((await xgate(['--help'])).stdout).toContain('XGATE_API_KEY');
    expect((await xgate(['completion', 'bash'])).stdout).toContain('complete -F _xgate xgate');
    for (const out of outputs) expect(out.includes(ESC)).toBe(false);
    expect((await xgate(['accounts'])).stdout.includes(ESC)).toBe(false);
  }, 60_000);

  it('keys: create, list, revoke; logout revokes the CLI’s own key, and then exit 4', async () => {
    const made = await json(['keys', 'create', 'deploy']);
    expect(made.key).toMatch(/^xg_/);
    const list = await json(['keys', 'list']);
    expect(list.map((k: { name: string }) => k.name)).toContain('deploy');
    expect((await xgate(['keys', 'revoke', made.id])).code).toBe(0);
    const withRevoked = await xgate(['queue'], '', { XGATE_URL: url, XGATE_API_KEY: made.key });
    expect(withRevoked.code).toBe(4);
    expect(withRevoked.stderr).toContain('refused the API key');

    expect((await xgate(['logout'])).code).toBe(0);
    expect((await xgate(['queue'])).code).toBe(4);
  }, 60_000);
});
