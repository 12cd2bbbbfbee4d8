/**
 * Claim selection (SEMANTICS.md §3 with Updraft's choices): given scheduled candidates and the
 * current counters, decide which task instances to move to queued in this pass and why the rest wait.
 * Pure and deterministic: same input, same output.
 *
 * Unlike Airflow's critical section there are no fixed-size windows and no "starved" sets: every
 * candidate is checked on its own against the counters as raised by the claims ordered before it,
 * so a candidate held back by its own pool, DAG or task limit never blocks lower-priority work.
 */
import { ClaimOrder, compareClaimOrder } from './claim-order.ts';
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

const UNLIMITED = -1;

/** The counters of one pass, copied from the input so the caller's maps are never changed. */
class WorkingCounters {
  parallelism: number;
  readonly parallelismLimit: number;
  private readonly pools: ClaimState['pools'];
  private readonly poolUsed = new Map<string, number>();
  private readonly dagUsed: Map<string, number>;
  private readonly taskUsed: Map<string, number>;
  private readonly taskRunUsed: Map<string, number>;
  private readonly executorFree: ClaimState['executorFree'];

  constructor(state: ClaimState) {
    this.parallelism = state.parallelism.used;
    this.parallelismLimit = state.parallelism.limit;
    this.pools = state.pools;
    this.dagUsed = new Map(state.dagUsed);
    this.taskUsed = new Map(state.taskUsed);
    this.taskRunUsed = new Map(state.taskRunUsed);
    this.executorFree = { ...state.executorFree };
  }

  parallelismFull(): boolean {
    return this.parallelism >= this.parallelismLimit;
  }

  /** Why `candidate` cannot be claimed now (parallelism aside), or null when it fits. */
  blocker(candidate: ClaimCandidate): WaitReason | null {
    const { ti } = candidate;
    const pool = this.pools.get(ti.pool);
    if (!pool) return { kind: 'pool_missing', pool: ti.pool };
    if (pool.slots !== UNLIMITED) {
      if (ti.poolSlots > pool.slots)
        return { kind: 'pool_too_small', pool: ti.pool, needs: ti.poolSlots, slots: pool.slots };
      const used = this.poolUsed.get(ti.pool) ?? pool.used;
      if (pool.slots - used < ti.poolSlots)
        return { kind: 'pool_full', pool: ti.pool, used, slots: pool.slots, needs: ti.poolSlots };
    }
    const dagUsed = this.dagUsed.get(ti.dagId) ?? 0;
    if (dagUsed >= candidate.dagMaxActiveTasks)
      return { kind: 'dag_max_active_tasks', used: dagUsed, limit: candidate.dagMaxActiveTasks };
    if (candidate.maxActiveTisPerDag !== null) {
      const used = this.taskUsed.get(taskKey(ti)) ?? 0;
      if (used >= candidate.maxActiveTisPerDag)
        return { kind: 'task_max_active_tis_per_dag', used, limit: candidate.maxActiveTisPerDag };
    }
    if (candidate.maxActiveTisPerDagrun !== null) {
      const used = this.taskRunUsed.get(taskRunKey(ti)) ?? 0;
      if (used >= candidate.maxActiveTisPerDagrun)
        return { kind: 'task_max_active_tis_per_dagrun', used, limit: candidate.maxActiveTisPerDagrun };
    }
    const free = this.executorFree[ti.executor];
    if (free !== null && free <= 0) return { kind: 'executor_capacity', executor: ti.executor };
    return null;
  }

