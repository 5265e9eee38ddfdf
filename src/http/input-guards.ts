import type { FastifyRequest } from 'fastify';
import { ValidationError } from '../errors/index.ts';
import type { FieldProblem } from './field-messages.ts';
import type { ZodFastify } from './types.ts';

/** Deepest nesting of arrays and objects a JSON body may have. xgate's own bodies need 4. */
export const MAX_JSON_DEPTH = 32;

/** Where `offset` falls in `text`, as people count: line and column from 1. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The first offset where nesting goes deeper than {@link MAX_JSON_DEPTH}, or -1. A linear scan that skips
 * strings, run before parsing: code that walks the parsed value (fingerprints, validation) may recurse.
 */
function tooDeepAt(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return -1;
}

/** 400 `invalid_json` saying where the body stops being JSON and why, in the parser's words. */
function invalidJson(text: string, error: SyntaxError): ValidationError {
  const position = /position (\d+)/.exec(error.message);
  const offset = position
    ? Number(position[1])
    : /end of (JSON|data)/i.test(error.message)
      ? text.length
      : null;
  const reason = error.message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
  if (offset === null) {
    return new ValidationError(`The request body is not valid JSON: ${reason}.`, undefined, 'invalid_json');
  }
  const { line, column } = lineAndColumn(text, offset);
  const hint = text.includes("'") ? ' (JSON strings and names take double quotes, not single quotes)' : '';
  return new ValidationError(
    `The request body is not valid JSON at line ${line}, column ${column} (byte offset ${offset}): ${reason}${hint}.`,
    { line, column, offset },
    'invalid_json',
  );
}

/**
 * Replaces the JSON body parser: Fastify's own (prototype-poisoning checks kept) behind a depth limit, with
 * errors that say where the body went wrong.
 */
export function installJsonParser(app: ZodFastify): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(
        new ValidationError(
          'The request body is empty but its content type says JSON: send a JSON object, or no content type.',
          undefined,
          'invalid_json',
        ),
        undefined,
      );
      return;
    }
    const deepAt = tooDeepAt(text);
    if (deepAt >= 0) {
      const { line, column } = lineAndColumn(text, deepAt);
      done(
        new ValidationError(
          `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep (at line ${line}, column ${column}); no xgate request needs more than a few.`,
          { line, column, offset: deepAt, limit: MAX_JSON_DEPTH },
          'json_too_deep',
        ),
        undefined,
      );
      return;
    }
    parse(request, text, (error, value) => {
      if (error === null) return done(null, value);
      // Fastify's parser says only that the JSON is invalid: parse again for where and why.
      try {
        JSON.parse(text);
      } catch (syntax) {
        if (syntax instanceof SyntaxError) return done(invalidJson(text, syntax), undefined);
      }
      done(
        new ValidationError(
          'The request body uses the key "__proto__" or "constructor", which xgate refuses.',
          undefined,
          'invalid_json',
        ),
        undefined,
      );
    });
  });
}

/** The path of the first string under `value` holding U+0000, or null (`value` is at most MAX_JSON_DEPTH deep). */
function nulPath(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key];
    const found = nulPath(child, [...path, key]);
    if (found) return found;
  }
  return null;
}

/**
 * Refuses U+0000 anywhere in the body, query or path with 400 `invalid_request` naming the field: SQLite would
 * store it and PostgreSQL refuses it, so it never reaches either.
 */
export function installNulGuard(app: ZodFastify): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const parts = [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const;
    for (const [where, value] of parts) {
      const path = nulPath(value);
      if (path === null) continue;
      const problem: FieldProblem = {
        in: where,
        field: path.join('.'),
        message: 'must not contain the NUL character (U+0000)',
      };
      const name = problem.field === '' ? `The ${where}` : `The field "${problem.field}" in the ${where}`;
      throw new ValidationError(
        `${name} contains the NUL character (U+0000), which xgate does not accept; remove it.`,
        [problem],
      );
    }
  });
}
