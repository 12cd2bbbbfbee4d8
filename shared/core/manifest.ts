/**
 * The serialized DAG: the only thing the scheduler and the workers read about a DAG.
 * `compileDag` (shared/core/compile.ts) produces it from what a DAG author wrote with the SDK;
 * its content hash is the DAG version. Durations are milliseconds, instants are epoch milliseconds.
 */
import { z } from 'zod';

export const MANIFEST_VERSION = 1;

export const WEIGHT_RULES = ['downstream', 'upstream', 'absolute'] as const;
export type WeightRule = (typeof WEIGHT_RULES)[number];

export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'all_skipped',
  'one_success',
  'one_failed',
  'one_done',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const EXECUTORS = ['lambda', 'fargate'] as const;
export type ExecutorKind = (typeof EXECUTORS)[number];

export const TASK_KINDS = [
  'function',
  'shell',
  'container',
  'lambdaInvoke',
  'http',
  'empty',
  'sensor',
] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/**
 * A schedule, normalized. `cron` covers presets too (`@daily` → `0 0 * * *`).
 * `style: 'interval'` (default) is Airflow's CronDataIntervalTimetable: a run covers [start, end),
 * logical date = start, created at end. `style: 'trigger'` is CronTriggerTimetable: logical date = fire time.
 */
export const ScheduleSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('once') }).strict(),
  z
    .object({
      kind: z.literal('cron'),
      expression: z.string(),
      timezone: z.string(),
      style: z.enum(['interval', 'trigger']),
    })
    .strict(),
  z.object({ kind: z.literal('interval'), everyMs: z.number().int().positive() }).strict(),
]);
export type ScheduleSpec = z.infer<typeof ScheduleSpec>;

/** What a task does, per kind. Function tasks are looked up by taskId in the DAG bundle at run time. */
export const Operator = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('function') }).strict(),
  z.object({ kind: z.literal('empty') }).strict(),
  z
    .object({
      kind: z.literal('shell'),
      command: z.string(),
      env: z.record(z.string(), z.string()).optional(),
      cwd: z.string().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('container'),
      image: z.string(),
      command: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      cpu: z.number().int().positive().optional(),
      memoryMiB: z.number().int().positive().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('lambdaInvoke'),
      functionName: z.string(),
      payload: z.unknown().optional(),
      invocationType: z.enum(['RequestResponse', 'Event']),
    })
    .strict(),
  z
    .object({
      kind: z.literal('http'),
      url: z.string(),
      method: z.string(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
      expectStatus: z.array(z.number().int()).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('sensor'),
      /** Time between pokes; between them the task instance is up_for_reschedule and holds no slot. */
      pokeIntervalMs: z.number().int().positive(),
      /** Total time the sensor may wait, measured from its first poke. */
      timeoutMs: z.number().int().positive(),
      /** Sensors in Updraft always run in reschedule mode. */
      mode: z.literal('reschedule'),
    })
    .strict(),
]);
export type Operator = z.infer<typeof Operator>;

export const TaskManifest = z
  .object({
    taskId: z.string(),
    operator: Operator,
    /** Direct upstream task ids, sorted. */
    upstream: z.array(z.string()),
    /** Direct downstream task ids, sorted. */
    downstream: z.array(z.string()),
    retries: z.number().int().nonnegative(),
    retryDelayMs: z.number().int().nonnegative(),
    retryExponentialBackoff: z.boolean(),
    maxRetryDelayMs: z.number().int().nonnegative().nullable(),
    executionTimeoutMs: z.number().int().positive().nullable(),
    pool: z.string(),
    poolSlots: z.number().int().positive(),
    priorityWeight: z.number().int(),
    weightRule: z.enum(WEIGHT_RULES),
    /** The effective weight per `weightRule`, computed at compile time (SEMANTICS.md §5). */
    priorityWeightTotal: z.number().int(),
    triggerRule: z.enum(TRIGGER_RULES),
    maxActiveTisPerDag: z.number().int().positive().nullable(),
    maxActiveTisPerDagrun: z.number().int().positive().nullable(),
    executor: z.enum(EXECUTORS),
    /** Task-level start/end dates (epoch ms): a run outside them gets no instance of this task. */
    startDate: z.number().int().nullable(),
    endDate: z.number().int().nullable(),
    /** Callbacks are functions in the bundle; the manifest records only that they exist. */
    callbacks: z.array(z.enum(['onSuccess', 'onFailure', 'onRetry'])),
    doc: z.string().nullable(),
  })
  .strict();
export type TaskManifest = z.infer<typeof TaskManifest>;

export const DagManifest = z
  .object({
    manifestVersion: z.literal(MANIFEST_VERSION),
    dagId: z.string(),
    description: z.string().nullable(),
    schedule: ScheduleSpec,
    /** IANA zone the schedule and dates are read in. */
    timezone: z.string(),
    startDate: z.number().int().nullable(),
    endDate: z.number().int().nullable(),
    catchup: z.boolean(),
    maxActiveRuns: z.number().int().positive(),
    maxActiveTasks: z.number().int().positive(),
    maxConsecutiveFailedDagRuns: z.number().int().nonnegative(),
    dagrunTimeoutMs: z.number().int().positive().nullable(),
    isPausedUponCreation: z.boolean(),
    tags: z.array(z.string()),
    params: z.record(z.string(), z.unknown()),
    callbacks: z.array(z.enum(['onSuccess', 'onFailure'])),
    /** Tasks sorted topologically (ties by taskId), so iteration order is deterministic. */
    tasks: z.array(TaskManifest),
    /** Content hash of everything above: the DAG version. */
    hash: z.string(),
  })
  .strict();
export type DagManifest = z.infer<typeof DagManifest>;

/** Tasks by id per manifest object: manifests are immutable once compiled or read (one per version). */
const taskIndexes = new WeakMap<DagManifest, Map<string, TaskManifest>>();

function taskOf(manifest: DagManifest, taskId: string): TaskManifest {
  let index = taskIndexes.get(manifest);
  if (!index || index.size !== manifest.tasks.length) {
    index = new Map(manifest.tasks.map((t) => [t.taskId, t]));
    taskIndexes.set(manifest, index);
  }
  const task = index.get(taskId);
  if (!task) throw new Error(`DAG ${manifest.dagId} has no task ${taskId}`);
  return task;
}

export { taskOf };
