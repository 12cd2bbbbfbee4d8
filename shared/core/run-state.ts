/**
 * A run's terminal state (SEMANTICS.md §4), decided over its leaves — tasks without downstream —
 * once nothing is unfinished: any failed or upstream_failed leaf fails the run, otherwise it
 * succeeds (all skipped or removed included). A run that can never progress is failed as deadlocked.
 */
import type { DagManifest } from './manifest.ts';
import type { TaskInstance } from './model.ts';
import { isUnfinished, type TiState } from './states.ts';

export type RunDecision = { state: 'running' } | { state: 'success' | 'failed'; note: string | null };

function decideRunState(
  dag: DagManifest,
  states: Map<string, TiState>,
  opts: { stuck: boolean },
): RunDecision {
  const unfinished = [...states.values()].filter(isUnfinished);
  if (unfinished.length === 0) {
    const leafFailed = dag.tasks.some((t) => {
      if (t.downstream.length > 0) return false;
      const state = states.get(t.taskId);
      return state === 'failed' || state === 'upstream_failed';
    });
    return leafFailed ? { state: 'failed', note: null } : { state: 'success', note: null };
  }
  if (opts.stuck) return { state: 'failed', note: 'all_tasks_deadlocked' };
  return { state: 'running' };
}

/**
 * Deadlocked: every unfinished instance waits in `none` and this evaluation changed nothing — no
 * trigger rule can ever pass. Tasks with maxActiveTisPerDag(run) limits are never declared
 * deadlocked (§10).
 */
function isDeadlocked(
  dag: DagManifest,
  tis: Pick<TaskInstance, 'taskId' | 'state'>[],
  changed: boolean,
): boolean {
  if (changed) return false;
  const limited = new Set(
    dag.tasks
      .filter((t) => t.maxActiveTisPerDag !== null || t.maxActiveTisPerDagrun !== null)
      .map((t) => t.taskId),
  );
  const unfinished = tis.filter((ti) => isUnfinished(ti.state));
  return unfinished.length > 0 && unfinished.every((ti) => ti.state === 'none' && !limited.has(ti.taskId));
}

export { decideRunState, isDeadlocked };
