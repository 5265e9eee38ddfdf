import type { Account } from '../accounts/index.ts';
import { escapeHtml } from '../http/html.ts';

/** The fields of an X account the landing page shows. */
export type HomeAccount = Pick<Account, 'username' | 'name' | 'status' | 'statusReason'>;

/** What the landing page needs: `accounts` is null when nobody is signed in. */
export interface HomeView {
  sandbox: boolean;
  /** The service's public base URL, for the curl example. */
  publicUrl: string;
  accounts: readonly HomeAccount[] | null;
}

/** The path the landing page's script is served at (same origin: the CSP allows `script-src 'self'` only). */
export const HOME_SCRIPT_PATH = '/assets/home.js';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
a.button,button{display:inline-block;padding:.5rem 1.1rem;border-radius:999px;border:0;background:#0f1419;color:#fff;
text-decoration:none;font:inherit;cursor:pointer}button.quiet{background:#eff3f4;color:#0f1419}
.note{background:#fff8e1;border-left:4px solid #f5a623;padding:.5rem .75rem}
ul.accounts{list-style:none;padding:0}ul.accounts li{border-bottom:1px solid #eee;padding:.5rem 0}
.status{font-size:.85em;padding:.05rem .5rem;border-radius:999px;background:#eff3f4}.status.active{background:#e3f6e8}
.reason{color:#555;margin:.25rem 0 0}pre{background:#f5f5f7;padding:.75rem;border-radius:6px;overflow:auto;
white-space:pre-wrap;word-break:break-all;user-select:all}input{font:inherit;padding:.35rem .5rem}
.error{color:#b00020}`;

function layout(body: string, withScript: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>xgate</title><style>${STYLE}</style>${withScript ? `<script type="module" src="${HOME_SCRIPT_PATH}"></script>` : ''}
</head><body>
<h1>xgate</h1>
${body}
</body></html>`;
}

function accountItem(account: HomeAccount): string {
  const active = account.status === 'active';
  const reason =
    !active && account.statusReason ? `<p class="reason">${escapeHtml(account.statusReason)}</p>` : '';
  const reconnect =
    account.status === 'needs_reconnect'
      ? `<p class="reason">To reconnect it, use "Connect another X account" and sign in at X as @${escapeHtml(account.username)}.</p>`
      : '';
  return `<li><strong>@${escapeHtml(account.username)}</strong> ${escapeHtml(account.name)}
<span class="status${active ? ' active' : ''}">${escapeHtml(account.status)}</span>${reason}${reconnect}</li>`;
}

function signedOut(view: HomeView): string {
  const sandbox = view.sandbox
    ? '<p class="note">Sandbox mode: signing in goes to the built-in X emulator, where you pick or create a test account. Nothing reaches the real X.</p>'
    : '';
  return `<p>Connect your X accounts and publish posts and threads through one HTTP API, now or scheduled.</p>
${sandbox}
<p><a class="button" href="/auth/x/login">Sign in with X</a></p>
<p>Or read the <a href="/docs">API docs</a>.</p>`;
}

function signedIn(view: HomeView, accounts: readonly HomeAccount[]): string {
  const sandbox = view.sandbox
    ? '<p class="note">Sandbox mode: these accounts live in the built-in X emulator, and everything you post goes there. Nothing reaches the real X.</p>'
    : '';
  const list =
    accounts.length === 0
      ? '<p>No X account is connected.</p>'
      : `<ul class="accounts">${accounts.map(accountItem).join('\n')}</ul>`;
  return `${sandbox}
<h2>Your X accounts</h2>
${list}
<p><a class="button" href="/auth/x/login?connect=1">Connect another X account</a></p>
<h2>Use the API</h2>
<p>Call the API with an API key (<code>Authorization: Bearer &lt;key&gt;</code>). Every route is in the
<a href="/docs">API docs</a>.</p>
<form id="create-key"><label>Key name <input name="name" value="my key" required maxlength="100"></label>
<button type="submit">Create an API key</button></form>
<div id="new-key" data-me-url="${escapeHtml(`${view.publicUrl}/api/v1/me`)}" hidden>
<p><strong>Your new API key.</strong> Copy it now: it won't be shown again (xgate keeps only its hash).</p>
<pre data-key></pre>
<p>Try it:</p>
<pre data-curl></pre>
</div>
<p id="home-error" class="error" role="alert" hidden></p>
<noscript><p class="error">Creating an API key and signing out need JavaScript.</p></noscript>
<p><button id="sign-out" class="quiet" type="button">Sign out</button></p>`;
}

/**
 * The landing page at `/`: signed out, what xgate is and "Sign in with X"; signed in, the user's X accounts,
 * a way to connect another, to create an API key and to sign out (the latter two through `HOME_SCRIPT_PATH`).
 * Every value that comes from a user or X is escaped.
 */
export function renderHomePage(view: HomeView): string {
  return view.accounts === null
    ? layout(signedOut(view), false)
    : layout(signedIn(view, view.accounts), true);
}
