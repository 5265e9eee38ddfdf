import type { z } from 'zod';

/** A refused control call: a stable `code`, an HTTP status and a sentence saying what to fix. */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** Parses `input` with `schema` or throws a ControlError naming every bad field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return `${where}${issue.message}`;
  });
  throw new ControlError('invalid_request', `Invalid ${what}: ${problems.join('; ')}.`);
}
