/**
 * One look at a running DAG run (Airflow's `DagRun.update_state` + `schedule_tis`): which task
 * instances become scheduled, skipped, upstream_failed or (empty tasks) success, which retries and
 * reschedules are due, why the others wait, and whether the run is now finished.
 *
 * Tasks are visited in the manifest's topological order against a working copy of the states, so a
 * skip or upstream_failed cascades through the whole graph in one evaluation (Airflow needs one
 * scheduler loop per level). A task with no instance in this run (its own start/end dates exclude
 * the run) does not exist for its downstream: it neither blocks nor counts.
 */
import type { DagManifest, TaskManifest } from './manifest.ts';
import type { DagRun, TaskInstance, TiKey, WaitReason } from './model.ts';
import { decideRunState } from './run-state.ts';
import { holdsSlot, isFinished, isUnfinished, type RunState, type TiState } from './states.ts';
import { evaluateTriggerRule, type UpstreamCounts } from './trigger-rules.ts';

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

function keyOf(ti: TaskInstance): TiKey {
  return { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
}

/** A manifest's graph by position: task positions by id and each task's upstream positions. */
interface Shape {
  position: Map<string, number>;
  /** Aligned with each task's `upstream` ids. */
  upstream: number[][];
}

/** Manifests are immutable (a version is its content hash): each shape is built once. */
const shapes = new WeakMap<DagManifest, Shape>();

function shapeOf(dag: DagManifest): Shape {
  let shape = shapes.get(dag);
  if (!shape || shape.upstream.length !== dag.tasks.length) {
    const position = new Map(dag.tasks.map((t, i) => [t.taskId, i]));
    // -1 for an id that is not a task (never in a valid manifest): it has no instance, so no state.
    const upstream = dag.tasks.map((t) => t.upstream.map((id) => position.get(id) ?? -1));
    shape = { position, upstream };
    shapes.set(dag, shape);
  }
  return shape;
}

/**
 * Counts of a task's direct upstream by state, over the upstream tasks that have an instance in
 * this run, written into `into` (one scratch object: a look counts for every waiting instance, and
 * the trigger rule reads the counts at once and keeps none of them).
 */
function countUpstream(
  upstream: readonly number[],
  states: readonly (TiState | undefined)[],
  into: UpstreamCounts,
): UpstreamCounts {
  const c = into;
  c.upstream = 0;
  c.success = 0;
  c.failed = 0;
  c.skipped = 0;
  c.upstreamFailed = 0;
  c.removed = 0;
  for (const up of upstream) {
    const state = states[up];
    if (state === undefined) continue;
    c.upstream += 1;
    if (state === 'success') c.success += 1;
    else if (state === 'failed') c.failed += 1;
    else if (state === 'skipped') c.skipped += 1;
    else if (state === 'upstream_failed') c.upstreamFailed += 1;
    else if (state === 'removed') c.removed += 1;
  }
  return c;
}

const scratchCounts: UpstreamCounts = {
  upstream: 0,
  success: 0,
  failed: 0,
  skipped: 0,
  upstreamFailed: 0,
  removed: 0,
};

/** The upstream task ids still unfinished, in upstream order (the `upstream_pending` wait reason). */
function pendingUpstream(
  task: TaskManifest,
  upstream: readonly number[],
  states: readonly (TiState | undefined)[],
): string[] {
  const pending: string[] = [];
  for (let k = 0; k < upstream.length; k += 1) {
    const state = states[upstream[k]!];
    if (state !== undefined && !isFinished(state)) pending.push(task.upstream[k]!);
  }
  return pending;
}

/** Own enumerable keys of a plain object, counted without building their list. */
function keyCount(value: object): number {
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key)) n += 1;
  return n;
}

/**
 * Whether `reason` says what `pendingUpstream` would (`sameWaitReason` of the two), judged in
 * place: most looks find a waiting instance's reason unchanged, and build no reason for it.
 */
