/**
 * `compileDag`: validates what a DAG author built and produces the manifest the scheduler reads,
 * or throws one `DagValidationError` listing every problem, each naming DAG, field and fix.
 */
import {
  DagOptionsSchema,
  DefaultArgsSchema,
  type FieldIssue,
  jsonProblem,
  parseFields,
} from './compile-schema.ts';
import { type CompiledTask, compileTask, datesOf, isValidId } from './compile-task.ts';
import { type DagDefaults, DEFAULT_DAG_DEFAULTS } from './dag-defaults.ts';
import type { DagDefinition } from './definition.ts';
import { parseDuration } from './duration.ts';
import { DagValidationError } from './errors.ts';
import { findCycle, indexGraph, type TaskGraph, topologicalOrder } from './graph.ts';
import { contentHash } from './hash.ts';
import { type DagManifest, MANIFEST_VERSION, type TaskManifest } from './manifest.ts';
import { totalsOnGraph } from './priority.ts';
import { isValidTimezone, normalizeSchedule } from './timetable.ts';

/**
 * Airflow's DAG defaults (SEMANTICS.md §1, with Updraft's choices: catchup off); the limits and
 * task retry defaults are the deployment's (`DagDefaults`, an argument of compileDag).
 */
const DAG_DEFAULTS = {
  timezone: 'UTC',
  scheduleStyle: 'interval',
  catchup: false,
  pausedOnCreation: true,
} as const;

/** Problems of the graph: dependencies on unknown tasks, and the first cycle with its path. */
function graphIssues(def: DagDefinition, graph: TaskGraph): FieldIssue[] {
  const issues: FieldIssue[] = [];
  // A build that threw may have stopped before its first task: that problem is already reported.
  if (def.tasks.size === 0 && !def.issues.some((i) => i.field === 'build'))
    issues.push({
      field: 'tasks',
      message: 'a DAG needs at least one task: add one with d.task(…) in the build function',
    });
  for (const task of def.tasks.values()) {
    for (const up of task.upstream) {
      if (!def.tasks.has(up))
        issues.push({
          field: `tasks.${task.taskId}.upstream`,
          message: `depends on ${up}, which is not a task of this DAG: create it or remove the dependency`,
        });
    }
  }
  const cycle = findCycle(graph);
  if (cycle)
    issues.push({
      field: 'tasks',
      message: `dependency cycle: ${cycle.join(' → ')}; remove one of these dependencies`,
    });
  return issues;
}

/** The DAG-level options, each problem pushed onto `issues`; valid values survive a bad neighbour. */
function dagSettings(def: DagDefinition, issues: FieldIssue[]) {
  const { defaultArgs: rawDefaults, ...rawOptions } = def.options;
  const { data: o, issues: optionIssues } = parseFields(DagOptionsSchema.shape, rawOptions, '');
  issues.push(...optionIssues);
  const defaults =
    rawDefaults === undefined
      ? { data: {}, issues: [] }
      : typeof rawDefaults === 'object' && rawDefaults !== null && !Array.isArray(rawDefaults)
        ? parseFields(DefaultArgsSchema.shape, rawDefaults as Record<string, unknown>, 'defaultArgs')
        : { data: {}, issues: [{ field: 'defaultArgs', message: 'must be an object of task options' }] };
  issues.push(...defaults.issues);

  const timezone = o.timezone ?? DAG_DEFAULTS.timezone;
  const zoneOk = isValidTimezone(timezone);
  if (!zoneOk)
    issues.push({
      field: 'timezone',
      message: `"${timezone}" is not an IANA timezone: use e.g. UTC or Europe/Paris`,
    });
  const zone = zoneOk ? timezone : 'UTC';
  const schedule = normalizeSchedule(
    def.options.schedule ?? null,
    zone,
    o.scheduleStyle ?? DAG_DEFAULTS.scheduleStyle,
  );
  if (!schedule.ok) issues.push({ field: 'schedule', message: schedule.message });
  const { startDate, endDate } = datesOf(o, zone, '', issues);
  if (o.catchup && o.startDate === undefined)
    issues.push({
      field: 'catchup',
      message: 'catchup needs a startDate to know where to start: set startDate',
    });
  const dagrunTimeoutMs =
    o.dagrunTimeout === undefined || o.dagrunTimeout === null ? null : msOf(o.dagrunTimeout);
  if (dagrunTimeoutMs === 0)
    issues.push({ field: 'dagrunTimeout', message: 'must be longer than 0 (or null for none)' });
  const paramsProblem = o.params === undefined ? null : jsonProblem(o.params, 'params');
  if (paramsProblem) issues.push({ field: paramsProblem.path, message: paramsProblem.message });
  return { o, defaults: defaults.data, timezone, zone, schedule, startDate, endDate, dagrunTimeoutMs };
}

const msOf = (value: unknown): number => {
  const parsed = parseDuration(value);
  return parsed.ok ? parsed.ms : 0;
};

/**
 * A compiled task with its place in the graph, built as one literal in the order a spread of it
 * gave: every task manifest then has one shape. (`{ ...task, upstream, downstream, … }` gave each
 * copy a shape of its own on Node 20, so every read of a task's fields on the hot paths went
 * megamorphic over a deployment's thousands of shapes.)
 */
