import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Checks answers of the service against its own OpenAPI document (docs/openapi.json): the status must be one the
 * operation declares, and a JSON body must match the declared schema. The integration tests' HTTP client runs
 * every answer through it, so the document cannot drift from what the service does.
 */
interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

const DOCUMENT = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'),
) as {
  paths: Record<string, Record<string, Operation['responses'] extends infer R ? { responses: R } : never>>;
};

const operations: Operation[] = Object.entries(DOCUMENT.paths).flatMap(([template, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    method: method.toUpperCase(),
    template,
    // Literal segments win over parameters: more literal characters first.
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    responses: operation.responses,
  })),
);
operations.sort(
  (a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length,
);

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<unknown, ValidateFunction>();

/** Why the answer breaks the document, or null when it keeps to it (or the route is not in the document). */
export function openApiViolation(method: string, url: string, status: number, body: unknown): string | null {
  const path = new URL(url).pathname;
  const operation = operations.find(
    (o) => o.method === method && o.pattern.test(decodeURIComponentSafe(path)),
  );
  if (!operation) return null;
  const declared = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
  if (!declared) {
    return `${method} ${operation.template} answered ${status}, which the OpenAPI document does not declare (declared: ${Object.keys(operation.responses).join(', ')})`;
  }
  const schema = declared.content?.['application/json']?.schema;
  if (schema === undefined || body === undefined) return null;
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema as object);
    validators.set(schema, validate);
  }
  if (validate(body)) return null;
  return `${method} ${operation.template} ${status}: the body does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`;
}

function decodeURIComponentSafe(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