function samePending(
  reason: WaitReason | null,
  task: TaskManifest,
  upstream: readonly number[],
  states: readonly (TiState | undefined)[],
): boolean {
  if (reason === null || reason.kind !== 'upstream_pending' || !Array.isArray(reason.pending)) return false;
  const listed = reason.pending;
  let n = 0;
  for (let k = 0; k < upstream.length; k += 1) {
    const state = states[upstream[k]!];
    if (state === undefined || isFinished(state)) continue;
    if (n >= listed.length || listed[n] !== task.upstream[k]) return false;
    n += 1;
  }
  return n === listed.length && keyCount(reason) === 2;
}

/** Whether `reason` is `{ kind, at }` of this kind and instant (`sameWaitReason` of the two). */
function sameInstant(reason: WaitReason | null, kind: 'retry_at' | 'reschedule_at', at: number): boolean {
  return reason !== null && reason.kind === kind && reason.at === at && keyCount(reason) === 2;
}

/**
 * dagrunTimeout (a run started before `now − timeout`): the run fails now with note
 * `dagrun_timeout`, and every unfinished instance that holds no slot (none, scheduled, up_for_retry,
 * up_for_reschedule) is skipped. Airflow skips queued and running ones too and kills their tasks;
 * Updraft cannot take a try away from its worker, so queued/running instances finish on their own
 * and release their slots when their try ends (a queued one's worker finds the run finished).
 */
function timedOut(input: {
  dag: DagManifest;
  run: DagRun;
  tis: TaskInstance[];
  now: number;
}): RunEvaluation | null {
  const { dag, run, tis, now } = input;
  if (dag.dagrunTimeoutMs === null || run.startedAt === null || now - run.startedAt <= dag.dagrunTimeoutMs)
    return null;
  const transitions = tis
    .filter((ti) => !isFinished(ti.state) && !holdsSlot(ti.state))
    .map((ti) => ({
      key: keyOf(ti),
      expect: { state: ti.state, tryNumber: ti.tryNumber },
      set: { state: 'skipped' as const, endedAt: now, waitReason: null },
    }));
  return { transitions, waits: [], finish: { state: 'failed', note: 'dagrun_timeout' } };
}

/** What one look does to one instance (see `stepOf`). */
type Step = { set?: TiTransition['set']; wait?: WaitReason };

/** The step that changes nothing (shared: it is only read). */
const NO_STEP: Step = Object.freeze({});

/**
 * What one look does to one instance, given the working states of its direct upstream: a
 * transition (`set`), a new wait reason (`wait`, only when it differs from the instance's own:
 * an unchanged reason is not written again), or nothing (an instance outside none / up_for_retry
 * / up_for_reschedule is left alone).
 */
function stepOf(
  task: TaskManifest,
  ti: TaskInstance,
  upstream: readonly number[],
  states: readonly (TiState | undefined)[],
  now: number,
): Step {
  switch (ti.state) {
    case 'none': {
      const verdict = evaluateTriggerRule(task.triggerRule, countUpstream(upstream, states, scratchCounts));
      if (verdict.passes && task.operator.kind === 'empty') {
        return {
          set: {
            state: 'success',
            tryNumber: ti.tryNumber + 1,
            startedAt: now,
            endedAt: now,
            waitReason: null,
          },
        };
      }
      if (verdict.passes) {
        return {
          set: { state: 'scheduled', tryNumber: ti.tryNumber + 1, scheduledAt: now, waitReason: null },
        };
      }
      if (verdict.setState) return { set: { state: verdict.setState, endedAt: now, waitReason: null } };
      if (samePending(ti.waitReason, task, upstream, states)) return NO_STEP;
      return { wait: { kind: 'upstream_pending', pending: pendingUpstream(task, upstream, states) } };
    }
    case 'up_for_retry':
      // Strictly after the retry time (Airflow's NotInRetryPeriodDep). A retry without a time
      // (never written by Updraft) is due at once rather than stuck forever.
      if (ti.nextRetryAt === null || ti.nextRetryAt < now) {
        return {
          set: {
            state: 'scheduled',
            tryNumber: ti.tryNumber + 1,
            scheduledAt: now,
            nextRetryAt: null,
            waitReason: null,
          },
        };
      }
      if (sameInstant(ti.waitReason, 'retry_at', ti.nextRetryAt)) return NO_STEP;
      return { wait: { kind: 'retry_at', at: ti.nextRetryAt } };
    case 'up_for_reschedule':
      if (ti.rescheduleAt === null || ti.rescheduleAt <= now) {
        return { set: { state: 'scheduled', scheduledAt: now, rescheduleAt: null, waitReason: null } };
      }
      if (sameInstant(ti.waitReason, 'reschedule_at', ti.rescheduleAt)) return NO_STEP;
      return { wait: { kind: 'reschedule_at', at: ti.rescheduleAt } };
    default:
      return NO_STEP;
  }
}

