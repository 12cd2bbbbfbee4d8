/**
 * Marking a run (Airflow's `set_dag_run_state_to_success` / `_to_failed`): the operator's verdict
 * on a run, whatever its tasks did. Success sets every instance that is not success (or removed) to
 * success; failed fails the running instances and skips every other unfinished one, leaving finished
 * ones as they are. Queued and running instances hold slots, so their tries are ended (releasing the
 * slots) rather than updated: the worker's own end of such a try then loses its condition, and its
 * heartbeat tells it to stop.
 */
import type { TiTransition } from './evaluate-run.ts';
import type { TaskInstance } from './model.ts';
import { holdsSlot, isFinished } from './states.ts';

export type MarkState = 'success' | 'failed';

export interface MarkPlan {
  /** Changes of instances that hold no slots. */
  transitions: TiTransition[];
  /** Queued and running instances whose tries end in the marked state (their slots are released). */
  endTries: TiTransition[];
}

function targetOf(ti: TaskInstance, state: MarkState): TaskInstance['state'] | null {
  if (state === 'success') return ti.state === 'success' || ti.state === 'removed' ? null : 'success';
  if (isFinished(ti.state)) return null;
  return ti.state === 'running' ? 'failed' : 'skipped';
}

function planMarkRun(input: { tis: TaskInstance[]; state: MarkState; now: number }): MarkPlan {
  const plan: MarkPlan = { transitions: [], endTries: [] };
  for (const ti of input.tis) {
    const target = targetOf(ti, input.state);
    if (target === null) continue;
    const transition: TiTransition = {
      key: { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex },
      expect: { state: ti.state, tryNumber: ti.tryNumber },
      set: {
        state: target,
        endedAt: isFinished(ti.state) ? ti.endedAt : input.now,
        heartbeatAt: null,
        waitReason: null,
        nextRetryAt: null,
        rescheduleAt: null,
      },
    };
    if (holdsSlot(ti.state)) plan.endTries.push(transition);
    else plan.transitions.push(transition);
  }
  return plan;
}

export { planMarkRun };
