/**
 * The zod schemas of what DAG authors write (strict, so typos such as `maxActiveTask` fail) and the
 * translation of zod issues into messages that name the field and say what to do.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { EXECUTORS, TRIGGER_RULES, WEIGHT_RULES } from './manifest.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const duration = z.custom<number | string>((v) => parseDuration(v).ok, {
  message: 'must be a duration such as 30s, 5m, 2h, 1d or a number of milliseconds',
});
const dateInput = z.union([z.string(), z.number(), z.date()], {
  error: 'must be an ISO-8601 date string (e.g. 2026-01-01 or 2026-01-01T06:00:00Z) or a Date',
});
const positiveInt = z.number().int().min(1, { message: 'must be a whole number ≥ 1' });
const nonNegativeInt = z.number().int().min(0, { message: 'must be a whole number ≥ 0' });
const oneOf = (values: readonly string[]) => ({ message: `must be one of ${values.join(', ')}` });

const taskOptionShape = {
  retries: nonNegativeInt,
  retryDelay: duration,
  retryExponentialBackoff: z.boolean(),
  maxRetryDelay: duration.nullable(),
  executionTimeout: duration.nullable(),
  pool: z.string().min(1, { message: 'must name a pool (default_pool unless set)' }),
  poolSlots: positiveInt,
  priorityWeight: z
    .number()
    .int()
    .min(INT32_MIN, { message: `must be ≥ ${INT32_MIN}` })
    .max(INT32_MAX, { message: `must be ≤ ${INT32_MAX}` }),
  weightRule: z.enum(WEIGHT_RULES, oneOf(WEIGHT_RULES)),
  triggerRule: z.enum(TRIGGER_RULES, oneOf(TRIGGER_RULES)),
  maxActiveTisPerDag: positiveInt,
  maxActiveTisPerDagrun: positiveInt,
  executor: z.enum(EXECUTORS, oneOf(EXECUTORS)),
  startDate: dateInput,
  endDate: dateInput,
  doc: z.string(),
};

const TaskOptionsSchema = z.object(taskOptionShape).partial().strict();
const DefaultArgsSchema = z.object(taskOptionShape).omit({ doc: true }).partial().strict();

const DagOptionsSchema = z
  .object({
    schedule: z.unknown(),
    timezone: z.string(),
    scheduleStyle: z.enum(['interval', 'trigger'], oneOf(['interval', 'trigger'])),
    startDate: dateInput,
    endDate: dateInput,
    catchup: z.boolean(),
    maxActiveRuns: positiveInt,
    maxActiveTasks: positiveInt,
    maxConsecutiveFailedDagRuns: nonNegativeInt,
    dagrunTimeout: duration.nullable(),
    pausedOnCreation: z.boolean(),
    tags: z.array(z.string()),
    params: z.record(z.string(), z.unknown()),
    description: z.string(),
    defaultArgs: DefaultArgsSchema,
  })
  .partial()
  .strict();

const stringMap = z.record(z.string(), z.string());

const ConfigSchemas = {
  function: z.object({}).strict(),
  empty: z.object({}).strict(),
  shell: z
    .object({
      command: z.string().min(1, { message: 'must not be empty' }),
      env: stringMap.optional(),
      cwd: z.string().optional(),
    })
    .strict(),
  container: z
    .object({
      image: z.string().min(1, { message: 'must name an image' }),
      command: z.array(z.string()).optional(),
      env: stringMap.optional(),
      cpu: positiveInt.optional(),
      memoryMiB: positiveInt.optional(),
    })
    .strict(),
  lambdaInvoke: z
    .object({
      functionName: z.string().min(1, { message: 'must name a function' }),
      payload: z.unknown().optional(),
      invocationType: z.enum(['RequestResponse', 'Event'], oneOf(['RequestResponse', 'Event'])).optional(),
    })
    .strict(),
  http: z
    .object({
      url: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }),
      method: z
        .string()
        .refine((m) => (HTTP_METHODS as readonly string[]).includes(m.toUpperCase()), oneOf(HTTP_METHODS))
        .optional(),
      headers: stringMap.optional(),
      body: z.unknown().optional(),
      expectStatus: z
        .array(z.number().int().min(100).max(599), { message: 'must list HTTP status codes (100-599)' })
        .optional(),
    })
    .strict(),
  sensor: z.object({ pokeInterval: duration.optional(), timeout: duration.optional() }).strict(),
} as const;

/** Edit distance counting a swap of two neighbouring letters as one edit; case is ignored. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i += 1) {
    for (let j = 1; j <= y.length; j += 1) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[x.length]![y.length]!;
}

/** The closest known name, when it is close enough to be a typo. */
function closest(name: string, known: readonly string[]): string | null {
  const snake = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (snake !== name && known.includes(snake)) return snake;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

const EXPECTED: Record<string, string> = {
  boolean: 'must be true or false',
  string: 'must be a string',
  number: 'must be a number',
  int: 'must be a whole number',
  array: 'must be an array',
  object: 'must be an object',
  record: 'must be an object',
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  return typeof value === 'string'
    ? `the string ${JSON.stringify(value)}`
    : `${typeof value} ${String(value)}`;
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** zod issues of one value at `field` → messages that say what is expected and what was given. */
function messagesOf(error: z.ZodError, input: unknown, field: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const at = [field, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'invalid_type' && EXPECTED[issue.expected]) {
      const value = valueAt(input, issue.path);
      const expected = EXPECTED[issue.expected]!;
      return {
        field: at,
        message:
          value === undefined
            ? `is required (${expected.replace('must be ', '')})`
            : `${expected}, got ${describeType(value)}`,
      };
    }
    return { field: at, message: issue.message };
  });
}

