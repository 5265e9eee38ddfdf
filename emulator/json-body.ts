import type { InvalidParameter } from './problems.ts';

/**
 * The subset of JSON Schema that X's request bodies use, checked the way X checks them: X validates
 * bodies with a JSON-schema validator and reports each failure as `{parameters: {"$.path": [value as
 * JSON]}, message: "$.path: <reason>"}` (e.g. `"$.reply.in_reply_to_tweet_id: does not match the regex
 * pattern ^[0-9]{1,19}$"`, `"$.media.media_ids: there must be a maximum of 4 items in the array"`).
 */
export type BodySchema =
  | { type: 'string'; pattern?: RegExp; enum?: readonly string[]; minLength?: number; maxLength?: number }
  | { type: 'integer'; minimum?: number; maximum?: number }
  | { type: 'boolean' }
  | { type: 'array'; items: BodySchema; minItems?: number; maxItems?: number }
  | {
      type: 'object';
      properties: Record<string, BodySchema>;
      required?: readonly string[];
      strict?: boolean;
    };

/** X's id pattern (`TweetId`, `UserId`, `MediaId`). */
export const ID_PATTERN = /^[0-9]{1,19}$/;

/** Every way `value` breaks `schema`, in X's format; empty when it conforms. */
export function checkBody(value: unknown, schema: BodySchema, path = '$'): InvalidParameter[] {
  const errors: InvalidParameter[] = [];
  check(value, schema, path, errors);
  return errors;
}

function check(value: unknown, schema: BodySchema, path: string, errors: InvalidParameter[]): void {
  const found = jsonType(value);
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') {
        fail(errors, path, value, `${found} found, string expected`);
        return;
      }
      if (schema.minLength !== undefined && [...value].length < schema.minLength) {
        fail(errors, path, value, `must be at least ${schema.minLength} characters long`);
      }
      if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
        fail(errors, path, value, `may only be ${schema.maxLength} characters long`);
      }
      if (schema.pattern && !schema.pattern.test(value)) {
        fail(errors, path, value, `does not match the regex pattern ${schema.pattern.source}`);
      }
      if (schema.enum && !schema.enum.includes(value)) {
        fail(errors, path, value, `does not have a value in the enumeration [${schema.enum.join(', ')}]`);
      }
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        fail(errors, path, value, `${found} found, integer expected`);
        return;
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        fail(errors, path, value, `must have a minimum value of ${schema.minimum}`);
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        fail(errors, path, value, `must have a maximum value of ${schema.maximum}`);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(errors, path, value, `${found} found, boolean expected`);
      return;
    case 'array':
      if (!Array.isArray(value)) {
        fail(errors, path, value, `${found} found, array expected`);
        return;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        fail(errors, path, value, `there must be a minimum of ${schema.minItems} items in the array`);
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        fail(errors, path, value, `there must be a maximum of ${schema.maxItems} items in the array`);
      }
      for (const [i, item] of value.entries()) check(item, schema.items, `${path}[${i}]`, errors);
      return;
    case 'object': {
      if (found !== 'object') {
        fail(errors, path, value, `${found} found, object expected`);
        return;
      }
      const object = value as Record<string, unknown>;
      for (const name of schema.required ?? []) {
        if (!(name in object)) {
          errors.push({
            parameters: { [`${path}.${name}`]: [] },
            message: `${path}.${name}: is missing but it is required`,
          });
        }
      }
      for (const [name, item] of Object.entries(object)) {
        const property = schema.properties[name];
        if (property) check(item, property, `${path}.${name}`, errors);
        else if (schema.strict !== false) {
          errors.push({
            parameters: { [`${path}.${name}`]: [JSON.stringify(item) ?? 'null'] },
            message: `${path}.${name}: is not defined in the schema and the schema does not allow additional properties`,
          });
        }
      }
      return;
    }
  }
}

function fail(errors: InvalidParameter[], path: string, value: unknown, reason: string): void {
  errors.push({ parameters: { [path]: [JSON.stringify(value) ?? 'null'] }, message: `${path}: ${reason}` });
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
