import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { countingFetch } from './request-metrics.ts';

it('counts X requests by endpoint (ids as :id) and status, and failures as error', async () => {
  const registry = new Registry();
  const answers = [new Response('{}', { status: 201 }), new Response('{}', { status: 429 })];
  const counted = countingFetch(registry, async () => {
    const answer = answers.shift();
    if (!answer) throw new TypeError('fetch failed');
    return answer;
  });
  await counted('http://127.0.0.1:1/2/tweets', { method: 'POST' });
  await counted('http://127.0.0.1:1/2/users/2244994945/tweets?max_results=100');
  await expect(counted('http://127.0.0.1:1/2/media/upload/123/append', { method: 'POST' })).rejects.toThrow();
  const text = await registry.metrics();
  expect(text).toContain('xgate_x_requests_total{endpoint="POST /2/tweets",status="201"} 1');
  expect(text).toContain('xgate_x_requests_total{endpoint="GET /2/users/:id/tweets",status="429"} 1');
  expect(text).toContain(
    'xgate_x_requests_total{endpoint="POST /2/media/upload/:id/append",status="error"} 1',
  );
});
