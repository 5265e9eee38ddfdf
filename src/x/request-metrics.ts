import { Counter, type Registry } from 'prom-client';

/**
 * Wraps `fetch` to count X API calls in `xgate_x_requests_total{endpoint,status}`: `endpoint` is the method and
 * the path with numeric ids (not the leading version `/2`) as `:id` (`POST /2/tweets`, `GET /2/users/:id/tweets`); `status` is X's HTTP status,
 * or `error` when no answer came (network failure, timeout).
 */
export function countingFetch(
  registry: Registry,
  inner: typeof fetch = (input, init) => fetch(input, init),
): typeof fetch {
  const requests = new Counter({
    name: 'xgate_x_requests_total',
    help: 'Requests to the X API, by endpoint and HTTP status (`error`: no answer).',
    labelNames: ['endpoint', 'status'],
    registers: [registry],
  });
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const endpoint = `${method} ${url.pathname.replace(/(?<=.)\/[0-9]+(?=\/|$)/g, '/:id')}`;
    try {
      const response = await inner(input, init);
      requests.inc({ endpoint, status: String(response.status) });
      return response;
    } catch (error) {
      requests.inc({ endpoint, status: 'error' });
      throw error;
    }
  };
}
