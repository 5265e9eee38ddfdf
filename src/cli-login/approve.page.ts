import { escapeHtml } from '../http/html.ts';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e7e9ea;background:#15202b}.code{background:#273340!important}}
.code{font:600 1.6rem ui-monospace,monospace;letter-spacing:.15em;background:#eff3f4;padding:.5rem 1rem;border-radius:8px;display:inline-block}
button{font:inherit;padding:.55rem 1.2rem;border-radius:999px;border:0;cursor:pointer;margin-right:.5rem}
button.approve{background:#0f1419;color:#fff}button.deny{background:#eff3f4;color:#0f1419}`;

function page(title: string, body: string, code?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${code ? `<meta name="xgate-cli-login" content="${escapeHtml(code)}">` : ''}<title>${escapeHtml(title)}</title><style>${STYLE}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** Asks the signed-in person to approve `xgate login` on a machine, showing the code the terminal shows. */
export function approvePage(login: { userCode: string; name: string }): string {
  return page(
    'Approve the xgate command line?',
    `<p>A terminal on <strong>${escapeHtml(login.name)}</strong> asks to use xgate as you. It shows this code:</p>
<p class="code">${escapeHtml(login.userCode)}</p>
<p>Approve only if it is the code in your terminal. The command line gets an API key of its own, which you can
revoke at any time (<code>xgate logout</code>, or in your API keys).</p>
<form method="post" action="/cli/approve">
<input type="hidden" name="code" value="${escapeHtml(login.userCode)}">
<button class="approve" name="decision" value="approve" type="submit">Approve</button>
<button class="deny" name="decision" value="deny" type="submit">Deny</button>
</form>`,
    'pending',
  );
}

/** The end of the approval, or why it cannot happen. `state` is also in a meta tag for scripts and tests. */
export function outcomePage(state: 'approved' | 'denied' | 'unknown' | 'forbidden'): string {
  const text = {
    approved: ['Approved', 'You can close this page and go back to your terminal: it is signed in.'],
    denied: ['Denied', 'The command line was not signed in. You can close this page.'],
    unknown: [
      'This code is not waiting for approval',
      'It may have expired (codes last 10 minutes), been used already, or been mistyped. Run `xgate login` again for a new one.',
    ],
    forbidden: [
      'This approval did not come from this site',
      'For your safety, approvals are only accepted from xgate’s own page. Open the link your terminal printed.',
    ],
  }[state];
  return page(text[0] as string, `<p>${escapeHtml(text[1] as string)}</p>`, state);
}
