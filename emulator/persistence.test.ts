import { describe, expect, it } from 'vitest';
import { nextSnowflake } from './ids.ts';
import { deserializeState, serializeState } from './persistence.ts';
import { createState } from './state.ts';

describe('state serialisation', () => {
  it('round-trips Maps, nested records and the request log', () => {
    const state = createState('pro');
    state.users.set('1', {
      id: '1',
      username: 'a',
      name: 'A',
      subscriptionType: 'Premium',
      description: '',
      createdAt: 5,
    });
    state.rateWindows.set('user:1|POST /2/tweets|15m', { used: 3, resetAt: 900_000 });
    state.requestLog.entries.push({ method: 'GET', path: '/2/users/me', status: 200, at: 7 });
    const copy = deserializeState(serializeState(state), 'ppu');
    expect(copy).toEqual(state);
    expect(copy.users).toBeInstanceOf(Map);
  });

  it('fills fields missing from an older file with their defaults', () => {
    const copy = deserializeState(JSON.stringify({ version: 1, state: { tier: 'free' } }), 'ppu');
    expect(copy.tier).toBe('free');
    expect(copy.tweets).toBeInstanceOf(Map);
    expect(copy.faults).toEqual([]);
  });

  it('refuses text that is not emulator state', () => {
    expect(() => deserializeState('{"hello":1}', 'ppu')).toThrow(/not an emulator state file/);
    expect(() => deserializeState('not json', 'ppu')).toThrow();
  });
});

describe('ids', () => {
  it('strictly increase, even when the clock stands still or goes back', () => {
    const state = createState('ppu');
    const a = nextSnowflake(state, 1_800_000_000_000);
    const b = nextSnowflake(state, 1_800_000_000_000);
    const c = nextSnowflake(state, 1_700_000_000_000);
    expect(BigInt(b)).toBeGreaterThan(BigInt(a));
    expect(BigInt(c)).toBeGreaterThan(BigInt(b));
    expect(a).toMatch(/^[0-9]{19}$/);
  });
});
