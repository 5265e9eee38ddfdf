import { findAnyActiveAccount } from '../accounts/accounts.repository.ts';
import type { AppDeps } from '../deps.ts';

/**
 * Asks X whether it accepts the app again (`GET /2/users/me` with an active account: a $0.01 user read): accepted
 * → resume; refused → the next probe waits twice as long (at most an hour). Returns whether the app is paused after.
 */
export async function probeX(
  deps: Pick<AppDeps, 'db' | 'log' | 'accountCaller' | 'spend' | 'pauses'>,
): Promise<boolean> {
  const pause = await deps.pauses.current();
  if (!pause) return false;
  const account = await findAnyActiveAccount(deps.db);
  try {
    if (!account) throw new Error('no active account to ask X with');
    await deps.accountCaller.call(account, (api) => api.getMe());
    await deps.spend.flush();
    await deps.pauses.resume();
    return false;
  } catch (error) {
    deps.log.warn({ err: error }, 'X still refuses the app; the next probe waits twice as long');
    await deps.spend.flush();
    await deps.pauses.probeRefused(pause);
    return true;
  }
}
