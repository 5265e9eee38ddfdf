import { join } from 'node:path';
import { createConfig, lint } from '@redocly/openapi-core';
import { expect, it } from 'vitest';

/**
 * Warnings of the recommended rules that are right for these routes: probes answer no 4xx, and the sign-in
 * routes answer redirects, never a 2xx.
 */
const EXPECTED_WARNINGS = [
  'operation-4xx-response #/paths/~1healthz/get/responses',
  'operation-4xx-response #/paths/~1readyz/get/responses',
  'operation-4xx-response #/paths/~1metrics/get/responses',
  'operation-2xx-response #/paths/~1auth~1x~1login/get/responses',
  'operation-2xx-response #/paths/~1auth~1x~1callback/get/responses',
];

it('the committed OpenAPI document passes Redocly’s recommended rules', async () => {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lint({ ref: join(import.meta.dirname, '..', 'docs', 'openapi.json'), config });
  const found = problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? ''}`);
  expect(problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
  expect(found.sort()).toEqual([...EXPECTED_WARNINGS].sort());
});
