/**
 * Claim selection (SEMANTICS.md §3 with Updraft's choices): given scheduled candidates and the
 * current counters, decide which task instances to move to queued in this pass and why the rest wait.
 * Pure and deterministic: same input, same output.
 */
import type { Hold, TaskInstance, TiKey, WaitReason } from './model.ts';

export interface ClaimCandidate {
  ti: TaskInstance;
  /** The DAG's maxActiveTasks (per DAG across its runs). */
  dagMaxActiveTasks: number;
  maxActiveTisPerDag: number | null;
  maxActiveTisPerDagrun: number | null;
}

/** Counter values as read at the start of the pass. Keys: `dagId`, `dagId/taskId`, `dagId/runId/taskId`. */
export interface ClaimState {
  parallelism: { used: number; limit: number };
  /** Pools by name; a missing entry means the pool does not exist. `slots` -1 = unlimited. */
  pools: Map<string, { used: number; slots: number }>;
  dagUsed: Map<string, number>;
  taskUsed: Map<string, number>;
  taskRunUsed: Map<string, number>;
  /** Free executor capacity per executor kind; null = unbounded. */
  executorFree: { lambda: number | null; fargate: number | null };
}

export interface ClaimDecision {
  ti: TaskInstance;
  /** Counters to raise, each with the limit it must stay within (-1 = unlimited). */
  holds: (Hold & { limit: number })[];
}

export interface ClaimSelection {
  claims: ClaimDecision[];
  waits: { key: TiKey; reason: WaitReason }[];
}

/** Claim order: priority weight desc, logical date asc, then dagId, runId, taskId, mapIndex asc. */
function compareClaimOrder(_a: TaskInstance, _b: TaskInstance): number {
  throw new Error('not implemented');
}

/**
 * Picks up to `maxClaims` candidates in claim order that fit every limit, updating the counters as
 * it goes so a batch never over-fills anything. A candidate blocked by its own pool, DAG or task
 * limit never blocks lower-priority candidates that fit.
 */
function selectClaims(_input: {
  candidates: ClaimCandidate[];
  state: ClaimState;
  maxClaims: number;
}): ClaimSelection {
  throw new Error('not implemented');
}

export { compareClaimOrder, selectClaims };
