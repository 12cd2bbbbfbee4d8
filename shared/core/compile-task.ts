/**
 * One task of `compileDag`: its options (defaultArgs under the task's own), its kind's operator,
 * durations in ms and dates in epoch ms, or the problems that stop it from compiling.
 */
import { DateTime } from 'luxon';
import type { z } from 'zod';
import {
  ConfigSchemas,
  type FieldIssue,
  jsonProblem,
  parseFields,
  TaskOptionsSchema,
} from './compile-schema.ts';
import type { DagDefaults } from './dag-defaults.ts';
import type { DagRuntime, TaskDefinition } from './definition.ts';
import { parseDuration } from './duration.ts';
import type { Operator, TaskManifest } from './manifest.ts';
import { DEFAULT_POOL } from './model.ts';

/** Airflow's ID rule (`KEY_REGEX`): letters, digits, `_ . -`, at most 250 characters. */
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,250}$/;
const isValidId = (id: unknown): id is string => typeof id === 'string' && ID_PATTERN.test(id);

/** Airflow's task defaults (SEMANTICS.md §1); retries, retryDelay and executionTimeout are the deployment's. */
const TASK_DEFAULTS = {
  pool: DEFAULT_POOL,
  poolSlots: 1,
  priorityWeight: 1,
  weightRule: 'downstream',
  triggerRule: 'all_success',
} as const;
const SENSOR_DEFAULTS = { pokeIntervalMs: 60_000, timeoutMs: 7 * 86_400_000 };

export type TaskOptions = z.infer<typeof TaskOptionsSchema>;
/** A compiled task before the graph-wide fields (downstream, priorityWeightTotal) are known. */
export type CompiledTask = Omit<TaskManifest, 'downstream' | 'priorityWeightTotal'>;

/** Milliseconds of a duration that the schema already accepted. */
const ms = (value: unknown): number => {
  const parsed = parseDuration(value);
  return parsed.ok ? parsed.ms : 0;
};
const msOrNull = (value: unknown): number | null =>
  value === undefined || value === null ? null : ms(value);

/** Epoch ms of a date option; a string without a zone is read in `zone`. Null when it is not a date. */
function toInstant(value: unknown, zone: string): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string') return null;
  const parsed = DateTime.fromISO(value.trim(), { zone });
  return parsed.isValid ? parsed.toMillis() : null;
}

/** A DAG's or task's startDate/endDate pair in epoch ms, with an issue for each bad date or order. */
function datesOf(
  o: { startDate?: unknown; endDate?: unknown },
  zone: string,
  prefix: string,
  issues: FieldIssue[],
): { startDate: number | null; endDate: number | null } {
  const field = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
  const read = (name: 'startDate' | 'endDate') => {
    if (o[name] === undefined) return null;
    const instant = toInstant(o[name], zone);
    if (instant === null)
      issues.push({ field: field(name), message: 'is not a valid date: use ISO-8601, e.g. 2026-01-01' });
    return instant;
  };
  const startDate = read('startDate');
  const endDate = read('endDate');
  if (startDate !== null && endDate !== null && startDate > endDate)
    issues.push({ field: field('startDate'), message: 'must not be after endDate: swap them or fix one' });
  return { startDate, endDate };
}

/** Object without its undefined members, so manifests and hashes do not depend on them. */
function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function operatorOf(kind: TaskDefinition['kind'], config: Record<string, unknown>): Operator {
  switch (kind) {
    case 'function':
    case 'empty':
      return { kind };
    case 'shell':
      return defined({ kind, ...(config as { command: string }) });
    case 'container':
      return defined({ kind, ...(config as { image: string }) });
    case 'lambdaInvoke':
      return defined({
        kind,
        functionName: config.functionName as string,
        payload: config.payload,
        invocationType:
          (config.invocationType as 'RequestResponse' | 'Event' | undefined) ?? 'RequestResponse',
      });
    case 'http':
      return defined({
        kind,
        ...(config as { url: string }),
        method: String(config.method ?? 'GET').toUpperCase(),
      });
    case 'sensor':
      return {
        kind,
        pokeIntervalMs:
          config.pokeInterval === undefined ? SENSOR_DEFAULTS.pokeIntervalMs : ms(config.pokeInterval),
        timeoutMs: config.timeout === undefined ? SENSOR_DEFAULTS.timeoutMs : ms(config.timeout),
        mode: 'reschedule',
      };
  }
}

