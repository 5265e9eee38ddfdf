import type { FastifyRequest } from 'fastify';
import { HEAD_BYTES } from './sniff.ts';

/** The bytes of an upload as the emulator keeps them: the first few KB and the total size, never the file. */
export interface Payload {
  head: Buffer;
  size: number;
}

/** A media request's fields (query string, then body, the body winning) and its bytes, if any. */
export interface UploadBody {
  fields: Record<string, unknown>;
  payload: Payload | null;
  /** A base64 payload had characters outside the base64 alphabet. */
  badBase64: boolean;
}

/** Multipart part names that carry the bytes: `media` (v2) and `media_data` (base64, legacy form). */
const BINARY_FIELD = 'media';
const BASE64_FIELD = 'media_data';

/**
 * Reads a media request body of any form X accepts: multipart (the bytes streamed through, keeping
 * `HEAD_BYTES`), JSON with base64 `media`, or a url-encoded legacy form with base64 `media_data`.
 */
export async function readUploadBody(req: FastifyRequest): Promise<UploadBody> {
  const fields: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
  let payload: Payload | null = null;
  let badBase64 = false;
  const takeBase64 = (value: unknown) => {
    if (typeof value !== 'string') return;
    const decoded = base64Payload(value);
    if (decoded === null) badBase64 = true;
    else payload = decoded;
  };

  if (req.isMultipart()) {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname === BINARY_FIELD || part.fieldname === BASE64_FIELD) {
          payload = await streamPayload(part.file);
        } else {
          part.file.resume();
        }
      } else if (part.fieldname === BASE64_FIELD || part.fieldname === BINARY_FIELD) {
        takeBase64(part.value);
      } else {
        fields[part.fieldname] = part.value;
      }
    }
    return { fields, payload, badBase64 };
  }

  const body = req.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const [name, value] of Object.entries(body)) {
      if (name === BINARY_FIELD || name === BASE64_FIELD) takeBase64(value);
      else fields[name] = value;
    }
  }
  return { fields, payload, badBase64 };
}

async function streamPayload(stream: AsyncIterable<Buffer>): Promise<Payload> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (keptBytes < HEAD_BYTES) {
      const piece = chunk.subarray(0, HEAD_BYTES - keptBytes);
      kept.push(Buffer.from(piece));
      keptBytes += piece.length;
    }
  }
  return { head: Buffer.concat(kept), size };
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** Size and head of a base64 text without decoding all of it; null when it is not base64. */
export function base64Payload(text: string): Payload | null {
  if (!BASE64.test(text)) return null;
  const compact = text.includes('\n') || text.includes('\r') ? text.replace(/\s+/g, '') : text.trimEnd();
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  const size = Math.floor((compact.length * 3) / 4) - padding;
  const head = Buffer.from(compact.slice(0, Math.ceil(HEAD_BYTES / 3) * 4), 'base64').subarray(0, HEAD_BYTES);
  return { head, size };
}
