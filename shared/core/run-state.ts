/**
 * A run's terminal state (SEMANTICS.md §4, Airflow's `DagRun.update_state`), decided over its
 * leaves — tasks without downstream — once nothing is unfinished: any failed or upstream_failed
 * leaf fails the run, otherwise it succeeds (all skipped, or every leaf removed, included; removed
 * leaves are ignored). A non-leaf failure alone does not fail the run. A run that can never
 * progress is failed as deadlocked.
 */
import type { DagManifest } from './manifest.ts';
import type { TaskInstance } from './model.ts';
import { isUnfinished } from './states.ts';

export type RunDecision =
  | { state: 'running' }
  | { state: 'success' | 'failed'; note: 'all_tasks_deadlocked' | null };

type TiStateOf = Pick<TaskInstance, 'taskId' | 'state'>;

/**
 * Deadlocked: instances are unfinished, every one of them waits in `none`, and the evaluation that
 * produced these states changed nothing — no trigger rule can ever pass. A retry or reschedule
 * wait, or anything scheduled, queued or running, will change something later, so it is never a
 * deadlock. Nor is a run whose unfinished tasks have maxActiveTisPerDag(run) limits (§10).
 */
function isDeadlocked(dag: DagManifest, tis: readonly TiStateOf[], changed: boolean): boolean {
  if (changed) return false;
  let unfinished = 0;
  const waiting = new Set<string>();
  for (const ti of tis) {
    if (!isUnfinished(ti.state)) continue;
    if (ti.state !== 'none') return false;
    unfinished += 1;
    waiting.add(ti.taskId);
  }
  if (unfinished === 0) return false;
  return !dag.tasks.some(
    (t) => waiting.has(t.taskId) && (t.maxActiveTisPerDag !== null || t.maxActiveTisPerDagrun !== null),
  );
}

/**
 * The run's state given its instances' states. `changed` says whether the evaluation that produced
 * these states changed any of them (a changed run is never deadlocked); without it, none did.
 */
function decideRunState(
  dag: DagManifest,
  tis: readonly TiStateOf[],
  opts: { changed: boolean } = { changed: false },
): RunDecision {
  if (tis.some((ti) => isUnfinished(ti.state))) {
    return isDeadlocked(dag, tis, opts.changed)
      ? { state: 'failed', note: 'all_tasks_deadlocked' }
      : { state: 'running' };
  }
  const leaves = new Set(dag.tasks.filter((t) => t.downstream.length === 0).map((t) => t.taskId));
  const leafFailed = tis.some(
    (ti) => leaves.has(ti.taskId) && (ti.state === 'failed' || ti.state === 'upstream_failed'),
  );
  return { state: leafFailed ? 'failed' : 'success', note: null };
}

export { decideRunState, isDeadlocked };
