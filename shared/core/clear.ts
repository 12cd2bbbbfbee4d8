/**
 * Clearing (SEMANTICS.md §8): re-run tasks, optionally with everything downstream of them, or only
 * the failed ones. A cleared instance goes back to `none` with a fresh retry budget
 * (maxTries = tryNumber + retries, tryNumber unchanged). A queued or running instance has its try
 * ended instead, which releases its slots: the worker's own end of that try then loses its
 * condition and its result is discarded. A finished run goes back to queued (clearNumber + 1) when
 * anything in it was cleared; a queued or running run is left as it is.
 */

import { InputError } from './errors.ts';
import type { TiTransition } from './evaluate-run.ts';
import type { DagManifest } from './manifest.ts';
import { blankTry, type DagRun, type TaskInstance } from './model.ts';
import { holdsSlot } from './states.ts';

export interface ClearPlan {
  /** Instances back to state none with a fresh retry budget. */
  transitions: TiTransition[];
  /** Queued/running instances whose tries are ended as none (holds released) as part of the clear. */
  endTries: TiTransition[];
  /** A finished run goes back to queued (clearNumber + 1); null if the run is untouched. */
  run: { expect: DagRun['state']; set: Partial<DagRun> } | null;
}

/** The task ids to clear: the given ones and, with `downstream`, every task transitively after them. */
function selection(dag: DagManifest, taskIds: string[], downstream: boolean): Set<string> {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const unknown = taskIds.filter((id) => !byId.has(id));
  if (unknown.length > 0)
    throw new InputError(
      'taskIds',
      `no task ${unknown.join(', ')} in DAG ${dag.dagId} (version ${dag.hash})`,
    );
  const chosen = new Set(taskIds);
  if (!downstream) return chosen;
  const stack = [...taskIds];
  while (stack.length > 0) {
    for (const down of byId.get(stack.pop()!)?.downstream ?? []) {
      if (!chosen.has(down)) {
        chosen.add(down);
        stack.push(down);
      }
    }
  }
  return chosen;
}

function planClear(input: {
  dag: DagManifest;
  run: DagRun;
  tis: TaskInstance[];
  taskIds: string[];
  downstream: boolean;
  onlyFailed: boolean;
  now: number;
}): ClearPlan {
  const { dag, run, tis } = input;
  const retries = new Map(dag.tasks.map((t) => [t.taskId, t.retries]));
  const chosen = selection(dag, input.taskIds, input.downstream);
  const plan: ClearPlan = { transitions: [], endTries: [], run: null };
  for (const ti of tis) {
    if (!chosen.has(ti.taskId)) continue;
    if (input.onlyFailed && ti.state !== 'failed' && ti.state !== 'upstream_failed') continue;
    const transition: TiTransition = {
      key: { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex },
      expect: { state: ti.state, tryNumber: ti.tryNumber },
      set: {
        state: 'none',
        maxTries: ti.tryNumber + (retries.get(ti.taskId) ?? 0),
        ...blankTry(),
      },
    };
    if (holdsSlot(ti.state)) plan.endTries.push(transition);
    else plan.transitions.push(transition);
  }
  const cleared = plan.transitions.length + plan.endTries.length;
  if (cleared > 0 && (run.state === 'success' || run.state === 'failed')) {
    plan.run = {
      expect: run.state,
      set: { state: 'queued', startedAt: null, endedAt: null, note: null, clearNumber: run.clearNumber + 1 },
    };
  }
  return plan;
}

export { planClear };