/**
 * Parses an options object field by field against a shape of optional schemas, so one bad field
 * neither hides the others' problems nor their values. Unknown keys are named with a "did you
 * mean" when one is close (typos such as `maxActiveTask` fail).
 */
function parseFields<S extends Record<string, z.ZodType>>(
  shape: S,
  raw: Record<string, unknown>,
  prefix: string,
): { data: Partial<{ [K in keyof S]: z.output<S[K]> }>; issues: FieldIssue[] } {
  const data: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  const known = Object.keys(shape);
  const field = (key: string) => (prefix === '' ? key : `${prefix}.${key}`);
  for (const [key, value] of Object.entries(raw)) {
    const schema = shape[key];
    if (!schema) {
      const guess = closest(key, known);
      issues.push({
        field: field(key),
        message: `unknown option${guess ? ` (did you mean ${guess}?)` : ''}`,
      });
      continue;
    }
    if (value === undefined) continue;
    const parsed = schema.safeParse(value);
    if (parsed.success) data[key] = parsed.data;
    else issues.push(...messagesOf(parsed.error, value, field(key)));
  }
  for (const key of requiredKeys(shape)) {
    if (raw[key] === undefined)
      issues.push(...messagesOf(shape[key]!.safeParse(undefined).error!, undefined, field(key)));
  }
  return { data: data as Partial<{ [K in keyof S]: z.output<S[K]> }>, issues };
}

const required = new WeakMap<object, string[]>();

/** Keys of a shape whose schema rejects undefined, computed once per shape. */
function requiredKeys(shape: Record<string, z.ZodType>): string[] {
  let keys = required.get(shape);
  if (!keys) {
    keys = Object.keys(shape).filter((key) => !shape[key]!.safeParse(undefined).success);
    required.set(shape, keys);
  }
  return keys;
}

type JsonProblem = { path: string; message: string } | null;

const child = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`);

/** Where a value is not plain JSON (what manifests, params and payloads must be), and why; null when it is. */
function jsonProblem(value: unknown, path = '', ancestors: Set<object> = new Set()): JsonProblem {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number')
    return Number.isFinite(value) ? null : { path, message: `must be JSON, got ${value}` };
  if (typeof value !== 'object') return { path, message: `must be JSON, got a ${typeof value}` };
  if (ancestors.has(value)) return { path, message: 'must be JSON, got an object that contains itself' };
  ancestors.add(value);
  const problem = containerProblem(value, path, ancestors);
  ancestors.delete(value);
  return problem;
}

function containerProblem(value: object, path: string, ancestors: Set<object>): JsonProblem {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const problem = jsonProblem(value[i], child(path, i), ancestors);
      if (problem) return problem;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const what = value instanceof Date ? 'a Date (use date.toISOString())' : 'a class instance';
    return { path, message: `must be JSON, got ${what}` };
  }
  for (const [key, item] of Object.entries(value)) {
    const problem = jsonProblem(item, child(path, key), ancestors);
    if (problem) return problem;
  }
  return null;
}

export { ConfigSchemas, DagOptionsSchema, DefaultArgsSchema, jsonProblem, parseFields, TaskOptionsSchema };