function taskManifestOf(
  task: CompiledTask,
  upstream: string[],
  downstream: string[],
  priorityWeightTotal: number,
): TaskManifest {
  return {
    taskId: task.taskId,
    operator: task.operator,
    upstream,
    retries: task.retries,
    retryDelayMs: task.retryDelayMs,
    retryExponentialBackoff: task.retryExponentialBackoff,
    maxRetryDelayMs: task.maxRetryDelayMs,
    executionTimeoutMs: task.executionTimeoutMs,
    pool: task.pool,
    poolSlots: task.poolSlots,
    priorityWeight: task.priorityWeight,
    weightRule: task.weightRule,
    triggerRule: task.triggerRule,
    maxActiveTisPerDag: task.maxActiveTisPerDag,
    maxActiveTisPerDagrun: task.maxActiveTisPerDagrun,
    executor: task.executor,
    startDate: task.startDate,
    endDate: task.endDate,
    callbacks: task.callbacks,
    doc: task.doc,
    downstream,
    priorityWeightTotal,
  };
}

/** The manifest: `body` and its hash as one literal, so every manifest has one shape (see `taskManifestOf`). */
function withHash(body: Omit<DagManifest, 'hash'>, hash: string): DagManifest {
  return {
    manifestVersion: body.manifestVersion,
    dagId: body.dagId,
    description: body.description,
    schedule: body.schedule,
    timezone: body.timezone,
    startDate: body.startDate,
    endDate: body.endDate,
    catchup: body.catchup,
    maxActiveRuns: body.maxActiveRuns,
    maxActiveTasks: body.maxActiveTasks,
    maxConsecutiveFailedDagRuns: body.maxConsecutiveFailedDagRuns,
    dagrunTimeoutMs: body.dagrunTimeoutMs,
    isPausedUponCreation: body.isPausedUponCreation,
    tags: body.tags,
    params: body.params,
    callbacks: body.callbacks,
    tasks: body.tasks,
    hash,
  };
}

/**
 * Validates a DAG and compiles it into its manifest: defaultArgs merged under task options,
 * durations in ms, dates in epoch ms (a date without a zone is read in the DAG's timezone), tasks
 * in topological order with ties by id, priority weight totals, and the content hash.
 * `dagDefaults` are the deployment's defaults: the DAG's options (and defaultArgs, and each task's
 * own options) win over them.
 * @throws DagValidationError with every problem at once.
 */
function compileDag(def: DagDefinition, dagDefaults: DagDefaults = DEFAULT_DAG_DEFAULTS): DagManifest {
  const issues: FieldIssue[] = [...def.issues];
  if (!isValidId(def.dagId))
    issues.push({
      field: 'dagId',
      message: 'DAG ids use only letters, digits, _ . - (1 to 250 characters): rename the DAG',
    });
  const settings = dagSettings(def, issues);
  const graph = indexGraph(def.tasks.keys(), (id) => def.tasks.get(id)!.upstream);
  issues.push(...graphIssues(def, graph));
  const compiled: (CompiledTask | null)[] = [];
  for (const task of def.tasks.values())
    compiled.push(compileTask(task, settings.defaults, dagDefaults, settings.zone, def.runtime, issues));

  const { schedule } = settings;
  if (issues.length > 0 || !schedule.ok) {
    const dagId = typeof def.dagId === 'string' ? def.dagId : String(def.dagId);
    throw new DagValidationError(issues.map((i) => ({ dagId, ...i })));
  }

  const byId = new Map((compiled as CompiledTask[]).map((t) => [t.taskId, t]));
  const inIdOrder = graph.ids.map((id) => byId.get(id)!);
  const order = topologicalOrder(graph);
  const totals = totalsOnGraph(
    graph,
    order,
    inIdOrder.map((t) => t.priorityWeight),
    inIdOrder.map((t) => t.weightRule),
  );
  const tasks: TaskManifest[] = order.map((i) =>
    taskManifestOf(
      inIdOrder[i]!,
      graph.up[i]!.map((j) => graph.ids[j]!),
      graph.down[i]!.map((j) => graph.ids[j]!),
      totals[i]!,
    ),
  );

  const { o } = settings;
  const body: Omit<DagManifest, 'hash'> = {
    manifestVersion: MANIFEST_VERSION,
    dagId: def.dagId,
    description: o.description ?? null,
    schedule: schedule.schedule,
    timezone: settings.timezone,
    startDate: settings.startDate,
    endDate: settings.endDate,
    catchup: o.catchup ?? DAG_DEFAULTS.catchup,
    maxActiveRuns: o.maxActiveRuns ?? dagDefaults.maxActiveRuns,
    maxActiveTasks: o.maxActiveTasks ?? dagDefaults.maxActiveTasks,
    maxConsecutiveFailedDagRuns: o.maxConsecutiveFailedDagRuns ?? dagDefaults.maxConsecutiveFailedDagRuns,
    dagrunTimeoutMs: settings.dagrunTimeoutMs,
    isPausedUponCreation: o.pausedOnCreation ?? DAG_DEFAULTS.pausedOnCreation,
    tags: [...new Set(o.tags ?? [])].sort(),
    params: o.params ?? {},
    callbacks: Object.keys(def.runtime.dagCallbacks()).sort() as DagManifest['callbacks'],
    tasks,
  };
  return withHash(body, contentHash(body));
}

export { compileDag };
