import http from 'node:http';
import { type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../index.ts';
import { parseConsentForm } from '../testing/oauth.ts';

// An independent client, written against the real X, drives the emulator's OAuth flow: if the emulator
// drifted from X's contract this library would notice.

const PUBLIC = { clientId: 'tav2-public', redirectUri: 'http://127.0.0.1:9999/callback' };
const CONFIDENTIAL = {
  clientId: 'tav2-web',
  clientSecret: 'tav2-secret',
  redirectUri: 'http://127.0.0.1:9999/web',
};

let emulator: Emulator;
let url: string;
let userId: string;

beforeAll(async () => {
  emulator = await createEmulator({
    clients: [
      { clientId: PUBLIC.clientId, redirectUris: [PUBLIC.redirectUri] },
      {
        clientId: CONFIDENTIAL.clientId,
        clientSecret: CONFIDENTIAL.clientSecret,
        redirectUris: [CONFIDENTIAL.redirectUri],
      },
    ],
  });
  url = await emulator.listen();
  userId = emulator.control.createUser({ username: 'tav2user', name: 'Lib User' }).id;
});

afterAll(async () => {
  await emulator.close();
});

/** Sends the library's api.x.com calls to the emulator (plain http needs an http agent). */
function toEmulator(): ITwitterApiClientPlugin {
  return {
    onBeforeRequestConfig(args) {
      args.params.url = args.params.url.replace(/^https:\/\/(api|upload)\.(x|twitter)\.com/, url);
    },
  };
}

function settings() {
  return { httpAgent: new http.Agent(), plugins: [toEmulator()] };
}

/** Opens the library's authorize link on the emulator and approves the consent form as our user. */
async function approve(link: string): Promise<URL> {
  const authorizeUrl = link.replace(/^https:\/\/x\.com/, url);
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const form = parseConsentForm(await page.text());
  const answer = await fetch(new URL(form.action, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.hidden, user_id: userId, decision: 'authorize' }),
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') ?? '');
}

describe.each([
  ['a public client', new TwitterApi({ clientId: PUBLIC.clientId }, settings()), PUBLIC.redirectUri],
  [
    'a confidential client',
    new TwitterApi({ clientId: CONFIDENTIAL.clientId, clientSecret: CONFIDENTIAL.clientSecret }, settings()),
    CONFIDENTIAL.redirectUri,
  ],
])('twitter-api-v2 as %s', (_name, app, redirectUri) => {
  it('logs in with PKCE, reads the user, refreshes (rotating) and revokes', async () => {
    const link = app.generateOAuth2AuthLink(redirectUri, {
      scope: ['tweet.read', 'users.read', 'offline.access'],
    });
    const callback = await approve(link.url);
    expect(callback.searchParams.get('state')).toBe(link.state);

    const login = await app.loginWithOAuth2({
      code: callback.searchParams.get('code') ?? '',
      codeVerifier: link.codeVerifier,
      redirectUri,
    });
    expect(login.expiresIn).toBe(7200);
    expect(login.scope).toEqual(['tweet.read', 'users.read', 'offline.access']);
    expect(login.refreshToken).toBeTruthy();

    const me = await login.client.v2.me({ 'user.fields': ['subscription_type', 'public_metrics'] });
    expect(me.data).toMatchObject({
      id: userId,
      username: 'tav2user',
      name: 'Lib User',
      subscription_type: 'None',
    });

    const refreshed = await app.refreshOAuth2Token(login.refreshToken ?? '');
    expect(refreshed.refreshToken).not.toBe(login.refreshToken);
    expect((await refreshed.client.v2.me()).data.id).toBe(userId);
    await expect(app.refreshOAuth2Token(login.refreshToken ?? '')).rejects.toMatchObject({
      code: 400,
      data: { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' },
    });

    await app.revokeOAuth2Token(refreshed.accessToken, 'access_token');
    await expect(refreshed.client.v2.me()).rejects.toMatchObject({ code: 401 });
  });
});
