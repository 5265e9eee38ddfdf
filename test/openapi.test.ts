import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateOpenApi, OPENAPI_PATH } from '../src/cli/openapi.ts';

describe('OpenAPI document', () => {
  it(`is committed in ${OPENAPI_PATH} and matches the routes (regenerate: npx xgate openapi --out ${OPENAPI_PATH})`, async () => {
    const committed = readFileSync(join(import.meta.dirname, '..', OPENAPI_PATH), 'utf8');
    const generated = await generateOpenApi();
    expect(JSON.parse(generated)).toEqual(JSON.parse(committed));
  });

  it('documents every /api/v1 operation with a summary and its responses', async () => {
    const doc = JSON.parse(await generateOpenApi()) as {
      paths: Record<string, Record<string, { summary?: string; responses?: object }>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ op: `${method.toUpperCase()} ${path}`, ...op })),
    );
    expect(ops.length).toBeGreaterThan(0);
    for (const op of ops.filter((o) => o.op.includes('/api/v1/'))) {
      expect(op.summary, `${op.op} has no summary`).toBeTruthy();
      expect(op.responses, `${op.op} declares no responses`).toBeDefined();
    }
  });
});
