/**
 * One look at a running DAG run (Airflow's `DagRun.update_state` + `schedule_tis`): which task
 * instances become scheduled, skipped, upstream_failed or (empty tasks) success, which retries and
 * reschedules are due, why the others wait, and whether the run is now finished.
 * Propagation runs to a fixpoint in one call (skips cascade through the whole graph at once).
 */
import type { DagManifest } from './manifest.ts';
import type { DagRun, TaskInstance, TiKey, WaitReason } from './model.ts';
import type { RunState } from './states.ts';

export interface TiTransition {
  key: TiKey;
  expect: { state: TaskInstance['state']; tryNumber: number };
  set: Partial<TaskInstance> & { state: TaskInstance['state'] };
}

export interface RunEvaluation {
  transitions: TiTransition[];
  waits: { key: TiKey; reason: WaitReason }[];
  /** The run's new final state when it is now finished; null while it keeps running. */
  finish: { state: Extract<RunState, 'success' | 'failed'>; note: string | null } | null;
}

function evaluateRun(_input: {
  dag: DagManifest;
  run: DagRun;
  tis: TaskInstance[];
  now: number;
}): RunEvaluation {
  throw new Error('not implemented');
}

export { evaluateRun };
