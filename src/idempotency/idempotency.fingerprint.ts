import { createHash } from 'node:crypto';

/** What identifies a request for the purpose of an Idempotency-Key: same fingerprint = same request. */
export interface FingerprintInput {
  method: string;
  /** Path and query string as sent (`/api/v1/posts?wait=5`): a different query is a different request. */
  url: string;
  /**
   * The parsed body before validation: JSON as parsed, or multipart fields as `@fastify/multipart`
   * attaches them. Files count by their content's sha256, so a retried upload with a new multipart
   * boundary (or file name) has the same fingerprint.
   */
  body: unknown;
}

/**
 * sha256 hex of method, URL and a canonical form of the body: object keys sorted, so a client that
 * re-serialises the same JSON with another key order still matches; files and buffers replaced by the
 * sha256 of their bytes.
 */
export function fingerprintRequest(input: FingerprintInput): string {
  return createHash('sha256')
    .update(input.method.toUpperCase())
    .update('\n')
    .update(input.url)
    .update('\n')
    .update(JSON.stringify(canonical(input.body)) ?? 'null')
    .digest('hex');
}

/** `@fastify/multipart` file part (with `attachFieldsToBody`); its `fields` points back at the whole body. */
interface MultipartFile {
  type: 'file';
  _buf?: Buffer | null;
  /** Set by an `onFile` handler that hashed the file while storing it instead of buffering it. */
  sha256?: string;
}

interface MultipartField {
  type: 'field';
  value: unknown;
}

function isMultipartFile(value: object): value is MultipartFile {
  return (value as { type?: unknown }).type === 'file' && 'fieldname' in value;
}

function isMultipartField(value: object): value is MultipartField {
  return (value as { type?: unknown }).type === 'field' && 'fieldname' in value && 'value' in value;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return { $sha256: sha256(value) };
  if (Array.isArray(value)) return value.map(canonical);
  if (isMultipartFile(value)) {
    if (typeof value.sha256 === 'string') return { $sha256: value.sha256 };
    if (value._buf) return { $sha256: sha256(value._buf) };
    // A streamed part nobody buffered or hashed: a fingerprint without its content could match another file.
    throw new Error('Cannot fingerprint a multipart file that was neither buffered nor hashed.');
  }
  if (isMultipartField(value)) return canonical(value.value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry !== undefined) out[key] = canonical(entry);
  }
  return out;
}
