import { describe, expect, it } from 'vitest';
import { takeFault } from './faults.ts';
import type { FaultRule } from './state.ts';

function rule(overrides: Partial<FaultRule>): FaultRule {
  return {
    method: 'GET',
    path: '/2/users/me',
    kind: 'error',
    status: 503,
    probability: 1,
    remaining: null,
    latencyMs: 0,
    ...overrides,
  };
}

describe('takeFault', () => {
  it('matches exact paths, :param and {param} templates, and * methods', () => {
    expect(takeFault([rule({})], 'GET', '/2/users/me', '/2/users/me')).toBeDefined();
    expect(takeFault([rule({ path: '/2/tweets/:id' })], 'GET', '/2/tweets/1', '/2/tweets/:id')).toBeDefined();
    expect(
      takeFault([rule({ path: '/2/tweets/{id}' })], 'GET', '/2/tweets/1', '/2/tweets/:id'),
    ).toBeDefined();
    expect(takeFault([rule({ method: '*' })], 'DELETE', '/2/users/me', '/2/users/me')).toBeDefined();
    expect(takeFault([rule({})], 'POST', '/2/users/me', '/2/users/me')).toBeUndefined();
    expect(takeFault([rule({ path: '/2/tweets/1' })], 'GET', '/2/tweets/2', '/2/tweets/:id')).toBeUndefined();
  });

  it('uses up counted rules and removes them at zero', () => {
    const rules = [rule({ remaining: 2 })];
    expect(takeFault(rules, 'GET', '/2/users/me', undefined)).toBeDefined();
    expect(rules[0]?.remaining).toBe(1);
    expect(takeFault(rules, 'GET', '/2/users/me', undefined)).toBeDefined();
    expect(rules).toEqual([]);
  });

  it('fires with the rule probability', () => {
    const rules = [rule({ probability: 0.3 })];
    expect(takeFault(rules, 'GET', '/2/users/me', undefined, () => 0.29)).toBeDefined();
    expect(takeFault(rules, 'GET', '/2/users/me', undefined, () => 0.3)).toBeUndefined();
  });
});
