/**
 * Wire shapes shared by every resource. The same zod schemas validate requests and generate the
 * OpenAPI document (`/api/openapi.json`), so the document cannot drift from what the API accepts.
 *
 * Instants travel as ISO 8601 strings in UTC (`2026-01-05T00:00:00.000Z`); durations as milliseconds.
 */
import { z } from '@hono/zod-openapi';

/** Ids of DAGs, tasks and pools (as the DAG compiler checks them). */
const ID = /^[A-Za-z0-9_.-]{1,250}$/;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An instant in a request: a date-time with a zone, or a date (midnight UTC); parsed to epoch ms. */
const InstantInput = z
  .string()
  .refine((s) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO 8601 date-time with a zone (2026-01-05T00:00:00Z) or a date (2026-01-05)',
  })
  .transform((s) => Date.parse(s))
  .openapi({ type: 'string', format: 'date-time', example: '2026-01-05T00:00:00Z' });

const Instant = z.string().openapi({ format: 'date-time', example: '2026-01-05T00:00:00.000Z' });
const NullableInstant = Instant.nullable();

function iso(t: number): string;
function iso(t: number | null): string | null;
function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

const IdParam = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .openapi({ param: { name, in: 'path' }, description });

const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ description: 'Items per page (1–1000).', example: 100 }),
  cursor: z
    .string()
    .min(1)
    .optional()
    .openapi({ description: 'The `next` value of the previous page; omit for the first page.' }),
});

/** `{ items, next }`: `next` is the cursor of the following page, null on the last one. */
function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      next: z.string().nullable().openapi({ description: 'Cursor of the next page; null on the last page.' }),
    })
    .openapi(name);
}

const ErrorBody = z
  .object({
    error: z.enum(['bad_request', 'unauthorized', 'not_found', 'conflict', 'internal']),
    message: z.string().openapi({ example: 'from: must not be after to' }),
    field: z
      .string()
      .optional()
      .openapi({ description: 'The request field at fault (400 only).', example: 'from' }),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Every problem found, when there is more than one.' }),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

const errors = {
  400: errorResponse('Bad request: the field at fault and why'),
  401: errorResponse('Missing or wrong credentials'),
  404: errorResponse('Unknown id'),
  409: errorResponse('Conflicts with the current state; nothing changed'),
};

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  required,
  content: { 'application/json': { schema } },
});

const JsonObject = z.record(z.string(), z.unknown()).openapi({ type: 'object', additionalProperties: true });

export {
  ErrorBody,
  errors,
  ID,
  IdParam,
  Instant,
  InstantInput,
  iso,
  JsonObject,
  json,
  jsonBody,
  NullableInstant,
  PageQuery,
  pageOf,
};
