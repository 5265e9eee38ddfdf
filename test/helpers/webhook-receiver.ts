import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedWebhook {
  /** The request's path, e.g. `/hooks/2`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** How the receiver answers a request (the default: 200 "ok"). */
export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Waits this long before answering. */
  delayMs?: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides every answer from now on; `n` counts requests from 1. */
  answer(fn: (request: ReceivedWebhook, n: number) => ReceiverAnswer): void;
  stop(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records webhook requests, for tests and the benchmark. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let decide: (request: ReceivedWebhook, n: number) => ReceiverAnswer = () => ({ status: 200, body: 'ok' });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: { type?: string; data?: Record<string, unknown> } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // recorded as it came
      }
      const request: ReceivedWebhook = {
        path: req.url ?? '',
        headers: req.headers,
        body,
        id: String(req.headers['webhook-id'] ?? ''),
        type: parsed.type ?? '',
        data: parsed.data ?? {},
      };
      received.push(request);
      const answer = decide(request, received.length);
      const send = () => {
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 1000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    answer(fn) {
      decide = fn;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The headers a Standard Webhooks verifier reads. */
export function signedHeaders(request: ReceivedWebhook): Record<string, string> {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}
