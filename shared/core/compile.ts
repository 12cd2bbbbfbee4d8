/**
 * `compileDag`: validates what a DAG author built and produces the manifest the scheduler reads,
 * or throws one `DagValidationError` listing every problem, each naming DAG, field and fix.
 */
import { DateTime } from 'luxon';
import type { z } from 'zod';
import { ConfigSchemas, DagOptionsSchema, issuesOf, TaskOptionsSchema } from './compile-schema.ts';
import type { DagDefinition, TaskDefinition } from './definition.ts';
import { parseDuration } from './duration.ts';
import { type DagIssue, DagValidationError } from './errors.ts';
import { findCycle, topologicalOrder } from './graph.ts';
import { contentHash } from './hash.ts';
import { type DagManifest, MANIFEST_VERSION, type Operator, type TaskManifest } from './manifest.ts';
import { DEFAULT_POOL } from './model.ts';
import { priorityWeightTotals } from './priority.ts';
import { isValidTimezone, normalizeSchedule } from './timetable.ts';

const ID_PATTERN = /^[A-Za-z0-9_.-]{1,250}$/;
const SENSOR_DEFAULTS = { pokeIntervalMs: 60_000, timeoutMs: 7 * 86_400_000 };

type DagOptions = z.infer<typeof DagOptionsSchema>;
type TaskOptions = z.infer<typeof TaskOptionsSchema>;

const ms = (value: unknown): number => {
  const parsed = parseDuration(value);
  return parsed.ok ? parsed.ms : 0;
};

/** Epoch ms of a date option; a string without a zone is read in `zone`. */
function toInstant(value: unknown, zone: string): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const parsed = DateTime.fromISO(value, { zone: isValidTimezone(zone) ? zone : 'UTC' });
  return parsed.isValid ? parsed.toMillis() : null;
}

function operatorOf(task: TaskDefinition, config: Record<string, unknown>): Operator {
  switch (task.kind) {
    case 'function':
    case 'empty':
      return { kind: task.kind };
    case 'shell':
      return { kind: 'shell', ...(config as { command: string }) };
    case 'container':
      return { kind: 'container', ...(config as { image: string }) };
    case 'lambdaInvoke':
      return {
        kind: 'lambdaInvoke',
        functionName: config.functionName as string,
        ...(config.payload !== undefined ? { payload: config.payload } : {}),
        invocationType:
          (config.invocationType as 'RequestResponse' | 'Event' | undefined) ?? 'RequestResponse',
      };
    case 'http':
      return {
        kind: 'http',
        ...(config as { url: string }),
        method: ((config.method as string | undefined) ?? 'GET').toUpperCase(),
      };
    case 'sensor':
      return {
        kind: 'sensor',
        pokeIntervalMs:
          config.pokeInterval === undefined ? SENSOR_DEFAULTS.pokeIntervalMs : ms(config.pokeInterval),
        timeoutMs: config.timeout === undefined ? SENSOR_DEFAULTS.timeoutMs : ms(config.timeout),
        mode: 'reschedule',
      };
  }
}

function compileTask(
  def: DagDefinition,
  task: TaskDefinition,
  defaults: TaskOptions,
  zone: string,
  issues: DagIssue[],
): Omit<TaskManifest, 'downstream' | 'priorityWeightTotal'> | null {
  const add = (field: string, message: string) => issues.push({ dagId: def.dagId, field, message });
  const prefix = `tasks.${task.taskId}`;
  if (!ID_PATTERN.test(task.taskId))
    add(prefix, 'task ids use letters, digits, _ . - (at most 250 characters)');
  const parsedOptions = TaskOptionsSchema.safeParse(task.options);
  if (!parsedOptions.success) {
    for (const i of issuesOf(parsedOptions.error, prefix, Object.keys(TaskOptionsSchema.shape)))
      add(i.field, i.message);
  }
  const parsedConfig = ConfigSchemas[task.kind].safeParse(task.config);
  if (!parsedConfig.success) {
    for (const i of issuesOf(parsedConfig.error, prefix, Object.keys(ConfigSchemas[task.kind].shape)))
      add(i.field, i.message);
  }
  for (const up of task.upstream) {
    if (!def.tasks.has(up)) add(`${prefix}.upstream`, `depends on ${up}, which is not a task of this DAG`);
  }
  if (!parsedOptions.success || !parsedConfig.success) return null;

  const o: TaskOptions = { ...defaults, ...parsedOptions.data };
  const retryDelayMs = o.retryDelay === undefined ? 300_000 : ms(o.retryDelay);
  const maxRetryDelayMs =
    o.maxRetryDelay === undefined || o.maxRetryDelay === null ? null : ms(o.maxRetryDelay);
  if (maxRetryDelayMs !== null && retryDelayMs > maxRetryDelayMs) {
    add(`${prefix}.retryDelay`, `must be ≤ maxRetryDelay (${o.maxRetryDelay})`);
  }
  const startDate = o.startDate === undefined ? null : toInstant(o.startDate, zone);
  const endDate = o.endDate === undefined ? null : toInstant(o.endDate, zone);
  if (o.startDate !== undefined && startDate === null)
    add(`${prefix}.startDate`, 'is not a valid date (use ISO-8601)');
  if (o.endDate !== undefined && endDate === null)
    add(`${prefix}.endDate`, 'is not a valid date (use ISO-8601)');
  if (startDate !== null && endDate !== null && startDate > endDate)
    add(`${prefix}.startDate`, 'must not be after endDate');
  const executionTimeoutMs =
    o.executionTimeout === undefined || o.executionTimeout === null ? null : ms(o.executionTimeout);
  if (executionTimeoutMs === 0) add(`${prefix}.executionTimeout`, 'must be longer than 0');
  const callbacks = Object.keys(def.runtime.taskCallbacks(task.taskId)).sort() as TaskManifest['callbacks'];
  return {
    taskId: task.taskId,
    operator: operatorOf(task, parsedConfig.data as Record<string, unknown>),
    upstream: [...task.upstream].filter((u) => def.tasks.has(u)).sort(),
    retries: o.retries ?? 0,
    retryDelayMs,
    retryExponentialBackoff: o.retryExponentialBackoff ?? false,
    maxRetryDelayMs,
    executionTimeoutMs: executionTimeoutMs || null,
    pool: o.pool ?? DEFAULT_POOL,
    poolSlots: o.poolSlots ?? 1,
    priorityWeight: o.priorityWeight ?? 1,
    weightRule: o.weightRule ?? 'downstream',
    triggerRule: o.triggerRule ?? 'all_success',
    maxActiveTisPerDag: o.maxActiveTisPerDag ?? null,
    maxActiveTisPerDagrun: o.maxActiveTisPerDagrun ?? null,
    executor: o.executor ?? (task.kind === 'container' ? 'fargate' : 'lambda'),
    startDate,
    endDate,
    callbacks,
    doc: o.doc ?? null,
  };
}