/**
 * The position of `ti`'s task in the manifest, or -1: `j`, its place in the run's listing, first
 * (a run's instances are listed in creation order, the manifest's), then by id.
 */
function positionOf(dag: DagManifest, shape: Shape, ti: TaskInstance, j: number): number {
  if (dag.tasks[j]?.taskId === ti.taskId) return j;
  return shape.position.get(ti.taskId) ?? -1;
}

function evaluateRun(input: {
  dag: DagManifest;
  run: DagRun;
  tis: TaskInstance[];
  now: number;
}): RunEvaluation {
  const expired = timedOut(input);
  if (expired) return expired;
  const { dag, tis, now } = input;
  const shape = shapeOf(dag);
  const n = dag.tasks.length;
  // The run's instances and their working states by task position (a task without an instance
  // in this run has none); the last instance of a task id wins, as a map by id would keep it.
  const tiAt: (TaskInstance | undefined)[] = new Array(n);
  const states: (TiState | undefined)[] = new Array(n);
  // Each instance's task position (-1: not in the manifest), found once for both walks below.
  const positions: number[] = new Array(tis.length);
  for (let j = 0; j < tis.length; j += 1) {
    const ti = tis[j]!;
    const i = positionOf(dag, shape, ti, j);
    positions[j] = i;
    if (i === -1) continue;
    tiAt[i] = ti;
    states[i] = ti.state;
  }
  const transitions: TiTransition[] = [];
  const waits: RunEvaluation['waits'] = [];
  for (let i = 0; i < n; i += 1) {
    const ti = tiAt[i];
    if (!ti) continue;
    const step = stepOf(dag.tasks[i]!, ti, shape.upstream[i]!, states, now);
    if (step.set) {
      transitions.push({
        key: keyOf(ti),
        expect: { state: ti.state, tryNumber: ti.tryNumber },
        set: step.set,
      });
      states[i] = step.set.state;
    } else if (step.wait) waits.push({ key: keyOf(ti), reason: step.wait });
  }

  // An instance's state after this look: its task's working state (the last instance of an id
  // wins), or its own when its task is not in the manifest.
  const stateAfter = (ti: TaskInstance, j: number) => {
    const i = positions[j]!;
    return (i === -1 ? undefined : states[i]) ?? ti.state;
  };
  // Most looks find work still going: an unfinished instance outside `none`, or a change, means
  // running and never deadlocked (decideRunState's first rule), decided without its scans.
  const changed = transitions.length > 0;
  for (let j = 0; j < tis.length; j += 1) {
    const state = stateAfter(tis[j]!, j);
    if (isUnfinished(state) && (changed || state !== 'none')) return { transitions, waits, finish: null };
  }
  const after = tis.map((ti, j) => ({ taskId: ti.taskId, state: stateAfter(ti, j) }));
  const decision = decideRunState(dag, after, { changed });
  return { transitions, waits, finish: decision.state === 'running' ? null : decision };
}

export { evaluateRun, keyOf, shapeOf, stepOf, timedOut };
