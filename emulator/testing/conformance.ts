import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';

/**
 * X's OpenAPI spec v2.166 (the last with the classic names the live API uses), vendored in this repository:
 * `emulator/testing/x-openapi/` (its README says where it comes from and how to update it).
 */
export const SPEC_PATH = fileURLToPath(new URL('./x-openapi/x-openapi-2.166.json', import.meta.url));

const SPEC_ID = 'x-openapi';

/** Problem types are matched on the path suffix: X sends both hosts. */
const PROBLEM_HOSTS = ['https://api.x.com/2/problems/', 'https://api.twitter.com/2/problems/'];

interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, SpecResponse> }>>;
  components: { schemas: Record<string, { discriminator?: { mapping?: Record<string, string> } }> };
}

interface SpecResponse {
  content?: Record<string, { schema?: { $ref?: string } }>;
}

// ajv-formats is CommonJS: under NodeNext the default import is `module.exports`, whose `default` is the plugin.
const addFormats = (addFormatsModule as unknown as { default: FormatsPlugin }).default;

/** Validates bodies of the emulator's `/2/…` routes against X's spec. */
export class SpecValidator {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly problemMapping: Record<string, string>;

  constructor(private readonly spec: Spec) {
    // The spec uses OpenAPI keywords (discriminator, example) that are not JSON Schema: ignore them.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    for (const format of ['int32', 'int64', 'long', 'float', 'double', 'byte', 'binary', 'password']) {
      this.ajv.addFormat(format, true);
    }
    this.ajv.addSchema(withErrata(spec) as object, SPEC_ID);
    this.problemMapping = spec.components.schemas.Problem?.discriminator?.mapping ?? {};
  }

  private validatorFor(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `${SPEC_ID}${ref}` });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  private check(ref: string, value: unknown, where: string): string[] {
    const validate = this.validatorFor(ref);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `${where}${e.instancePath || '/'} ${e.message ?? 'is invalid'} (${ref.split('/').pop()}${e.schemaPath})`,
    );
  }

  /** The spec schema of a problem `type` (either host), or undefined when the spec does not know it. */
  private problemSchemaRef(type: unknown): string | undefined {
    if (typeof type !== 'string') return undefined;
    if (type === 'about:blank') return this.problemMapping[type];
    for (const host of PROBLEM_HOSTS) {
      if (type.startsWith(host)) return this.problemMapping[`${PROBLEM_HOSTS[1]}${type.slice(host.length)}`];
    }
    return undefined;
  }

  private checkProblem(problem: unknown, where: string): string[] {
    const type = (problem as { type?: unknown } | null)?.type;
    const ref = this.problemSchemaRef(type);
    if (ref === undefined) return [`${where}/type ${JSON.stringify(type)} is not a problem type of the spec`];
    return this.check(ref.slice(ref.indexOf('#')), problem, where);
  }

  /**
   * Every way `body` differs from the spec's answer of `method pathTemplate` with `status`; empty when
   * it conforms. `pathTemplate` may use `:id` or `{id}`. Success bodies are checked against the
   * operation's schema for that status; error bodies that are problems (`type` + `title`) against
   * Problem and the schema its `type` maps to; an errors-only body (e.g. a not-found lookup) against the
   * operation's success schema, as X sends it. Problems inside `errors[]` are checked by their type too.
   */
  validate(method: string, pathTemplate: string, status: number, body: unknown): string[] {
    const path = pathTemplate.replace(/:([A-Za-z_]+)/g, '{$1}');
    const operation = this.spec.paths[path]?.[method.toLowerCase()];
    if (operation === undefined) return [`the spec has no operation ${method.toUpperCase()} ${path}`];
    const successStatus = Object.keys(operation.responses).find((s) => /^2\d\d$/.test(s));
    const successRef = successStatus
      ? operation.responses[successStatus]?.content?.['application/json']?.schema?.$ref
      : undefined;
    const isProblem = body !== null && typeof body === 'object' && 'type' in body && 'title' in body;

    let errors: string[];
    if (isProblem) {
      errors = this.checkProblem(body, 'body');
    } else {
      const declared = operation.responses[String(status)]?.content?.['application/json']?.schema?.$ref;
      const ref = declared ?? (status >= 400 ? successRef : undefined);
      if (ref === undefined)
        return [`the spec has no JSON answer of ${method} ${path} with status ${status}`];
      errors = this.check(ref, body, 'body');
    }
    const items = isProblem ? undefined : (body as { errors?: unknown } | null)?.errors;
    if (Array.isArray(items)) {
      items.forEach((item, i) => {
        errors.push(...this.checkProblem(item, `body/errors/${i}`));
      });
    }
    return errors;
  }
}

/**
 * Corrections of the spec where it contradicts X's own documented answers (engineer B):
 * - `MediaUploadResponse` and `MediaUploadAppendResponse` list `meta` as required, but they declare no
 *   `meta` property and every documented media answer (docs.x.com media quickstart) is `{"data":{…}}`;
 * - `ProcessingInfo` requires a `type` it does not declare; documented `processing_info` objects are
 *   `{state, check_after_secs, progress_percent}`.
 */
function withErrata(spec: Spec): Spec {
  const copy = structuredClone(spec);
  const schemas = copy.components.schemas as Record<string, { required?: string[] }>;
  const drop = (name: string, field: string) => {
    const schema = schemas[name];
    if (schema?.required) schema.required = schema.required.filter((f) => f !== field);
  };
  drop('MediaUploadResponse', 'meta');
  drop('MediaUploadAppendResponse', 'meta');
  drop('ProcessingInfo', 'type');
  return copy;
}

// One parse of the 800 KB spec per test process, shared by every test file that asks.
let shared: SpecValidator | undefined;

/** The validator over `SPEC_PATH`, loaded on first use. */
export function specValidator(): SpecValidator {
  shared ??= new SpecValidator(JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec);
  return shared;
}

/**
 * Throws, listing each mismatch, unless `body` (a parsed JSON answer of `method pathTemplate` with
 * `status`) conforms to X's OpenAPI spec. Use it on every `/2/…` body a test receives.
 */
export function expectConformsToSpec(
  method: string,
  pathTemplate: string,
  status: number,
  body: unknown,
): void {
  const errors = specValidator().validate(method, pathTemplate, status, body);
  if (errors.length > 0) {
    throw new Error(
      `${method.toUpperCase()} ${pathTemplate} ${status} does not conform to X's OpenAPI spec:\n  ${errors.join('\n  ')}\nbody: ${JSON.stringify(body)}`,
    );
  }
}
