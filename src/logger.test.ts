import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.ts';

function capture(format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('info', stream, format), text: () => lines.join('') };
}

describe('logger', () => {
  it('redacts credentials, cookies, tokens, secrets and codes', () => {
    const { log, text } = capture();
    log.info({
      req: { method: 'GET', url: '/auth/x/callback?code=CODE123&state=STATE456&x=1', headers: {} },
      headers: { authorization: 'Bearer xg_SECRETKEY', cookie: 'xgate_session=COOKIEVALUE' },
      token: { access_token: 'AT-VALUE', refresh_token: 'RT-VALUE' },
      pkce: { code_verifier: 'VERIFIER', codeVerifier: 'VERIFIER2' },
      client: { clientSecret: 'CS-VALUE', client_secret: 'CS2' },
      refreshToken: 'RT2',
    });
    const out = text();
    for (const secret of [
      'CODE123',
      'STATE456',
      'xg_SECRETKEY',
      'COOKIEVALUE',
      'AT-VALUE',
      'RT-VALUE',
      'VERIFIER',
      'CS-VALUE',
      'CS2',
      'RT2',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
    expect(out).toContain('x=1');
  });

  it('redacts only secret query parameters', () => {
    expect(redactUrl('/a?code=1&state=2&page=3')).toBe('/a?code=[redacted]&state=[redacted]&page=3');
    expect(redactUrl('/a')).toBe('/a');
  });

  it('prints readable lines in the pretty format: time, level, message, fields; still redacted', () => {
    const { log, text } = capture('pretty');
    log.info({ postId: 'p1', refreshToken: 'RT-SECRET' }, 'post published');
    const line = text().trim();
    expect(line).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: post published \{.*"postId":"p1"/);
    expect(line).not.toContain('RT-SECRET');
    expect(line.split('\n')).toHaveLength(1);
  });
});
