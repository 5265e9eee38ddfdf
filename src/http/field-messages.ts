import type { FastifyError, FastifyRequest } from 'fastify';

/** One invalid field, as listed in `details` of a 400 `invalid_request`. */
export interface FieldProblem {
  /** `body`, `querystring`, `params` or `headers`. */
  in: string;
  /** Dotted path inside it, e.g. `items.0.text`; empty for the whole part. */
  field: string;
  /** What is wrong and what is expected, in words; starts with the field's name. */
  message: string;
}

/** The shape of one entry of `error.validation` (fastify-type-provider-zod: a zod issue). */
interface ValidationEntry {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** The little of a zod 4 schema this module reads: its kind, its parts and its description. */
interface SchemaNode {
  description?: string;
  def?: {
    type?: string;
    shape?: Record<string, SchemaNode>;
    element?: SchemaNode;
    innerType?: SchemaNode;
    in?: SchemaNode;
  };
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** The description of the schema at `path` under `root` (the nearest one given on the way in), if any. */
function describedAt(root: unknown, path: string[]): string | undefined {
  let node = root as SchemaNode | undefined;
  let description: string | undefined;
  const take = () => {
    while (node?.def) {
      description = node.description ?? description;
      const { type } = node.def;
      if (type !== undefined && WRAPPERS.has(type)) node = node.def.innerType;
      else if (type === 'pipe') node = node.def.in;
      else break;
    }
  };
  take();
  for (const key of path) {
    description = undefined;
    if (node?.def?.type === 'object') node = node.def.shape?.[key];
    else if (node?.def?.type === 'array') node = node.def.element;
    else return undefined;
    take();
  }
  return node?.description ?? description;
}

/** The request's value at `path` (to tell a missing field from a wrong one). */
function valueAt(data: unknown, path: string[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list (JSON array)',
  object: 'an object',
};

const UNITS: Record<string, [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
  file: ['byte', 'bytes'],
};

function bound(params: Record<string, unknown>, side: 'at most' | 'at least'): string {
  const limit = Number(side === 'at most' ? params.maximum : params.minimum);
  const origin = String(params.origin ?? '');
  const unit = UNITS[origin];
  if (unit) return `${side} ${limit.toLocaleString('en-US')} ${limit === 1 ? unit[0] : unit[1]}`;
  const inclusive = params.inclusive !== false;
  if (side === 'at most') return inclusive ? `at most ${limit}` : `less than ${limit}`;
  return inclusive ? `at least ${limit}` : `more than ${limit}`;
}

/** A description as the end of a sentence: "The id…" → "the id…", without its final period. */
function tail(description: string | undefined): string {
  if (!description) return '';
  const text = description.replace(/\.\s*$/, '');
  return `: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

/** One sentence for one zod issue: which field, what it expects, and (from the schema) what it is for. */
function sentence(
  entry: ValidationEntry,
  name: string,
  present: boolean,
  description: string | undefined,
): string {
  const params = entry.params ?? {};
  const what = tail(description);
  // Messages written in a schema (`.min(1, 'must not be empty')`) are predicates in lower case: keep them.
  if (entry.message && /^[a-z]/.test(entry.message)) return `${name} ${entry.message}.`;
  switch (entry.keyword) {
    case 'invalid_type': {
      if (!present) return `${name} is required${what}.`;
      const expected = TYPE_WORDS[String(params.expected)] ?? String(params.expected);
      return `${name} must be ${expected}${what}.`;
    }
    case 'too_big':
      return `${name} is too ${params.origin === 'number' ? 'large' : 'long'}: ${bound(params, 'at most')}${what}.`;
    case 'too_small':
      return params.origin === 'string' && Number(params.minimum) === 1
        ? `${name} must not be empty${what}.`
        : `${name} is too ${params.origin === 'number' ? 'small' : 'short'}: ${bound(params, 'at least')}${what}.`;
    case 'invalid_value': {
      const values = (params.values as unknown[] | undefined)?.map((v) => JSON.stringify(v)).join(', ');
      return `${name} must be one of ${values}${what}.`;
    }
    case 'unrecognized_keys': {
      const keys = (params.keys as string[] | undefined) ?? [];
      const list = keys.map((k) => `"${k}"`).join(', ');
      return `${list} ${keys.length === 1 ? 'is not a field' : 'are not fields'} of ${name === 'The request' ? 'this request' : name}; check the spelling against the API reference (/docs).`;
    }
    case 'invalid_format':
      return `${name} is not ${params.format === 'url' ? 'a URL' : `a valid ${String(params.format)}`}${what}.`;
    default:
      return `${name} is invalid${what}.`;
  }
}

/**
 * The field problems of a schema validation error, each with a sentence made here from the issue and the route's
 * schema (its `.describe()` says what the field is for), so every route gets the same good messages.
 */
export function fieldProblems(error: FastifyError, request: FastifyRequest): FieldProblem[] {
  const where = error.validationContext ?? 'body';
  const data = where === 'querystring' ? request.query : where === 'params' ? request.params : request.body;
  const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[where];
  return ((error.validation ?? []) as ValidationEntry[]).map((entry) => {
    const path = entry.instancePath.split('/').filter((p) => p !== '');
    const field = path.join('.');
    const name = field === '' ? 'The request' : `\`${field}\``;
    const isKeyProblem = entry.keyword === 'unrecognized_keys';
    const message = sentence(
      entry,
      name,
      isKeyProblem || valueAt(data, path) !== undefined,
      isKeyProblem ? undefined : describedAt(schema, path),
    );
    return { in: where, field, message };
  });
}

/** The whole answer's message: the first problem, and how many more there are. */
export function describeProblems(problems: FieldProblem[]): string {
  const first = problems[0];
  if (!first) return 'The request is invalid.';
  const more = problems.length - 1;
  return more > 0
    ? `${first.message} (And ${more} more problem${more > 1 ? 's' : ''}: see details.)`
    : first.message;
}