  /** Raises every counter the claim holds (and the executor's free capacity), returning the holds. */
  claim(candidate: ClaimCandidate): ClaimDecision {
    const { ti } = candidate;
    const pool = this.pools.get(ti.pool)!;
    this.parallelism += 1;
    this.poolUsed.set(ti.pool, (this.poolUsed.get(ti.pool) ?? pool.used) + ti.poolSlots);
    this.dagUsed.set(ti.dagId, (this.dagUsed.get(ti.dagId) ?? 0) + 1);
    const holds: ClaimDecision['holds'] = [
      { counter: { kind: 'global' }, amount: 1, limit: this.parallelismLimit },
      { counter: { kind: 'pool', pool: ti.pool }, amount: ti.poolSlots, limit: pool.slots },
      { counter: { kind: 'dag', dagId: ti.dagId }, amount: 1, limit: candidate.dagMaxActiveTasks },
    ];
    if (candidate.maxActiveTisPerDag !== null) {
      const key = taskKey(ti);
      this.taskUsed.set(key, (this.taskUsed.get(key) ?? 0) + 1);
      holds.push({
        counter: { kind: 'task', dagId: ti.dagId, taskId: ti.taskId },
        amount: 1,
        limit: candidate.maxActiveTisPerDag,
      });
    }
    if (candidate.maxActiveTisPerDagrun !== null) {
      const key = taskRunKey(ti);
      this.taskRunUsed.set(key, (this.taskRunUsed.get(key) ?? 0) + 1);
      holds.push({
        counter: { kind: 'taskRun', dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId },
        amount: 1,
        limit: candidate.maxActiveTisPerDagrun,
      });
    }
    const free = this.executorFree[ti.executor];
    if (free !== null) this.executorFree[ti.executor] = free - 1;
    return { ti, holds };
  }
}

function taskKey(ti: TaskInstance): string {
  return `${ti.dagId}/${ti.taskId}`;
}

function taskRunKey(ti: TaskInstance): string {
  return `${ti.dagId}/${ti.runId}/${ti.taskId}`;
}

function keyOf(ti: TaskInstance): TiKey {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
}

/**
 * Picks up to `maxClaims` candidates in claim order that fit every limit, updating the counters as
 * it goes so a batch never over-fills anything. A candidate blocked by its own pool, DAG or task
 * limit never blocks lower-priority candidates that fit.
 *
 * Each candidate is checked in this order: parallelism, pool missing, pool too small, pool full,
 * DAG maxActiveTasks, task maxActiveTisPerDag, task maxActiveTisPerDagrun, executor capacity.
 * Once parallelism is full, that candidate and every later one wait with reason `parallelism`.
 * Once `maxClaims` candidates are claimed (and parallelism still has room), the walk stops: later
 * candidates were not reached and get no wait reason from this pass (their previous one stands).
 *
 * Holds list the global, pool and DAG counters, plus the task and task-in-run counters when those
 * limits are set. The executor counter is not among them: the caller adds it when the executor's
 * capacity is bounded (`executorFree` is only how much of it is left).
 *
 * `reasonOnly` candidates (instances that just became scheduled, but that the caller did not read
 * in claim order) are never claimed: after the walk, each is checked against the counters as the
 * claims left them, and gets a wait reason when it certainly cannot be claimed now (parallelism,
 * its pool, DAG or task limits, executor capacity). One that would fit gets none: work ahead of it
 * in its pool was not read, so whether it would be claimed is for a later pass to say.
 *
 * O(n log n) in candidates; input order and the input maps are left untouched.
 */
function selectClaims(input: {
  candidates: ClaimCandidate[];
  state: ClaimState;
  maxClaims: number;
  reasonOnly?: ClaimCandidate[];
}): ClaimSelection {
  const { candidates, state, maxClaims, reasonOnly = [] } = input;
  const order = new ClaimOrder(candidates);
  const counters = new WorkingCounters(state);
  const claims: ClaimDecision[] = [];
  const waits: ClaimSelection['waits'] = [];
  for (let candidate = order.next(); candidate; candidate = order.next()) {
    if (counters.parallelismFull()) {
      // Shared by every remaining wait: reasons are plain data, never changed once made.
      const reason: WaitReason = {
        kind: 'parallelism',
        used: counters.parallelism,
        limit: counters.parallelismLimit,
      };
      for (let rest: ClaimCandidate | undefined = candidate; rest; rest = order.next()) {
        waits.push({ key: keyOf(rest.ti), reason });
      }
      break;
    }
    if (claims.length >= maxClaims) break;
    const reason = counters.blocker(candidate);
    if (reason) waits.push({ key: keyOf(candidate.ti), reason });
    else claims.push(counters.claim(candidate));
  }
  for (const candidate of reasonOnly) {
    const reason: WaitReason | null = counters.parallelismFull()
      ? { kind: 'parallelism', used: counters.parallelism, limit: counters.parallelismLimit }
      : counters.blocker(candidate);
    if (reason) waits.push({ key: keyOf(candidate.ti), reason });
  }
  return { claims, waits };
}

export { compareClaimOrder, selectClaims };
