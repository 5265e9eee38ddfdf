import type { EmuUser } from '../state.ts';
import { AUTHORIZE_PARAMS, type AuthorizeRequest } from './authorize-request.ts';
import { SCOPE_DESCRIPTIONS } from './scopes.ts';

/** HTML-escapes text for element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f5f8fa; color: #0f1419; margin: 0; }
  main { max-width: 480px; margin: 48px auto; background: #fff; border-radius: 16px; padding: 32px;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 22px; margin: 0 0 8px; }
  .banner { font-size: 12px; color: #536471; margin-bottom: 24px; }
  ul.scopes { padding-left: 20px; } ul.scopes li { margin: 6px 0; }
  fieldset { border: 1px solid #cfd9de; border-radius: 12px; margin: 16px 0; padding: 12px 16px; }
  label { display: block; margin: 6px 0; }
  input[type=text] { padding: 6px 8px; border: 1px solid #cfd9de; border-radius: 6px; }
  .actions { display: flex; gap: 12px; margin-top: 24px; }
  button { flex: 1; padding: 12px; border-radius: 999px; font-size: 15px; font-weight: 700; cursor: pointer; }
  button.authorize { background: #0f1419; color: #fff; border: none; }
  button.cancel { background: #fff; color: #0f1419; border: 1px solid #cfd9de; }
  .error { color: #b00020; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<div class="banner">X API emulator — nothing here talks to the real X.</div>
${body}
</main></body>
</html>`;
}

/**
 * The consent page. Its form posts back to `/i/oauth2/authorize` with the authorize parameters as
 * hidden fields, `user_id` (an existing user's id, or `new` with `username`/`name`) and
 * `decision=authorize|cancel`, so a browser and a plain HTTP client can both drive it.
 */
export function renderConsentPage(args: {
  request: AuthorizeRequest;
  params: Record<string, string>;
  users: EmuUser[];
  error?: string;
}): string {
  const { request, params, users } = args;
  const appName = escapeHtml(request.client.name);
  const hidden = AUTHORIZE_PARAMS.filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params[name] ?? '')}">`)
    .join('\n');
  const scopes = request.scopes
    .map(
      (scope) =>
        `<li><code>${escapeHtml(scope)}</code> — ${escapeHtml(SCOPE_DESCRIPTIONS[scope] ?? '')}</li>`,
    )
    .join('\n');
  const userChoices = users
    .map(
      (user, i) =>
        `<label><input type="radio" name="user_id" value="${escapeHtml(user.id)}"${i === 0 ? ' checked' : ''}> ` +
        `${escapeHtml(user.name)} <span>@${escapeHtml(user.username)}</span></label>`,
    )
    .join('\n');
  const error = args.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(args.error)}</p>`;

  return layout(
    `Authorize ${request.client.name}`,
    `<h1>${appName} wants to access your X account</h1>
${error}
<p>It will be able to:</p>
<ul class="scopes">
${scopes}
</ul>
<form method="post" action="/i/oauth2/authorize">
${hidden}
<fieldset>
<legend>Sign in as</legend>
${userChoices}
<label><input type="radio" name="user_id" value="new"${users.length === 0 ? ' checked' : ''}> a new user:
<input type="text" name="username" placeholder="username" pattern="[A-Za-z0-9_]{1,15}" maxlength="15" aria-label="username">
<input type="text" name="name" placeholder="display name" maxlength="50" aria-label="display name"></label>
</fieldset>
<div class="actions">
<button class="cancel" type="submit" name="decision" value="cancel">Cancel</button>
<button class="authorize" type="submit" name="decision" value="authorize">Authorize app</button>
</div>
</form>`,
  );
}

/** The page shown instead of redirecting when the client or redirect URI is not trustworthy. */
export function renderErrorPage(message: string): string {
  return layout(
    'Something went wrong',
    `<h1>Something went wrong</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>
<p>You can close this page and try again from the app.</p>`,
  );
}
