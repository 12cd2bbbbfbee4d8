/** The report of `updraft simulate --json` (a public interface: documented in docs/simulate.md). */

import type { WaitReason } from '#core/model.ts';
import type { RunState, RunType, TiState } from '#core/states.ts';

export interface SimTry {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  /** Position in the global claim order (1 = first try claimed in the simulation). */
  claimOrder: number | null;
  scheduledAt: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** How the try ended: success, failed, up_for_retry, up_for_reschedule, … (null = still going at the end). */
  state: TiState | null;
  /** Every state change of this task instance during this try, in order. */
  transitions: { at: string; state: TiState }[];
  /** Wait reasons while it waited, each from the instant it applied. */
  waits: { at: string; reason: WaitReason; text: string }[];
}

export interface SimRun {
  dagId: string;
  runId: string;
  runType: RunType;
  logicalDate: string;
  dataInterval: { start: string; end: string };
  state: RunState;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface Peak {
  peak: number;
  limit: number | null;
  at: string | null;
}

export interface SimReport {
  reportVersion: 1;
  seed: number;
  window: { start: string; end: string };
  runs: SimRun[];
  tries: SimTry[];
  peaks: {
    global: Peak;
    pools: Record<string, Peak>;
    dags: Record<string, Peak>;
    tasks: Record<string, Peak>;
  };
  totals: {
    runs: Record<RunState, number>;
    tries: number;
    tasksSucceeded: number;
    tasksFailed: number;
    schedulerPasses: number;
    /** Mean and p95 time from scheduled to running, in seconds. */
    queueWaitSeconds: { mean: number; p95: number };
  };
  /** Limits that were exceeded (always empty unless there is a bug): the simulator checks itself. */
  violations: string[];
}
