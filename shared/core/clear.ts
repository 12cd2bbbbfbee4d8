/** Clearing (SEMANTICS.md §8 "Clearing"): re-run a task, optionally with its downstream, or only the failed ones. */

import type { TiTransition } from './evaluate-run.ts';
import type { DagManifest } from './manifest.ts';
import type { DagRun, TaskInstance } from './model.ts';

export interface ClearPlan {
  /** Instances back to state none with a fresh retry budget (maxTries = tryNumber + retries). */
  transitions: TiTransition[];
  /** Queued/running instances whose tries are ended (holds released) as part of the clear. */
  endTries: TiTransition[];
  /** A finished run goes back to queued (clearNumber + 1); null if the run is untouched. */
  run: { expect: DagRun['state']; set: Partial<DagRun> } | null;
}

function planClear(_input: {
  dag: DagManifest;
  run: DagRun;
  tis: TaskInstance[];
  taskIds: string[];
  downstream: boolean;
  onlyFailed: boolean;
  now: number;
}): ClearPlan {
  throw new Error('not implemented');
}

export { planClear };
