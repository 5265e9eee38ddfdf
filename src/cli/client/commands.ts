import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { ApiClient, ApiError } from './api.ts';
import { completionScript, SHELLS } from './completion.ts';
import { forgetLogin, loadCredentials, saveLogin } from './config.ts';
import { CliError, EXIT, usageError } from './errors.ts';
import { importCsv } from './import-csv.ts';
import { createOutput, formatTimes, type Output } from './output.ts';
import {
  type Account,
  type DraftItem,
  FINAL_STATUSES,
  newIdempotencyKey,
  type Post,
  parseThread,
  requireActive,
  resolveAccount,
  threadBaseDir,
  uploadMedia,
} from './posting.ts';
import { parseWhen, TIME_FORMS } from './time.ts';

interface GlobalOptions {
  json?: boolean;
}

/** The client and the printer of one command. */
function context(command: Command): { api: ApiClient; out: Output } {
  const options = command.optsWithGlobals<GlobalOptions>();
  return { api: new ApiClient(loadCredentials()), out: createOutput({ json: options.json === true }) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Opens `url` in a browser when a person is at a terminal; never in scripts, CI or without a display. */
function openBrowser(url: string): void {
  if (!process.stdout.isTTY || process.env.CI || (process.platform === 'linux' && !process.env.DISPLAY))
    return;
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    spawn(opener, [url], { detached: true, stdio: 'ignore' })
      .on('error', () => {})
      .unref();
  } catch {
    // printing the URL is enough
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Prints a post the way a person wants it after posting: links when published, the time when scheduled. */
function reportPost(out: Output, post: Post, understood?: { input: string; at: number }): void {
  out.data(post);
  if (understood) {
    const times = formatTimes(understood.at);
    out.line(out.dim(`"${understood.input}" read as ${times.utc} (${times.local})`));
  }
  if (post.status === 'published') {
    for (const item of post.items) out.line(item.url ?? item.tweetId ?? '');
  } else if (post.status === 'scheduled') {
    const times = formatTimes(post.scheduledAt);
    out.line(`Scheduled ${out.bold(post.id)} for ${times.utc} (${times.local})`);
  } else if (post.status === 'publishing') {
    out.line(`Still publishing: ${post.id} (see \`xgate show ${post.id}\`)`);
  } else {
    out.line(`${out.red(post.status)}: ${post.id}${post.error ? ` — ${post.error.message}` : ''}`);
  }
}

function failIfUnsuccessful(post: Post): void {
  if (post.status === 'failed' || post.status === 'needs_review') {
    throw new CliError(
      `post ${post.id} ended ${post.status.replace('_', ' ')}: ${post.error?.message ?? 'see `xgate show`'}`,
      EXIT.failed,
      post.error?.code,
    );
  }
}

/** Creates a post from drafts (uploading their files), now or at `--at`, and reports it. */
async function publish(
  { api, out }: { api: ApiClient; out: Output },
  items: DraftItem[],
  options: { account?: string; at?: string; wait?: boolean; idempotencyKey?: string },
): Promise<void> {
  if (items.length === 0) throw usageError('nothing to post: give the text (or - to read it from stdin)');
  const at = options.at === undefined ? null : parseWhen(options.at);
  const account = await resolveAccount(api, options.account);
  requireActive(account);
  const key = options.idempotencyKey ?? newIdempotencyKey();
  const files = items.flatMap((item) => item.media);
  const bar = out.progress('Uploading', files.length);
  let uploaded = 0;
  const body = {
    accountId: account.id,
    items: [] as Array<{ text: string; mediaIds: string[] }>,
    ...(at && { scheduledAt: at.getTime() }),
  };
  for (const item of items) {
    const mediaIds: string[] = [];
    for (const file of item.media) {
      mediaIds.push(await uploadMedia(api, file, `${key}-media-${uploaded++}`));
      bar.tick();
    }
    body.items.push({ text: item.text, mediaIds });
  }
  if (files.length > 0) bar.done();
  // Posting now: the answer waits (≤ 60 s) for the tweets, so their links can be printed.
  let post = await api.request<Post>('POST', `/api/v1/posts${at ? '' : '?wait=60'}`, {
    body,
    idempotencyKey: key,
  });
  if (options.wait) {
    while (!FINAL_STATUSES.has(post.status)) {
      await sleep(2000);
      post = await api.request<Post>('GET', `/api/v1/posts/${post.id}`);
    }
  }
  reportPost(out, post, at && options.at ? { input: options.at, at: at.getTime() } : undefined);
  failIfUnsuccessful(post);
}

function postingOptions(command: Command): Command {
  return command
    .option('--account <account>', '@username or account id (default: your only active account)')
    .option('--at <time>', `when to publish (default: now); ${TIME_FORMS}`)
    .option('--wait', 'wait until a scheduled post is published, failed or needs review')
    .option('--idempotency-key <key>', 'the same key never posts twice (retries reuse one by themselves)');
}

/** `--help` examples of the commands that do not show their own. */
const EXAMPLES: Record<string, string[]> = {
  logout: ['xgate logout'],
  accounts: ['xgate accounts', 'xgate accounts --verify --json'],
  connect: ['xgate connect'],
  queue: ['xgate queue', 'xgate queue --account @acme --json'],
  show: ['xgate show <post id>', 'xgate show <post id> --json'],
  cancel: ['xgate cancel <post id>'],
  delete: ['xgate delete <post id>'],
  retry: ['xgate retry <post id>'],
  events: [
    'xgate events',
    'xgate events --follow --type post.published,post.failed',
    'xgate events --follow --json',
  ],
  import: ['xgate import posts.csv', 'xgate import posts.csv --skip-invalid --json'],
  keys: ['xgate keys create "deploy script"', 'xgate keys list', 'xgate keys revoke <key id>'],
  completion: ['eval "$(xgate completion bash)"', 'xgate completion fish | source'],
};

export function registerClientCommands(program: Command): void {
  program.option('--json', 'print JSON (stable field names) instead of text');

  program
    .command('login')
    .description(
      'Connect this command line to an xgate server: approve a code in the browser, get a key of its own.',
    )
    .option('--url <url>', 'the xgate server (default: XGATE_URL, the saved one, or http://127.0.0.1:8080)')
    .option('--with-key', 'read an API key from stdin instead of approving in the browser')
    .option('--name <name>', 'the name of this machine, shown when approving', hostname())
    .addHelpText(
      'after',
      '\nExamples:\n  xgate login --url https://xgate.example.com\n  echo "$KEY" | xgate login --with-key --url https://xgate.example.com',
    )
    .action(async (options: { url?: string; withKey?: boolean; name: string }, command: Command) => {
      const { out } = context(command);
      const current = loadCredentials();
      const url = (options.url ?? current.url).replace(/\/+$/, '');
      let login: { apiKey: string; apiKeyId?: string; userId: string };
      if (options.withKey) {
        const apiKey = (await readStdin()).trim();
        if (apiKey === '') throw usageError('--with-key reads the key from stdin, which was empty');
        const me = await new ApiClient({ url, apiKey, apiKeyId: null, source: 'file' }).request<{
          id: string;
        }>('GET', '/api/v1/me');
        login = { apiKey, userId: me.id };
      } else {
        const anonymous = new ApiClient({ url, apiKey: null, apiKeyId: null, source: 'none' });
        const started = await anonymous.request<{
          deviceCode: string;
          userCode: string;
          verificationUrl: string;
          expiresAt: number;
          interval: number;
        }>('POST', '/api/v1/cli/logins', { body: { name: options.name }, auth: false });
        // The code and the URL go to stderr, so `--json` output stays one document.
        process.stderr.write(
          `Your one-time code: ${started.userCode}\nOpen ${started.verificationUrl} , sign in with X and approve the code.\nWaiting for approval…\n`,
        );
        openBrowser(started.verificationUrl);
        for (;;) {
          await sleep(started.interval * 1000);
          const answer = await anonymous.request<{
            status: string;
            apiKey?: string;
            apiKeyId?: string;
            userId?: string;
          }>('POST', '/api/v1/cli/logins/token', { body: { deviceCode: started.deviceCode }, auth: false });
          if (answer.status === 'approved' && answer.apiKey && answer.userId) {
            login = {
              apiKey: answer.apiKey,
              userId: answer.userId,
              ...(answer.apiKeyId && { apiKeyId: answer.apiKeyId }),
            };
            break;
          }
        }
      }
      const file = saveLogin({
        url,
        apiKey: login.apiKey,
        ...(login.apiKeyId && { apiKeyId: login.apiKeyId }),
      });
      out.data({ url, userId: login.userId, apiKeyId: login.apiKeyId ?? null, configFile: file });
      out.line(`Logged in to ${url}. The key is saved in ${file} (readable only by you).`);
    });

  program
    .command('logout')
    .description('Revoke this machine’s key at the server and forget it.')
    .action(async (_options: unknown, command: Command) => {
      const { api, out } = context(command);
      const { apiKeyId, source } = api.credentials;
      if (source === 'none') throw new CliError('not logged in', EXIT.auth, 'unauthorized');
      if (apiKeyId) {
        await api.request('DELETE', `/api/v1/api-keys/${apiKeyId}`).catch((error: unknown) => {
          if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 401)) throw error;
        });
      }
      forgetLogin();
      out.data({ loggedOut: true, revoked: apiKeyId !== null });
      out.line(
        apiKeyId
          ? 'Logged out; the key was revoked.'
          : 'Logged out (the key came from XGATE_API_KEY, which was not revoked).',
      );
    });

  program
    .command('accounts')
    .description('Your X accounts, with their status.')
    .option('--verify', 'test each account’s connection at X (refreshing tokens when needed)')
    .action(async (options: { verify?: boolean }, command: Command) => {
      const { api, out } = context(command);
      let accounts = await api.request<Account[]>('GET', '/api/v1/accounts');
      if (options.verify) {
        accounts = await Promise.all(
          accounts.map((a) =>
            a.status === 'disconnected'
              ? a
              : api.request<Account>('POST', `/api/v1/accounts/${a.id}/verify`).catch((error: unknown) => {
                  if (error instanceof ApiError && error.code !== 'unauthorized')
                    return { ...a, status: 'needs_reconnect' as const, statusReason: error.message };
                  throw error;
                }),
          ),
        );
      }
      out.data(accounts);
      if (accounts.length === 0) out.line('No X accounts yet: run `xgate connect`.');
      else
        out.table(
          accounts.map((a) => ({
            id: a.id,
            account: `@${a.username}`,
            name: a.name,
            status: a.status === 'active' ? out.green(a.status) : out.yellow(a.status),
            reason: a.statusReason ?? '',
          })),
          ['id', 'account', 'name', 'status', 'reason'],
        );
      if (accounts.some((a) => a.status === 'needs_reconnect')) out.line('Reconnect with `xgate connect`.');
    });

  program
    .command('connect')
    .description('Open (or print) the page that connects another X account, or reconnects one.')
    .action(async (_options: unknown, command: Command) => {
      const { api, out } = context(command);
      const url = `${api.url}/auth/x/login?connect=1`;
      out.data({ url });
      out.line(`Open ${url} , sign in to xgate if asked, then authorize the X account to connect.`);
      openBrowser(url);
    });

  postingOptions(
    program
      .command('post')
      .description('Publish a post now, or schedule it. Prints the tweet link, or the post id and UTC time.')
      .argument('[text]', 'the text; - reads it from stdin')
      .option('--media <file>', 'attach an image, GIF or video (repeatable)', collect)
      .option('--alt <text>', 'alt text of the --media at the same position (repeatable)', collect),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  xgate post "Hello from xgate"\n  xgate post "Launch day" --at "tomorrow 09:00" --account @acme\n  xgate post "Chart" --media chart.png --alt "Sales by month, rising"\n  echo "From a pipe" | xgate post -',
    )
    .action(
      async (
        text: string | undefined,
        options: {
          media?: string[];
          alt?: string[];
          account?: string;
          at?: string;
          wait?: boolean;
          idempotencyKey?: string;
        },
        command: Command,
      ) => {
        const body = text === '-' ? (await readStdin()).trim() : (text ?? '');
        const media = (options.media ?? []).map((path, i) => ({
          path,
          ...(options.alt?.[i] && { alt: options.alt[i] }),
        }));
        if (body === '' && media.length === 0)
          throw usageError('missing text: xgate post "…" (or - to read it from stdin)');
        await publish(context(command), [{ text: body, media }], options);
      },
    );

  postingOptions(
    program
      .command('thread')
      .description(
        'Publish a thread from a file: items separated by a line "---"; ![alt](path) attaches a file.',
      )
      .argument('<file>', 'the thread file; - reads stdin')
      .option('--split', 'the file is one long text: cut it into tweets at sentence and word boundaries'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  xgate thread launch.md --at "mon 8am"\n  cat essay.txt | xgate thread - --split',
    )
    .action(
      async (
        file: string,
        options: { split?: boolean; account?: string; at?: string; wait?: boolean; idempotencyKey?: string },
        command: Command,
      ) => {
        const source = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
        let items = parseThread(source, threadBaseDir(file));
        const { api, out } = context(command);
        if (options.split) {
          const split = await api.request<{ items: Array<{ text: string }> }>(
            'POST',
            '/api/v1/threads/split',
            {
              body: { text: items.map((i) => i.text).join('\n\n') },
            },
          );
          const media = items.flatMap((i) => i.media);
          items = split.items.map((i, index) => ({ text: i.text, media: index === 0 ? media : [] }));
        }
        await publish({ api, out }, items, options);
      },
    );

  program
    .command('queue')
    .description('Scheduled posts, soonest first.')
    .option('--account <account>', 'only this account')
    .action(async (options: { account?: string }, command: Command) => {
      const { api, out } = context(command);
      const accounts = await api.request<Account[]>('GET', '/api/v1/accounts');
      const only = options.account ? await resolveAccount(api, options.account) : null;
      const posts: Post[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({
          status: 'scheduled',
          limit: '100',
          ...(only && { accountId: only.id }),
          ...(cursor && { cursor }),
        });
        const page: { items: Post[]; nextCursor: string | null } = await api.request(
          'GET',
          `/api/v1/posts?${query}`,
        );
        posts.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      posts.sort((a, b) => a.scheduledAt - b.scheduledAt);
      out.data(posts);
      if (posts.length === 0) {
        out.line('No scheduled posts. Schedule one: xgate post "…" --at "tomorrow 09:00"');
        return;
      }
      const names = new Map(accounts.map((a) => [a.id, `@${a.username}`]));
      out.table(
        posts.map((p) => {
          const times = formatTimes(p.scheduledAt);
          const first = p.items[0]?.text.replace(/\s+/g, ' ') ?? '';
          return {
            id: p.id,
            account: names.get(p.accountId) ?? p.accountId,
            'utc time': times.utc,
            'local time': times.local,
            text: `${first.length > 50 ? `${first.slice(0, 49)}…` : first}${p.items.length > 1 ? ` (+${p.items.length - 1})` : ''}`,
          };
        }),
        ['id', 'account', 'utc time', 'local time', 'text'],
      );
    });

  program
    .command('show')
    .description('One post: status, time, and each tweet.')
    .argument('<id>', 'the post id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, out } = context(command);
      const post = await api.request<Post>('GET', `/api/v1/posts/${encodeURIComponent(id)}`);
      out.data(post);
      const times = formatTimes(post.publishedAt ?? post.scheduledAt);
      out.line(
        `${out.bold(post.id)}  ${post.status}  ${post.publishedAt ? 'published' : 'scheduled'} ${times.utc} (${times.local})`,
      );
      if (post.error) out.line(out.red(post.error.message));
      for (const item of post.items) {
        out.line(
          `  ${item.position + 1}. ${item.text.replace(/\s+/g, ' ').slice(0, 80)}${item.url ? `\n     ${item.url}` : ''}`,
        );
      }
    });

  for (const [name, description, run] of [
    [
      'cancel',
      'Cancel a scheduled post.',
      async (api: ApiClient, id: string) => {
        const post = await api.request<Post>('GET', `/api/v1/posts/${encodeURIComponent(id)}`);
        if (post.status !== 'scheduled')
          throw new CliError(
            `post ${id} is ${post.status}, not scheduled: nothing to cancel`,
            EXIT.failed,
            'post_not_editable',
          );
        await api.request('DELETE', `/api/v1/posts/${encodeURIComponent(id)}`);
        return `Canceled ${id}.`;
      },
    ],
    [
      'delete',
      'Delete a published post from X (all its tweets), or cancel a scheduled one.',
      async (api: ApiClient, id: string) => {
        await api.request('DELETE', `/api/v1/posts/${encodeURIComponent(id)}`);
        return `Deleted ${id}.`;
      },
    ],
    [
      'retry',
      'Try a failed or needs-review post again.',
      async (api: ApiClient, id: string) => {
        const post = await api.request<Post>('POST', `/api/v1/posts/${encodeURIComponent(id)}/retry`, {
          idempotencyKey: newIdempotencyKey(),
        });
        return `Retrying ${id}: ${post.status}.`;
      },
    ],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument('<id>', 'the post id')
      .action(async (id: string, _options: unknown, command: Command) => {
        const { api, out } = context(command);
        const message = await run(api, id);
        out.data({ id, done: name });
        out.line(message);
      });
  }

  program
    .command('events')
    .description(
      'Your events (published, failed, needs review, reconnect…); --follow prints new ones as they happen.',
    )
    .option('--follow', 'keep printing new events (Ctrl-C stops)')
    .option('--type <types>', 'only these types, comma-separated (e.g. post.published,post.failed)')
    .option('--limit <n>', 'without --follow: the latest n events', '20')
    .action(async (options: { follow?: boolean; type?: string; limit: string }, command: Command) => {
      const { api, out } = context(command);
      type Event = { id: string; type: string; at: number; data: Record<string, unknown> };
      const read = (after: string | null, wait: number) =>
        api.request<{ items: Event[]; nextCursor: string | null }>(
          'GET',
          `/api/v1/events?${new URLSearchParams({ limit: '500', ...(after && { after }), ...(options.type && { types: options.type }), ...(wait > 0 && { wait: String(wait) }) })}`,
          { timeoutMs: (wait + 30) * 1000 },
        );
      const print = (event: Event) => {
        if (options.follow && out.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        const links = Array.isArray(event.data.items)
          ? (event.data.items as Array<{ url?: string }>).map((i) => i.url).join(' ')
          : '';
        const subject =
          event.data.postId ??
          (event.data.username ? `@${event.data.username}` : (event.data.webhookId ?? ''));
        const extra =
          (event.data.reason as string | undefined) ??
          (event.data.error as { message?: string } | undefined)?.message ??
          links;
        out.line(
          `${formatTimes(event.at).utc}  ${event.type.padEnd(24)} ${String(subject)}${extra ? `  ${extra}` : ''}`,
        );
      };
      // Read to the end of the log first.
      const history: Event[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page = await read(cursor, 0);
        history.push(...page.items);
        cursor = page.nextCursor;
        if (page.items.length < 500) break;
      }
      const limit = Math.max(0, Number(options.limit) || 0);
      const latest = limit === 0 ? [] : history.slice(-limit);
      if (!options.follow) {
        out.data(latest);
        if (latest.length === 0) out.line('No events yet.');
        for (const event of latest) print(event);
        return;
      }
      for (const event of latest) print(event);
      for (;;) {
        const page = await read(cursor, 30);
        for (const event of page.items) print(event);
        cursor = page.nextCursor;
      }
    });

  program
    .command('import')
    .description(
      'Schedule many posts from a CSV file (columns: account, time, text, media, alt), all or nothing.',
    )
    .argument('<file>', 'the CSV file')
    .option('--skip-invalid', 'import the good rows and report the bad ones')
    .addHelpText(
      'after',
      `\nColumns: account (@name or id), time (${TIME_FORMS}; empty = the account's next free slot), text, media (file paths separated by |), alt (alt texts separated by |).\nRe-running the same file within 24 hours creates nothing twice.`,
    )
    .action(async (file: string, options: { skipInvalid?: boolean }, command: Command) => {
      const { api, out } = context(command);
      await importCsv(api, out, file, { skipInvalid: options.skipInvalid === true });
    });

  const keys = program.command('keys').description('Your API keys: create, list, revoke.');
  keys
    .command('create')
    .description('Create an API key (shown once).')
    .argument('<name>', 'what it is for')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { api, out } = context(command);
      const key = await api.request<{ id: string; key: string }>('POST', '/api/v1/api-keys', {
        body: { name },
        idempotencyKey: newIdempotencyKey(),
      });
      out.data(key);
      out.line(key.key);
      out.line(out.dim(`(id ${key.id}; shown once — store it now)`));
    });
  keys
    .command('list')
    .description('Your active API keys (never the secrets).')
    .action(async (_options: unknown, command: Command) => {
      const { api, out } = context(command);
      const list = await api.request<
        Array<{ id: string; name: string; prefix: string; createdAt: number; lastUsedAt: number | null }>
      >('GET', '/api/v1/api-keys');
      out.data(list);
      out.table(
        list.map((k) => ({
          id: k.id,
          name: k.name,
          prefix: `${k.prefix}…`,
          'last used': k.lastUsedAt ? formatTimes(k.lastUsedAt).utc : 'never',
        })),
        ['id', 'name', 'prefix', 'last used'],
      );
    });
  keys
    .command('revoke')
    .description('Revoke an API key: it gets 401 from now on.')
    .argument('<id>', 'the key id (xgate keys list)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, out } = context(command);
      await api.request('DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`);
      out.data({ id, revoked: true });
      out.line(`Revoked ${id}.`);
    });

  program
    .command('completion')
    .description('Print a shell completion script: eval "$(xgate completion bash)".')
    .argument('<shell>', SHELLS.join(', '))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell))
        throw usageError(`unknown shell "${shell}": ${SHELLS.join(', ')}`);
      process.stdout.write(completionScript(shell as (typeof SHELLS)[number], program));
    });

  for (const command of program.commands) {
    const examples = EXAMPLES[command.name()];
    if (examples) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
  }
}
