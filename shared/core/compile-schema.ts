/**
 * The zod schemas of what DAG authors write (strict, so typos such as `maxActiveTask` fail) and the
 * translation of zod issues into messages that name the field and say what to do.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { EXECUTORS, TRIGGER_RULES, WEIGHT_RULES } from './manifest.ts';

const duration = z.custom<number | string>((v) => parseDuration(v).ok, {
  message: 'must be a duration such as 30s, 5m, 2h, 1d or a number of milliseconds',
});
const dateInput = z.union([z.string(), z.number(), z.date()]);
const positiveInt = z.number().int().min(1, { message: 'must be a whole number ≥ 1' });

const taskOptionShape = {
  retries: z.number().int().min(0, { message: 'must be a whole number ≥ 0' }),
  retryDelay: duration,
  retryExponentialBackoff: z.boolean(),
  maxRetryDelay: duration.nullable(),
  executionTimeout: duration.nullable(),
  pool: z.string().min(1, { message: 'must name a pool' }),
  poolSlots: positiveInt,
  priorityWeight: z.number().int({ message: 'must be a whole number' }),
  weightRule: z.enum(WEIGHT_RULES, { message: `must be one of ${WEIGHT_RULES.join(', ')}` }),
  triggerRule: z.enum(TRIGGER_RULES, { message: `must be one of ${TRIGGER_RULES.join(', ')}` }),
  maxActiveTisPerDag: positiveInt,
  maxActiveTisPerDagrun: positiveInt,
  executor: z.enum(EXECUTORS, { message: `must be one of ${EXECUTORS.join(', ')}` }),
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
    scheduleStyle: z.enum(['interval', 'trigger']),
    startDate: dateInput,
    endDate: dateInput,
    catchup: z.boolean(),
    maxActiveRuns: positiveInt,
    maxActiveTasks: positiveInt,
    maxConsecutiveFailedDagRuns: z.number().int().min(0, { message: 'must be a whole number ≥ 0' }),
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
      invocationType: z.enum(['RequestResponse', 'Event']).optional(),
    })
    .strict(),
  http: z
    .object({
      url: z.url({ message: 'must be an absolute http(s) URL' }),
      method: z.string().optional(),
      headers: stringMap.optional(),
      body: z.unknown().optional(),
      expectStatus: z.array(z.number().int()).optional(),
    })
    .strict(),
  sensor: z.object({ pokeInterval: duration.optional(), timeout: duration.optional() }).strict(),
} as const;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const tmp = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The closest known name, when it is close enough to be a typo. */
function closest(name: string, known: string[]): string | null {
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

/** zod issues → `{ field, message }`, with unknown keys named and a "did you mean" when one is close. */
function issuesOf(error: z.ZodError, prefix: string, known: string[]): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const issue of error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const guess = closest(key, known);
        out.push({
          field: [path, key].filter(Boolean).join('.'),
          message: `unknown option${guess ? ` (did you mean ${guess}?)` : ''}`,
        });
      }
    } else {
      out.push({ field: path || prefix, message: issue.message });
    }
  }
  return out;
}

export { ConfigSchemas, DagOptionsSchema, DefaultArgsSchema, issuesOf, TaskOptionsSchema };
