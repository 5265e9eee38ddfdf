// The landing page's two actions. Both are POSTs authenticated by the session cookie, so they need the
// X-XGate-CSRF header, which a plain HTML form cannot send.
const CSRF_HEADERS = { 'x-xgate-csrf': '1' };

const errorBox = document.getElementById('home-error');

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

async function problemOf(response) {
  const fallback = `xgate answered ${response.status}. Reload the page and try again.`;
  try {
    const body = await response.json();
    return body?.error?.message ?? fallback;
  } catch {
    return fallback;
  }
}

async function createKey(form) {
  const response = await fetch('/api/v1/api-keys', {
    method: 'POST',
    headers: { ...CSRF_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify({ name: form.elements.namedItem('name').value }),
  });
  if (!response.ok) return showError(await problemOf(response));
  const { key } = await response.json();
  const panel = document.getElementById('new-key');
  panel.querySelector('[data-key]').textContent = key;
  panel.querySelector('[data-curl]').textContent =
    `curl -H "Authorization: Bearer ${key}" ${panel.dataset.meUrl}`;
  panel.hidden = false;
}

async function signOut() {
  const response = await fetch('/auth/logout', { method: 'POST', headers: CSRF_HEADERS });
  if (!response.ok) return showError(await problemOf(response));
  location.reload();
}

/** Runs `action` with `button` disabled, turning a network failure into a message. */
async function run(button, action) {
  errorBox.hidden = true;
  button.disabled = true;
  try {
    await action();
  } catch {
    showError('xgate could not be reached. Check that it is running and try again.');
  } finally {
    button.disabled = false;
  }
}

const form = document.getElementById('create-key');
form.addEventListener('submit', (event) => {
  event.preventDefault();
  run(form.querySelector('button'), () => createKey(form));
});

const signOutButton = document.getElementById('sign-out');
signOutButton.addEventListener('click', () => run(signOutButton, signOut));
