import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountsService, createTokenSealer } from '../src/accounts/index.ts';
import { insertPost } from '../src/posts/posts.repository.ts';
import type { TestEmulator } from './helpers/emulator.ts';
import {
  createHttpClient,
  createTestClock,
  describeEachDialect,
  makeSignedInUser,
  SESSION_COOKIE,
  type TestClock,
  type TestService,
} from './helpers/index.ts';
import { startSignInService } from './helpers/signin-service.ts';
import {
  authorizeAtEmulator,
  pageErrorCode,
  signInWithX,
  storedTokens,
  visitCallback,
} from './helpers/x-signin.ts';

const CLIENT_SECRET = 'test-client-secret';
const HOUR = 3600_000;

describeEachDialect('accounts: sign in with X, vault, routes', (ctx) => {
  let emulator: TestEmulator;
  let service: TestService;
  let clock: TestClock;
  /** Every token the service has held, to prove none is stored or answered in plaintext. */
  const seenTokens = new Set<string>();
  let usernames = 0;
  const newUsername = () => `user${ctx.dialect.slice(0, 2)}${++usernames}`;

  beforeAll(async () => {
    clock = createTestClock();
    ({ emulator, service } = await startSignInService(ctx, { clock, clientSecret: CLIENT_SECRET }));
  });
  afterAll(async () => {
    await service?.stop();
    await emulator?.stop();
  });
  beforeEach(() => emulator.control.clearFaults());

  const deps = () => service.app.deps;
  const tokenCalls = () =>
    emulator.control.requests().filter((r) => r.method === 'POST' && r.path === '/2/oauth2/token');
  const accountRows = () => deps().db.selectFrom('accounts').selectAll().execute();
  /** Moves the service's clock and the emulator's clock together. */
  function advance(ms: number) {
    clock.advance(ms);
  }

  async function remember(accountId: string) {
    const tokens = await storedTokens(deps(), accountId);
    if (tokens.accessToken) seenTokens.add(tokens.accessToken);
    if (tokens.refreshToken) seenTokens.add(tokens.refreshToken);
  }

  async function signedIn(username = newUsername()) {
    const client = createHttpClient(service.url);
    await signInWithX(client, { username });
    const accounts = await client.get('/api/v1/accounts');
    const account = accounts.json.find((a: { username: string }) => a.username === username);
    await remember(account.id);
    return { client, account, username };
  }

  describe('sign-in', () => {
    it('signs a new person in through the consent page and stores an active account without exposing tokens', async () => {
      const client = createHttpClient(service.url);
      const username = newUsername();
      const response = await signInWithX(client, { username });
      expect(response.headers.get('location')).toBe('/');
      expect(client.cookies.has(SESSION_COOKIE)).toBe(true);
      expect(client.cookies.has('xgate_oauth')).toBe(false);

      const accounts = await client.get('/api/v1/accounts');
      expect(accounts.status).toBe(200);
      expect(accounts.json).toHaveLength(1);
      const [account] = accounts.json;
      expect(account).toMatchObject({
        username,
        status: 'active',
        statusReason: null,
        subscriptionType: 'None',
      });
      expect(account.scopes).toEqual(
        expect.arrayContaining(['tweet.read', 'tweet.write', 'users.read', 'media.write', 'offline.access']),
      );
      expect(account.tokenExpiresAt).toBe(clock.now() + 2 * HOUR);
      expect(Object.keys(account).sort()).toEqual(
        [
          'createdAt',
          'id',
          'lastRefreshedAt',
          'name',
          'profileImageUrl',
          'scopes',
          'status',
          'statusReason',
          'subscriptionType',
          'tokenExpiresAt',
          'username',
          'xUserId',
        ].sort(),
      );
      await remember(account.id);
      const tokens = await storedTokens(deps(), account.id);
      expect(accounts.text).not.toContain(tokens.accessToken);
      const me = await client.get('/api/v1/me');
      expect(me.json.accounts.map((a: { id: string }) => a.id)).toEqual([account.id]);
      expect(me.text).not.toContain(tokens.refreshToken);
    });

    it('turns "Cancel" at X into a 400 page and stores nothing', async () => {
      const before = (await accountRows()).length;
      const client = createHttpClient(service.url);
      const callback = await authorizeAtEmulator(client, { username: newUsername(), decision: 'cancel' });
      expect(callback.searchParams.get('error')).toBe('access_denied');
      const response = await visitCallback(client, callback);
      expect(response.status).toBe(400);
      expect(pageErrorCode(response)).toBe('oauth_access_denied');
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(client.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(await accountRows()).toHaveLength(before);
    });

    it('refuses a missing, wrong, or replayed state, and a replayed or expired code', async () => {
      const before = (await accountRows()).length;
      const client = createHttpClient(service.url);

      const noState = await client.get('/auth/x/callback?code=abc');
      expect([noState.status, pageErrorCode(noState)]).toEqual([400, 'oauth_state_missing']);

      const callback = await authorizeAtEmulator(client, { username: newUsername() });
      const wrong = new URL(callback);
      wrong.searchParams.set('state', 'not-the-state');
      const wrongState = await visitCallback(client, wrong);
      expect([wrongState.status, pageErrorCode(wrongState)]).toEqual([400, 'oauth_state_mismatch']);

      // The mismatch cleared the pending sign-in: even the right answer is now refused.
      const afterMismatch = await visitCallback(client, callback);
      expect([afterMismatch.status, pageErrorCode(afterMismatch)]).toEqual([400, 'oauth_state_unknown']);
      expect(await accountRows()).toHaveLength(before);

      // A good sign-in, then the same callback again: the state is spent.
      const fresh = await authorizeAtEmulator(client, { username: newUsername() });
      const oauthCookie = client.cookies.get('xgate_oauth')!;
      expect((await visitCallback(client, fresh)).status).toBe(302);
      const replay = await visitCallback(client, fresh);
      expect([replay.status, pageErrorCode(replay)]).toEqual([400, 'oauth_state_unknown']);
      // Replaying with the old cookie too: the code is spent at X.
      const attacker = createHttpClient(service.url);
      attacker.setCookie('xgate_oauth', oauthCookie);
      const replayedCode = await visitCallback(attacker, fresh);
      expect([replayedCode.status, pageErrorCode(replayedCode)]).toEqual([400, 'oauth_code_invalid']);
      expect(attacker.cookies.has(SESSION_COOKIE)).toBe(false);
      expect(await accountRows()).toHaveLength(before + 1);

      // X's codes live 30 seconds.
      const late = await authorizeAtEmulator(client, { username: newUsername() });
      emulator.control.advanceClock(31);
      const expired = await visitCallback(client, late);
      expect([expired.status, pageErrorCode(expired)]).toEqual([400, 'oauth_code_invalid']);
      expect(await accountRows()).toHaveLength(before + 1);
    });

    it('connects a second account to the signed-in user, and reconnecting updates in place', async () => {
      const { client, account, username } = await signedIn();
      const second = newUsername();
      advance(1000);
      await signInWithX(client, { username: second, connect: true });
      const list = (await client.get('/api/v1/accounts')).json;
      expect(list.map((a: { username: string }) => a.username)).toEqual([username, second]);
      await remember(list[1].id);

      const before = await storedTokens(deps(), account.id);
      const rowsBefore = (await accountRows()).length;
      advance(60_000);
      // Signing in again (new browser) with the first X account: same user, same account, new tokens.
      const again = createHttpClient(service.url);
      await signInWithX(again, { username });
      const listAgain = (await again.get('/api/v1/accounts')).json;
      expect(listAgain.map((a: { id: string }) => a.id)).toEqual([account.id, list[1].id]);
      expect(await accountRows()).toHaveLength(rowsBefore);
      const after = await storedTokens(deps(), account.id);
      await remember(account.id);
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect(listAgain[0]).toMatchObject({ status: 'active', tokenExpiresAt: clock.now() + 2 * HOUR });
    });

    it('stores a grant missing required scopes as needs_reconnect with a reason', async () => {
      const { user } = await makeSignedInUser(deps());
      const service_ = createAccountsService({
        ...deps(),
        sealer: createTokenSealer(deps().config.secretKey),
      });
      const { account } = await service_.connect({
        userId: user.id,
        profile: {
          id: '999001',
          username: 'narrow',
          name: 'Narrow',
          profileImageUrl: null,
          subscriptionType: null,
        },
        tokens: {
          accessToken: 'a',
          refreshToken: null,
          expiresAt: clock.now() + HOUR,
          scopes: ['tweet.read'],
        },
      });
      expect(account.status).toBe('needs_reconnect');
      expect(account.statusReason).toContain('"offline.access"');
      expect(account.statusReason).toContain('"media.write"');
      expect(account.statusReason).toContain('Reconnect');
      const events = await deps()
        .db.selectFrom('events')
        .select(['type', 'data'])
        .where('subject_id', '=', account.id)
        .orderBy('seq')
        .execute();
      expect(events.map((e) => [e.type, JSON.parse(e.data).username])).toEqual([
        ['account.connected', 'narrow'],
        ['account.needs_reconnect', 'narrow'],
      ]);
    });
  });

  describe('vault', () => {
    it('verify after two hours refreshes exactly once and answers the account', async () => {
      const { client, account } = await signedIn();
      advance(2 * HOUR);
      const calls = tokenCalls().length;
      const verified = await client.post(`/api/v1/accounts/${account.id}/verify`);
      expect(verified.status).toBe(200);
      expect(verified.json).toMatchObject({ id: account.id, status: 'active', lastRefreshedAt: clock.now() });
      expect(tokenCalls().length - calls).toBe(1);
      await remember(account.id);
      const events = await deps()
        .db.selectFrom('account_events')
        .select('kind')
        .where('account_id', '=', account.id)
        .execute();
      expect(events.map((e) => e.kind)).toEqual(
        expect.arrayContaining(['connected', 'refreshed', 'verified']),
      );
    });

    it('20 concurrent uses of one expired account make exactly one token call', async () => {
      const { account } = await signedIn();
      advance(2 * HOUR + 1000);
      const calls = tokenCalls().length;
      const tokens = await Promise.all(
        Array.from({ length: 20 }, () => deps().vault.getAccessToken(account.id)),
      );
      expect(new Set(tokens).size).toBe(1);
      expect(tokenCalls().length - calls).toBe(1);
      const me = await deps().x.forToken(tokens[0]!).getMe();
      expect(me.id).toBe(account.xUserId);
      await remember(account.id);
    });

    it('a refresh X rejects makes the account needs_reconnect with the reason', async () => {
      const { client, account } = await signedIn();
      const { refreshToken } = await storedTokens(deps(), account.id);
      await deps().x.revoke(refreshToken!, 'refresh_token');
      advance(2 * HOUR);
      const verified = await client.post(`/api/v1/accounts/${account.id}/verify`);
      expect(verified.status).toBe(200);
      expect(verified.json.status).toBe('needs_reconnect');
      expect(verified.json.statusReason).toMatch(/X refused to refresh/);
      await expect(deps().vault.getAccessToken(account.id)).rejects.toMatchObject({
        code: 'account_needs_reconnect',
      });
      const kinds = (
        await deps()
          .db.selectFrom('account_events')
          .select('kind')
          .where('account_id', '=', account.id)
          .execute()
      ).map((e) => e.kind);
      expect(kinds).toContain('needs_reconnect');
    });

    it('an access token that does not open (sealed with another key) makes the account needs_reconnect, not a 500', async () => {
      const { client, account } = await signedIn();
      const otherKey = createTokenSealer(Buffer.alloc(32, 7));
      await deps()
        .db.updateTable('accounts')
        .set({ access_token_sealed: otherKey.seal(account.id, 'access', 'some-token') })
        .where('id', '=', account.id)
        .execute();
      const verified = await client.post(`/api/v1/accounts/${account.id}/verify`);
      expect(verified.status).toBe(200);
      expect(verified.json.status).toBe('needs_reconnect');
      expect(verified.json.statusReason).toMatch(/XGATE_SECRET_KEY.*Reconnect the account/);
      const listed = await client.get('/api/v1/accounts');
      expect(listed.json.find((a: { id: string }) => a.id === account.id).status).toBe('needs_reconnect');
    });

    it('after an interrupted refresh, a rejected refresh token says so', async () => {
      const { account } = await signedIn();
      // As if a process took the lease, got X's answer and died before saving: the stored token is spent.
      const { refreshToken } = await storedTokens(deps(), account.id);
      await deps().x.refresh(refreshToken!);
      await deps()
        .db.updateTable('accounts')
        .set({ refresh_lease_owner: 'dead-worker', refresh_lease_until: clock.now() - 1 })
        .where('id', '=', account.id)
        .execute();
      advance(2 * HOUR);
      await expect(deps().vault.getAccessToken(account.id)).rejects.toMatchObject({
        code: 'account_needs_reconnect',
      });
      const row = (await accountRows()).find((r) => r.id === account.id)!;
      expect(row.status).toBe('needs_reconnect');
      expect(row.status_reason).toMatch(/refresh was interrupted/);
    });

    it('a refresh X cannot answer backs off and keeps the account active', async () => {
      const { account } = await signedIn();
      advance(2 * HOUR);
      emulator.control.setFaults([{ method: 'POST', path: '/2/oauth2/token', kind: 'error', status: 503 }]);
      await expect(deps().vault.getAccessToken(account.id)).rejects.toMatchObject({
        code: 'account_refresh_failed',
      });
      const row = (await accountRows()).find((r) => r.id === account.id)!;
      expect(row).toMatchObject({ status: 'active', refresh_failures: 1, refresh_lease_owner: null });
      expect(row.next_refresh_at).toBeGreaterThan(clock.now());
      emulator.control.clearFaults();
      expect(await deps().vault.getAccessToken(account.id)).toEqual(expect.any(String));
      await remember(account.id);
    });
  });

  describe('routes', () => {
    it('disconnect revokes at X, erases the tokens and cancels scheduled posts', async () => {
      const { client, account } = await signedIn();
      const tokens = await storedTokens(deps(), account.id);
      const now = clock.now();
      await insertPost(deps().db, {
        id: `post-${account.id}`,
        userId: (await accountRows()).find((r) => r.id === account.id)!.user_id,
        accountId: account.id,
        scheduledAt: now + HOUR,
        now,
        items: [{ text: 'Scheduled.', mediaIds: [] }],
      });

      const deleted = await client.delete(`/api/v1/accounts/${account.id}`);
      expect(deleted.status).toBe(204);
      const row = (await accountRows()).find((r) => r.id === account.id)!;
      expect(row).toMatchObject({
        status: 'disconnected',
        access_token_sealed: null,
        refresh_token_sealed: null,
        token_expires_at: null,
      });
      const post = await deps()
        .db.selectFrom('posts')
        .select('status')
        .where('account_id', '=', account.id)
        .execute();
      expect(post).toEqual([{ status: 'canceled' }]);
      await expect(deps().x.forToken(tokens.accessToken!).getMe()).rejects.toMatchObject({
        code: 'x_unauthorized',
      });
      await expect(deps().x.refresh(tokens.refreshToken!)).rejects.toMatchObject({ code: 'x_invalid_grant' });
      // Again: already disconnected, still 204.
      expect((await client.delete(`/api/v1/accounts/${account.id}`)).status).toBe(204);
      const verify = await client.post(`/api/v1/accounts/${account.id}/verify`);
      expect([verify.status, verify.json.error.code]).toEqual([409, 'account_disconnected']);
    });

    it('when X cannot be reached, disconnect and verify answer 503 and change nothing', async () => {
      const { client, account } = await signedIn();
      emulator.control.setFaults([
        { method: 'POST', path: '/2/oauth2/revoke', kind: 'error', status: 503 },
        { method: 'GET', path: '/2/users/me', kind: 'error', status: 503 },
      ]);
      const deleted = await client.delete(`/api/v1/accounts/${account.id}`);
      expect([deleted.status, deleted.json.error.code]).toEqual([503, 'x_unavailable']);
      const verified = await client.post(`/api/v1/accounts/${account.id}/verify`);
      expect([verified.status, verified.json.error.code]).toEqual([503, 'x_unavailable']);
      emulator.control.clearFaults();
      const row = (await accountRows()).find((r) => r.id === account.id)!;
      expect(row.status).toBe('active');
      expect(await storedTokens(deps(), account.id)).toMatchObject({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
      });
    });

    it("answers 404 for another user's account and 4xx with stable codes for bad input", async () => {
      const { account } = await signedIn();
      const { client: other } = await signedIn();
      for (const response of [
        await other.post(`/api/v1/accounts/${account.id}/verify`),
        await other.delete(`/api/v1/accounts/${account.id}`),
        await other.post('/api/v1/accounts/00000000-0000-0000-0000-000000000000/verify'),
      ]) {
        expect([response.status, response.json.error.code]).toEqual([404, 'account_not_found']);
      }
      const bad = await other.delete('/api/v1/accounts/bad%20id!');
      expect([bad.status, bad.json.error.code]).toEqual([400, 'invalid_request']);
      const badQuery = await other.get('/auth/x/login?connect=maybe');
      expect([badQuery.status, badQuery.json.error.code]).toEqual([400, 'invalid_request']);
      const anonymous = await createHttpClient(service.url).get('/api/v1/accounts');
      expect([anonymous.status, anonymous.json.error.code]).toEqual([401, 'unauthorized']);
      const noCsrf = await other.request('DELETE', `/api/v1/accounts/${account.id}`, { csrf: false });
      expect([noCsrf.status, noCsrf.json.error.code]).toEqual([403, 'csrf_required']);
      expect((await accountRows()).find((r) => r.id === account.id)?.status).toBe('active');
    });
  });

  it('never stores or answers a token in plaintext', async () => {
    expect(seenTokens.size).toBeGreaterThan(10);
    const db = deps().db;
    let stored = '';
    if (ctx.dialect === 'sqlite') {
      // The WAL holds recent pages: check it and the main file.
      for (const name of readdirSync(ctx.dataDir).filter((n) => n.startsWith('xgate.db'))) {
        stored += readFileSync(join(ctx.dataDir, name)).toString('latin1');
      }
    } else {
      const tables = await sql<{
        tablename: string;
      }>`select tablename from pg_tables where schemaname = 'public'`.execute(db);
      for (const { tablename } of tables.rows) {
        const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(tablename)} t`.execute(
          db,
        );
        stored += rows.rows.map((r) => r.row).join('\n');
      }
    }
    expect(stored.length).toBeGreaterThan(1000);
    for (const token of seenTokens) expect(stored.includes(token)).toBe(false);
  });
});
