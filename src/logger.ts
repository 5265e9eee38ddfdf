import pino, { type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/** Query parameters whose values never reach a log line (OAuth codes and state, tokens). */
const SECRET_QUERY_PARAMS = /^(code|state|code_verifier|token|access_token|refresh_token|client_secret)$/i;

/** Log paths that are replaced by `[redacted]`: credentials, cookies, tokens, secrets, OAuth codes. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  '*.authorization',
  '*.access_token',
  '*.refresh_token',
  '*.accessToken',
  '*.refreshToken',
  '*.code_verifier',
  '*.codeVerifier',
  '*.code',
  '*.secret',
  '*.secretKey',
  '*.clientSecret',
  '*.client_secret',
  '*.password',
  'access_token',
  'refresh_token',
  'accessToken',
  'refreshToken',
  'code_verifier',
  'codeVerifier',
  'clientSecret',
  'client_secret',
  'secretKey',
];

/** `/auth/x/callback?code=abc&state=xyz` → `/auth/x/callback?code=[redacted]&state=[redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_QUERY_PARAMS.test(name)) params.set(name, '[redacted]');
  }
  return `${url.slice(0, q)}?${params.toString().replaceAll('%5Bredacted%5D', '[redacted]')}`;
}

/** `json`: one JSON object per line (for machines); `pretty`: time, level, message and fields (for a terminal). */
export type LogFormat = 'json' | 'pretty';

/**
 * The service's logger. JSON lines by default; `pretty` formats them for people with pino-pretty (colours,
 * local time, one line per entry). `destination` lets tests capture lines.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  format: LogFormat = 'json',
): Logger {
  const output =
    format === 'pretty'
      ? pinoPretty({
          destination: destination ?? 1,
          sync: true,
          colorize: destination === undefined && process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service',
          singleLine: true,
        })
      : destination;
  return pino(
    {
      level,
      base: { service: 'xgate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        err: pino.stdSerializers.err,
        req: (req: { method?: string; url?: string; ip?: string; host?: string }) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          host: req.host,
          remoteAddress: req.ip,
        }),
      },
    },
    output,
  );
}
