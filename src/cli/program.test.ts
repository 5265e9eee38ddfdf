import { describe, expect, it } from 'vitest';
import { parseClientOption } from './program.ts';

describe('--client', () => {
  it('parses confidential and public clients, with one or several redirect URIs', () => {
    expect(parseClientOption('app:s3cret:http://127.0.0.1:8080/auth/x/callback')).toEqual([
      { clientId: 'app', clientSecret: 's3cret', redirectUris: ['http://127.0.0.1:8080/auth/x/callback'] },
    ]);
    expect(parseClientOption('pub::https://a.example/cb,https://b.example/cb', [])).toEqual([
      { clientId: 'pub', clientSecret: null, redirectUris: ['https://a.example/cb', 'https://b.example/cb'] },
    ]);
  });

  it('accumulates repeated options', () => {
    const first = parseClientOption('a::http://x/cb');
    expect(parseClientOption('b::http://y/cb', first).map((c) => c.clientId)).toEqual(['a', 'b']);
  });

  it('refuses malformed values', () => {
    for (const value of ['only-id', ':secret:http://x/cb', 'id:secret', 'id:secret:', 'id::not a url']) {
      expect(() => parseClientOption(value), value).toThrow(/ID:SECRET:REDIRECT_URI/);
    }
  });
});