function compileDag(def: DagDefinition): DagManifest {
  const issues: DagIssue[] = def.issues.map((i) => ({ dagId: def.dagId, ...i }));
  const add = (field: string, message: string) => issues.push({ dagId: def.dagId, field, message });
  if (!ID_PATTERN.test(def.dagId))
    add('dagId', 'DAG ids use letters, digits, _ . - (at most 250 characters)');

  const parsed = DagOptionsSchema.safeParse(def.options);
  if (!parsed.success)
    for (const i of issuesOf(parsed.error, '', Object.keys(DagOptionsSchema.shape))) add(i.field, i.message);
  const o: DagOptions = parsed.success ? parsed.data : {};
  const timezone = o.timezone ?? 'UTC';
  if (!isValidTimezone(timezone))
    add('timezone', `"${timezone}" is not an IANA timezone (e.g. UTC, Europe/Paris)`);
  const schedule = normalizeSchedule(
    o.schedule ?? null,
    isValidTimezone(timezone) ? timezone : 'UTC',
    o.scheduleStyle ?? 'interval',
  );
  if (!schedule.ok) add('schedule', schedule.message);
  const startDate = o.startDate === undefined ? null : toInstant(o.startDate, timezone);
  const endDate = o.endDate === undefined ? null : toInstant(o.endDate, timezone);
  if (o.startDate !== undefined && startDate === null)
    add('startDate', 'is not a valid date (use ISO-8601, e.g. 2026-01-01)');
  if (o.endDate !== undefined && endDate === null)
    add('endDate', 'is not a valid date (use ISO-8601, e.g. 2026-12-31)');
  if (startDate !== null && endDate !== null && startDate > endDate)
    add('startDate', 'must not be after endDate');
  if (o.catchup && startDate === null) add('catchup', 'catchup needs a startDate to know where to start');
  if (def.tasks.size === 0) add('tasks', 'a DAG needs at least one task');

  const ids = [...def.tasks.keys()];
  const cycle = findCycle(ids, (id) => def.tasks.get(id)?.upstream ?? []);
  if (cycle) add('tasks', `dependency cycle: ${cycle.join(' → ')}`);

  const defaults = (o.defaultArgs ?? {}) as TaskOptions;
  const compiled = [...def.tasks.values()].map((t) => compileTask(def, t, defaults, timezone, issues));
  if (issues.length > 0 || !schedule.ok) throw new DagValidationError(issues);

  const tasks = compiled as Omit<TaskManifest, 'downstream' | 'priorityWeightTotal'>[];
  const downstream = new Map(tasks.map((t) => [t.taskId, [] as string[]]));
  for (const t of tasks) for (const up of t.upstream) downstream.get(up)!.push(t.taskId);
  const order = topologicalOrder(ids, (id) => def.tasks.get(id)!.upstream);
  const withEdges = tasks.map((t) => ({ ...t, downstream: downstream.get(t.taskId)!.sort() }));
  const totals = priorityWeightTotals(withEdges, order);
  const byId = new Map(withEdges.map((t) => [t.taskId, t]));
  const manifestTasks: TaskManifest[] = order.map((id) => {
    const t = byId.get(id)!;
    return { ...t, priorityWeightTotal: totals.get(id)! };
  });

  const body: Omit<DagManifest, 'hash'> = {
    manifestVersion: MANIFEST_VERSION,
    dagId: def.dagId,
    description: o.description ?? null,
    schedule: schedule.schedule,
    timezone,
    startDate,
    endDate,
    catchup: o.catchup ?? false,
    maxActiveRuns: o.maxActiveRuns ?? 16,
    maxActiveTasks: o.maxActiveTasks ?? 16,
    maxConsecutiveFailedDagRuns: o.maxConsecutiveFailedDagRuns ?? 0,
    dagrunTimeoutMs: o.dagrunTimeout === undefined || o.dagrunTimeout === null ? null : ms(o.dagrunTimeout),
    isPausedUponCreation: o.pausedOnCreation ?? true,
    tags: [...(o.tags ?? [])].sort(),
    params: o.params ?? {},
    callbacks: Object.keys(def.runtime.dagCallbacks()).sort() as DagManifest['callbacks'],
    tasks: manifestTasks,
  };
  return { ...body, hash: contentHash(body) };
}

export { compileDag };
