/**
 * One error mapper for the whole API: every failure leaves as `{ error, message, field? }` with the
 * status its kind calls for. A user mistake names the field and the reason; an unexpected error is
 * logged and leaves as a bare 500 (internals never reach the client).
 */
import type { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ConflictError, InputError, NotFoundError } from '#core/errors.ts';
import type { Logger } from '#ports';
import type { ErrorBody } from './schemas/common.ts';

type Body = z.infer<typeof ErrorBody>;
type Status = 400 | 401 | 404 | 409 | 500;

/** The request part a validation issue is in, as a field prefix (path and query names are unique). */
function fieldOf(path: readonly PropertyKey[], keys?: readonly string[]): string {
  const parts = path.map(String);
  if (keys && keys.length > 0) parts.push(keys[0]!);
  return parts.length > 0 ? parts.join('.') : 'body';
}

/** A zod error as a 400: the first issue names the field; every issue is listed. */
function validationBody(error: z.ZodError, target: string): Body {
  const issues = error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    const field = fieldOf(issue.path, keys);
    const message =
      issue.code === 'unrecognized_keys'
        ? `is not a field of this request${keys && keys.length > 1 ? ` (nor ${keys.slice(1).join(', ')})` : ''}`
        : issue.message;
    return { field, message };
  });
  const first = issues[0] ?? { field: target === 'json' ? 'body' : target, message: 'is invalid' };
  return {
    error: 'bad_request',
    message: `${first.field}: ${first.message}`,
    field: first.field,
    ...(issues.length > 1 && { issues }),
  };
}

function errorBody(err: unknown, logger: Logger): { status: Status; body: Body } {
  if (err instanceof InputError) {
    return { status: 400, body: { error: 'bad_request', message: err.message, field: err.field } };
  }
  if (err instanceof NotFoundError)
    return { status: 404, body: { error: 'not_found', message: err.message } };
  if (err instanceof ConflictError) return { status: 409, body: { error: 'conflict', message: err.message } };
  if (err instanceof HTTPException) {
    if (err.status === 401) return { status: 401, body: { error: 'unauthorized', message: err.message } };
    if (err.status === 404) return { status: 404, body: { error: 'not_found', message: err.message } };
    if (err.status < 500) {
      // Hono's own refusals: malformed JSON, a body that is not JSON.
      const message = /json/i.test(err.message) ? 'is not valid JSON' : err.message || 'is not acceptable';
      return { status: 400, body: { error: 'bad_request', message: `body: ${message}`, field: 'body' } };
    }
  }
  logger.error('request failed', {
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  return { status: 500, body: { error: 'internal', message: 'internal error (logged on the server)' } };
}

function sendError(c: Context, err: unknown, logger: Logger): Response {
  const { status, body } = errorBody(err, logger);
  return c.json(body, status);
}

export { errorBody, sendError, validationBody };
