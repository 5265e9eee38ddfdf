import type { Kysely } from 'kysely';
import pino from 'pino';
import type { EmulatorControl } from '../../emulator/index.ts';
import {
  createAccountCaller,
  createAccountsService,
  createTokenSealer,
  createTokenVault,
} from '../../src/accounts/index.ts';
import type { Clock } from '../../src/clock.ts';
import type { Database } from '../../src/db/schema.ts';
import type { XClient, XTokenSet } from '../../src/x/index.ts';

/**
 * Runs the app's authorization flow for the emulator's user `xUserId` without a browser: the consent form
 * posted approved as that user, then the code exchanged. X's tokens for the user.
 */
export async function grantAtEmulator(x: XClient, xUserId: string): Promise<XTokenSet> {
  const request = await x.startAuthorization();
  const form = new URLSearchParams(request.url.searchParams);
  form.set('user_id', xUserId);
  form.set('decision', 'authorize');
  const answer = await fetch(new URL(request.url.pathname, request.url), {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  const callback = new URL(answer.headers.get('location') ?? '');
  return x.exchangeCode(callback.searchParams, request.state, request.codeVerifier);
}

/**
 * Connects `count` new X accounts as a plain sign-in would, without the browser: each gets an emulator user,
 * an authorization approved by posting the consent form, a code exchange and `GET /2/users/me`, then is
 * stored by the accounts service (one new xgate user each). Returns the account ids in order.
 */
export async function connectAccounts(args: {
  db: Kysely<Database>;
  clock: Clock;
  x: XClient;
  secretKey: Buffer;
  control: EmulatorControl;
  count: number;
  prefix: string;
  concurrency?: number;
}): Promise<string[]> {
  const { db, clock, x, control } = args;
  const log = pino({ level: 'silent' });
  const sealer = createTokenSealer(args.secretKey);
  const vault = createTokenVault({ db, clock, log, x, sealer });
  const service = createAccountsService({
    db,
    clock,
    log,
    x,
    sealer,
    accountCaller: createAccountCaller({ tokens: vault, forToken: x.forToken }),
  });
  const ids: string[] = new Array(args.count);
  const users = Array.from({ length: args.count }, (_, i) =>
    control.createUser({ username: `${args.prefix}${i}` }),
  );
  let next = 0;
  async function lane() {
    while (next < users.length) {
      const index = next++;
      const tokens = await grantAtEmulator(x, users[index]!.id);
      const profile = await x.forToken(tokens.accessToken).getMe();
      ids[index] = (await service.connect({ userId: null, profile, tokens })).account.id;
    }
  }
  await Promise.all(Array.from({ length: args.concurrency ?? 8 }, lane));
  return ids;
}
