/**
 * Run lifecycle decisions (SEMANTICS.md §4 and the choices table): which scheduled runs to create,
 * which queued runs to start under maxActiveRuns (and a backfill's own limit), and the task
 * instances of a new run.
 */
import type { DagManifest } from './manifest.ts';
import type { DagRecord, DagRun, TaskInstance } from './model.ts';
import type { RunType } from './states.ts';
import { type Interval, type RunInfo, timetableFor } from './timetable.ts';

export interface RunCreationPlan {
  /** Runs to create now, oldest first; at most maxActiveRuns − active. */
  create: RunInfo[];
  /** What the DAG record should say next (null = nothing scheduled). */
  nextRun: RunInfo | null;
  lastAutomatedInterval: Interval | null;
}

/**
 * Airflow's `DAG._time_restriction`: the earliest start is the smallest of the DAG's and its tasks'
 * start dates; the latest end is the DAG's end date, unless every task has an end date, in which case
 * it is the largest of those and the DAG's.
 */
function timeRestriction(dag: DagManifest): { earliest: number | null; latest: number | null } {
  // One walk over the tasks, with no arrays: every run creation asks this.
  let earliest = dag.startDate;
  let latestEnd = Number.NEGATIVE_INFINITY;
  let allEnd = dag.tasks.length > 0;
  for (const { startDate, endDate } of dag.tasks) {
    if (startDate !== null && (earliest === null || startDate < earliest)) earliest = startDate;
    if (endDate === null) allEnd = false;
    else if (endDate > latestEnd) latestEnd = endDate;
  }
  let latest = dag.endDate;
  if (allEnd) latest = dag.endDate !== null && dag.endDate > latestEnd ? dag.endDate : latestEnd;
  return { earliest, latest };
}

/**
 * Every due scheduled run in one pass, capped so queued + running (non-backfill) ≤ maxActiveRuns.
 * A run is due when its runAfter ≤ now. When the cap stops creation, `nextRun` is the first run not
 * created (already due): the caller creates it once a run finishes. Paused DAGs are the caller's concern.
 */
function planRunCreation(input: {
  dag: DagManifest;
  record: Pick<DagRecord, 'lastAutomatedInterval'>;
  /** Queued + running runs of the DAG that are not backfill runs. */
  activeRuns: number;
  now: number;
}): RunCreationPlan {
  const { dag, now } = input;
  const timetable = timetableFor(dag.schedule);
  const { earliest, latest } = timeRestriction(dag);
  let last = input.record.lastAutomatedInterval;
  const nextAfter = (lastAutomatedInterval: Interval | null) =>
    timetable.nextRunInfo({ lastAutomatedInterval, earliest, latest, catchup: dag.catchup, now });

  const create: RunInfo[] = [];
  let capacity = dag.maxActiveRuns - input.activeRuns;
  let next = nextAfter(last);
  while (next !== null && next.runAfter <= now && capacity > 0) {
    // A timetable that stops moving forward would loop forever; treat it as exhausted.
    const previous = create.at(-1);
    if (previous && next.logicalDate <= previous.logicalDate) {
      next = null;
      break;
    }
    create.push(next);
    capacity -= 1;
    last = { start: next.dataIntervalStart, end: next.dataIntervalEnd };
    next = nextAfter(last);
  }
  return { create, nextRun: next, lastAutomatedInterval: last };
}

function byLogicalDate(a: DagRun, b: DagRun): number {
  return a.logicalDate - b.logicalDate || a.dagId.localeCompare(b.dagId) || a.runId.localeCompare(b.runId);
}

function byOrdinal(a: DagRun, b: DagRun): number {
  return (
    (a.backfillOrdinal ?? 0) - (b.backfillOrdinal ?? 0) ||
    (a.backfillId ?? '').localeCompare(b.backfillId ?? '') ||
    byLogicalDate(a, b)
  );
}

