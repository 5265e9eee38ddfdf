import { describe, expect, it } from 'vitest';
import { fingerprintRequest } from './idempotency.fingerprint.ts';

const post = (body: unknown, url = '/api/v1/posts') => fingerprintRequest({ method: 'POST', url, body });

describe('fingerprintRequest', () => {
  it('is the same for the same request, whatever the key order of its JSON', () => {
    expect(post({ accountId: 'a', items: [{ text: 'hi' }] })).toBe(
      post({ items: [{ text: 'hi' }], accountId: 'a' }),
    );
  });

  it('differs when the method, the path, the query or the body differs', () => {
    const base = post({ accountId: 'a', items: [{ text: 'hi' }] });
    expect(
      fingerprintRequest({
        method: 'PUT',
        url: '/api/v1/posts',
        body: { accountId: 'a', items: [{ text: 'hi' }] },
      }),
    ).not.toBe(base);
    expect(post({ accountId: 'a', items: [{ text: 'hi' }] }, '/api/v1/media')).not.toBe(base);
    expect(post({ accountId: 'a', items: [{ text: 'hi' }] }, '/api/v1/posts?wait=5')).not.toBe(base);
    expect(post({ accountId: 'a', items: [{ text: 'hi!' }] })).not.toBe(base);
    expect(post({ accountId: 'a', items: [{ text: 'hi' }, { text: 'hi' }] })).not.toBe(base);
  });

  it('tells apart values JSON would confuse with their string form', () => {
    expect(post({ n: 1 })).not.toBe(post({ n: '1' }));
    expect(post(undefined)).toBe(post(null));
    expect(post({})).not.toBe(post(null));
  });

  it('counts multipart files by content, not by file name or boundary, and fields by value', () => {
    const bytes = Buffer.from('GIF89a…');
    const upload = (content: Buffer, filename: string, altText: string) => {
      const body: Record<string, unknown> = {};
      body.file = {
        type: 'file',
        fieldname: 'file',
        filename,
        mimetype: 'image/gif',
        _buf: content,
        fields: body,
      };
      body.altText = { type: 'field', fieldname: 'altText', value: altText, fields: body };
      return post(body, '/api/v1/media');
    };
    expect(upload(bytes, 'a.gif', 'a cat')).toBe(upload(Buffer.from(bytes), 'renamed.gif', 'a cat'));
    expect(upload(bytes, 'a.gif', 'a cat')).not.toBe(upload(Buffer.from('GIF89b…'), 'a.gif', 'a cat'));
    expect(upload(bytes, 'a.gif', 'a cat')).not.toBe(upload(bytes, 'a.gif', 'a dog'));
  });

  it('uses the hash an upload handler computed instead of the bytes when the file was streamed', () => {
    const streamed = { file: { type: 'file', fieldname: 'file', sha256: 'ab'.repeat(32) } };
    expect(post(streamed, '/api/v1/media')).toBe(post(structuredClone(streamed), '/api/v1/media'));
    expect(() => post({ file: { type: 'file', fieldname: 'file' } }, '/api/v1/media')).toThrow();
  });
});
