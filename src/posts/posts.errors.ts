import { AppError, type DomainErrorCode } from '../errors/index.ts';

/**
 * 422: the post breaks a rule X or xgate would enforce (text length, media mix, schedule, budget…).
 * `details` names the item index (0-based) and the field, e.g. `{item: 1, field: "text", …}`.
 */
export class PostRuleError extends AppError {
  constructor(
    code: DomainErrorCode<'posts'> | DomainErrorCode<'schedule'>,
    message: string,
    details: Record<string, unknown>,
  ) {
    super(422, code, message, { details });
  }
}

/** 404 naming the field that pointed at something the user does not own (or that does not exist). */
export class ReferenceNotFoundError extends AppError {
  constructor(
    code: 'account_not_found' | 'media_not_found',
    message: string,
    details: Record<string, unknown>,
  ) {
    super(404, code, message, { details });
  }
}