/**
 * Queued runs to start now, in order: non-backfill runs by logical date first, then backfill runs by
 * ordinal. Non-backfill runs are limited by the DAG's maxActiveRuns; backfill runs by their
 * backfill's maxActiveRuns only. Runs whose runAfter is in the future wait. A DAG or backfill missing
 * from the limit maps starts nothing.
 */
function planRunStarts(input: {
  queued: DagRun[];
  /** Running runs per DAG (non-backfill) and per backfill id. */
  runningByDag: Map<string, number>;
  runningByBackfill: Map<string, number>;
  maxActiveRunsByDag: Map<string, number>;
  maxActiveRunsByBackfill: Map<string, number>;
  now: number;
}): DagRun[] {
  const ready = input.queued.filter((r) => r.state === 'queued' && r.runAfter <= input.now);
  const ordered = [
    ...ready.filter((r) => r.backfillId === null).sort(byLogicalDate),
    ...ready.filter((r) => r.backfillId !== null).sort(byOrdinal),
  ];
  const runningByDag = new Map(input.runningByDag);
  const runningByBackfill = new Map(input.runningByBackfill);
  const start: DagRun[] = [];
  for (const run of ordered) {
    const [running, limit, key] =
      run.backfillId === null
        ? [runningByDag, input.maxActiveRunsByDag.get(run.dagId) ?? 0, run.dagId]
        : [runningByBackfill, input.maxActiveRunsByBackfill.get(run.backfillId) ?? 0, run.backfillId];
    const count = running.get(key) ?? 0;
    if (count >= limit) continue;
    running.set(key, count + 1);
    start.push(run);
  }
  return start;
}

/**
 * Python's `datetime.isoformat()` of a UTC instant, as Airflow's run ids use it:
 * `2024-01-01T00:00:00+00:00`, with `.ffffff` (microseconds) only when the milliseconds are not zero.
 */
function pythonIsoUtc(t: number): string {
  const iso = new Date(t).toISOString(); // 2024-01-01T00:00:00.000Z
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 19)}${ms === '000' ? '' : `.${ms}000`}+00:00`;
}

/** Airflow-style run id: `scheduled__2024-01-01T00:00:00+00:00`. */
function runIdFor(runType: RunType, logicalDate: number): string {
  return `${runType}__${pythonIsoUtc(logicalDate)}`;
}

/** Task instances (state none) of a new run; tasks whose own start/end dates exclude the logical date get none. */
function makeTaskInstances(dag: DagManifest, run: DagRun): TaskInstance[] {
  const backfill = run.runType === 'backfill';
  const instances: TaskInstance[] = [];
  for (const task of dag.tasks) {
    if (!backfill) {
      if (task.startDate !== null && task.startDate > run.logicalDate) continue;
      if (task.endDate !== null && task.endDate < run.logicalDate) continue;
    }
    instances.push({
      dagId: run.dagId,
      runId: run.runId,
      taskId: task.taskId,
      mapIndex: -1,
      state: 'none',
      tryNumber: 0,
      maxTries: task.retries,
      priorityWeight: task.priorityWeightTotal,
      pool: task.pool,
      poolSlots: task.poolSlots,
      executor: task.executor,
      logicalDate: run.logicalDate,
      dagVersion: run.dagVersion,
      holds: [],
      // blankTry()'s fields, spelled out: a spread closing a literal takes V8's slow path on Node 20
      // (~0.5 µs here, ten times the literal; every run creates one instance per task).
      scheduledAt: null,
      queuedAt: null,
      startedAt: null,
      endedAt: null,
      heartbeatAt: null,
      nextRetryAt: null,
      rescheduleAt: null,
      firstPokeAt: null,
      dispatchAttempts: 0,
      waitReason: null,
      workerId: null,
      error: null,
      result: null,
    });
  }
  return instances;
}

export { makeTaskInstances, planRunCreation, planRunStarts, runIdFor, timeRestriction };
