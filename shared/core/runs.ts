/**
 * Run lifecycle decisions (SEMANTICS.md §4 and the choices table): which scheduled runs to create,
 * which queued runs to start under maxActiveRuns (and a backfill's own limit), and the task
 * instances of a new run.
 */
import type { DagManifest } from './manifest.ts';
import type { DagRecord, DagRun, TaskInstance } from './model.ts';
import type { RunType } from './states.ts';
import type { Interval, RunInfo } from './timetable.ts';

export interface RunCreationPlan {
  /** Runs to create now, oldest first; at most maxActiveRuns − active. */
  create: RunInfo[];
  /** What the DAG record should say next (null = nothing scheduled). */
  nextRun: RunInfo | null;
  lastAutomatedInterval: Interval | null;
}

/** Every due scheduled run in one pass, capped so queued + running (non-backfill) ≤ maxActiveRuns. */
function planRunCreation(_input: {
  dag: DagManifest;
  record: Pick<DagRecord, 'lastAutomatedInterval'>;
  /** Queued + running runs of the DAG that are not backfill runs. */
  activeRuns: number;
  now: number;
}): RunCreationPlan {
  throw new Error('not implemented');
}

/**
 * Queued runs to start now, in order: non-backfill runs by logical date first, then backfill runs by
 * ordinal. Non-backfill runs are limited by the DAG's maxActiveRuns; backfill runs by their
 * backfill's maxActiveRuns only. Runs whose runAfter is in the future wait.
 */
function planRunStarts(_input: {
  queued: DagRun[];
  /** Running runs per DAG (non-backfill) and per backfill id. */
  runningByDag: Map<string, number>;
  runningByBackfill: Map<string, number>;
  maxActiveRunsByDag: Map<string, number>;
  maxActiveRunsByBackfill: Map<string, number>;
  now: number;
}): DagRun[] {
  throw new Error('not implemented');
}

/** Airflow-style run id: `scheduled__2024-01-01T00:00:00+00:00`. */
function runIdFor(_runType: RunType, _logicalDate: number): string {
  throw new Error('not implemented');
}

/** Task instances (state none) of a new run; tasks whose own start/end dates exclude the logical date get none. */
function makeTaskInstances(_dag: DagManifest, _run: DagRun): TaskInstance[] {
  throw new Error('not implemented');
}

export { makeTaskInstances, planRunCreation, planRunStarts, runIdFor };
