import http from 'node:http';
import https from 'node:https';
import { guardedLookup, schemeAllowed } from './address-guard.ts';
import { signatureHeader } from './signing.ts';

/** What one attempt to deliver a webhook came to. */
export interface AttemptResult {
  /** The receiver's HTTP status; null when no answer came (network error, timeout, refused address). */
  statusCode: number | null;
  durationMs: number;
  /** What went wrong, in words: a network error, a timeout, or a non-2xx answer. Null on success. */
  error: string | null;
  /** The first bytes of the answer's body. */
  responseBody: string | null;
  /** `Retry-After` of a 429 or 503, in seconds. */
  retryAfterSeconds: number | null;
}

/**
 * Connections to receivers are kept alive between deliveries (an endpoint usually gets many in a row). A kept
 * socket was checked by {@link guardedLookup} when it connected; a new one is checked again.
 */
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 2, timeout: 30_000 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 4, maxFreeSockets: 2, timeout: 30_000 }),
};

/** Bytes of the receiver's answer kept in the delivery log. */
const KEPT_RESPONSE_BYTES = 1024;

export interface SendOptions {
  url: string;
  secrets: readonly string[];
  /** The `webhook-id`: the event's id, the same on every attempt. */
  id: string;
  body: string;
  timeoutMs: number;
  /** Sandbox mode and tests: loopback and private addresses may be reached. */
  allowPrivate: boolean;
  userAgent: string;
}

/**
 * POSTs one signed webhook and reports what happened. Never throws, never follows a redirect, and resolves the
 * host again on every attempt through {@link guardedLookup} unless private addresses are allowed.
 * `webhook-timestamp` is the wall clock's: receivers compare it with theirs to refuse replays.
 */
export function sendWebhook(options: SendOptions): Promise<AttemptResult> {
  const started = performance.now();
  const timestampSeconds = Math.floor(Date.now() / 1000);
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  const body = Buffer.from(options.body);
  const elapsed = () => Math.round(performance.now() - started);
  if (!schemeAllowed(url, options.allowPrivate)) {
    return Promise.resolve({
      statusCode: null,
      durationMs: 0,
      error: 'not sent: webhook URLs must be https:// (XGATE_WEBHOOK_ALLOW_PRIVATE is off)',
      responseBody: null,
      retryAfterSeconds: null,
    });
  }

  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const failed = (error: string) =>
      finish({ statusCode: null, error, responseBody: null, retryAfterSeconds: null });

    const request = transport.request(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      ...(!options.allowPrivate && { lookup: guardedLookup }),
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'user-agent': options.userAgent,
        'webhook-id': options.id,
        'webhook-timestamp': String(timestampSeconds),
        'webhook-signature': signatureHeader(options.secrets, {
          id: options.id,
          timestampSeconds,
          body: options.body,
        }),
      },
    });
    const timer = setTimeout(() => {
      failed(`no answer within ${Math.round(options.timeoutMs / 1000)} s`);
      request.destroy();
    }, options.timeoutMs);

    request.on('error', (error: NodeJS.ErrnoException) =>
      failed(error.code === 'EPRIVATEADDRESS' ? error.message : `${error.code ?? 'error'}: ${error.message}`),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      // A whole answer leaves the socket reusable; one cut short (too long to keep) closes it.
      const done = (cutShort: boolean) => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        finish({
          statusCode: status,
          error: ok ? null : describeStatus(status),
          responseBody: Buffer.concat(chunks).toString('utf8'),
          retryAfterSeconds:
            status === 429 || status === 503 ? retryAfter(response.headers['retry-after']) : null,
        });
        if (cutShort) response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        if (kept < KEPT_RESPONSE_BYTES) {
          const part = chunk.subarray(0, KEPT_RESPONSE_BYTES - kept);
          chunks.push(part);
          kept += part.length;
        }
        if (kept >= KEPT_RESPONSE_BYTES) done(true);
      });
      response.on('end', () => done(false));
      response.on('error', () => done(true));
    });
    request.end(body);
  });
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400)
    return `answered ${status} (a redirect; webhooks do not follow redirects)`;
  return `answered ${status}`;
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date), capped at a day; null when absent or unreadable. */
function retryAfter(header: string | undefined): number | null {
  if (!header) return null;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  return Math.min(Math.ceil(seconds), 86_400);
}