/** Problems of a kind's config that its schema cannot see: zero durations, payloads that are not JSON. */
function configIssues(
  kind: TaskDefinition['kind'],
  config: Record<string, unknown>,
  prefix: string,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (kind === 'sensor') {
    for (const key of ['pokeInterval', 'timeout'] as const)
      if (config[key] !== undefined && ms(config[key]) <= 0)
        issues.push({ field: `${prefix}.${key}`, message: 'must be longer than 0' });
  }
  for (const key of ['payload', 'body'] as const) {
    const problem = config[key] === undefined ? null : jsonProblem(config[key], `${prefix}.${key}`);
    if (problem) issues.push({ field: problem.path, message: problem.message });
  }
  return issues;
}

/** Merges defaultArgs under the task's own options; a task option left undefined takes the default. */
function mergeDefaults(defaults: Partial<TaskOptions>, own: Partial<TaskOptions>): Partial<TaskOptions> {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(own)) if (value !== undefined) merged[key] = value;
  return merged as Partial<TaskOptions>;
}

/**
 * Compiles one task. `defaults` are the DAG's valid defaultArgs, over the deployment's
 * `dagDefaults`; `zone` reads dates without a zone.
 * Returns null when the task has a problem; every problem is pushed onto `issues`.
 */
function compileTask(
  task: TaskDefinition,
  defaults: Partial<TaskOptions>,
  dagDefaults: DagDefaults,
  zone: string,
  runtime: DagRuntime,
  issues: FieldIssue[],
): CompiledTask | null {
  const before = issues.length;
  const prefix = `tasks.${task.taskId}`;
  if (!isValidId(task.taskId))
    issues.push({
      field: prefix,
      message: 'task ids use only letters, digits, _ . - (1 to 250 characters): rename the task',
    });
  const own = parseFields(TaskOptionsSchema.shape, task.options, prefix);
  const config = parseFields(ConfigSchemas[task.kind].shape, task.config, prefix);
  issues.push(...own.issues, ...config.issues, ...configIssues(task.kind, config.data, prefix));

  const o = mergeDefaults(defaults, own.data);
  const retryDelayMs = o.retryDelay === undefined ? dagDefaults.retryDelayMs : ms(o.retryDelay);
  // Like Airflow, a zero maxRetryDelay is no cap at all.
  const maxRetryDelayMs = msOrNull(o.maxRetryDelay) || null;
  if (maxRetryDelayMs !== null && retryDelayMs > maxRetryDelayMs)
    issues.push({
      field: `${prefix}.retryDelay`,
      message:
        o.retryDelay === undefined
          ? `the default retryDelay (${retryDelayMs / 1000}s) is above maxRetryDelay (${o.maxRetryDelay}): set a shorter retryDelay or raise maxRetryDelay`
          : `must be ≤ maxRetryDelay (${o.maxRetryDelay}): shorten retryDelay or raise maxRetryDelay`,
    });
  const executionTimeoutMs =
    o.executionTimeout === undefined ? dagDefaults.executionTimeoutMs : msOrNull(o.executionTimeout);
  if (executionTimeoutMs === 0)
    issues.push({ field: `${prefix}.executionTimeout`, message: 'must be longer than 0 (or null for none)' });
  const { startDate, endDate } = datesOf(o, zone, prefix, issues);
  if (issues.length > before) return null;

  return {
    taskId: task.taskId,
    operator: operatorOf(task.kind, config.data),
    upstream: [],
    retries: o.retries ?? dagDefaults.retries,
    retryDelayMs,
    retryExponentialBackoff: o.retryExponentialBackoff ?? false,
    maxRetryDelayMs,
    executionTimeoutMs,
    pool: o.pool ?? TASK_DEFAULTS.pool,
    poolSlots: o.poolSlots ?? TASK_DEFAULTS.poolSlots,
    priorityWeight: o.priorityWeight ?? TASK_DEFAULTS.priorityWeight,
    weightRule: o.weightRule ?? TASK_DEFAULTS.weightRule,
    triggerRule: o.triggerRule ?? TASK_DEFAULTS.triggerRule,
    maxActiveTisPerDag: o.maxActiveTisPerDag ?? null,
    maxActiveTisPerDagrun: o.maxActiveTisPerDagrun ?? null,
    // A container runs on Fargate unless the task itself says otherwise; defaultArgs do not move it.
    executor: task.kind === 'container' ? (own.data.executor ?? 'fargate') : (o.executor ?? 'lambda'),
    startDate,
    endDate,
    callbacks: Object.keys(runtime.callbacks(task.taskId)).sort() as TaskManifest['callbacks'],
    doc: o.doc ?? null,
  };
}

export { compileTask, datesOf, isValidId };
