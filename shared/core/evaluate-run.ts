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
import { sameWaitReason } from './wait-reasons.ts';

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

/** Counts of a task's direct upstream by state, over the upstream tasks that have an instance in this run. */
function countUpstream(
  upstream: readonly number[],
  states: readonly (TiState | undefined)[],
): UpstreamCounts {
  const c = { upstream: 0, success: 0, failed: 0, skipped: 0, upstreamFailed: 0, removed: 0 };
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

/**
 * What one look does to one instance, given the working states of its direct upstream: a
 * transition (`set`), a wait reason, or nothing (an instance outside none / up_for_retry /
 * up_for_reschedule is left alone).
 */
function stepOf(
  task: TaskManifest,
  ti: TaskInstance,
  upstream: readonly number[],
  states: readonly (TiState | undefined)[],
  now: number,
): { set?: TiTransition['set']; wait?: WaitReason } {
  switch (ti.state) {
    case 'none': {
      const verdict = evaluateTriggerRule(task.triggerRule, countUpstream(upstream, states));
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
      return { wait: { kind: 'retry_at', at: ti.nextRetryAt } };
    case 'up_for_reschedule':
      if (ti.rescheduleAt === null || ti.rescheduleAt <= now) {
        return { set: { state: 'scheduled', scheduledAt: now, rescheduleAt: null, waitReason: null } };
      }
      return { wait: { kind: 'reschedule_at', at: ti.rescheduleAt } };
    default:
      return {};
  }
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
  // The run's instances and their working states by task position (a task without an instance
  // in this run has none); the last instance of a task id wins, as a map by id would keep it.
  const tiAt: (TaskInstance | undefined)[] = new Array(dag.tasks.length);
  const states: (TiState | undefined)[] = new Array(dag.tasks.length);
  for (const ti of tis) {
    const i = shape.position.get(ti.taskId);
    if (i === undefined) continue;
    tiAt[i] = ti;
    states[i] = ti.state;
  }
  const transitions: TiTransition[] = [];
  const waits: RunEvaluation['waits'] = [];
  const move = (i: number, ti: TaskInstance, set: TiTransition['set']) => {
    transitions.push({ key: keyOf(ti), expect: { state: ti.state, tryNumber: ti.tryNumber }, set });
    states[i] = set.state;
  };
  const wait = (ti: TaskInstance, reason: WaitReason) => {
    if (!sameWaitReason(ti.waitReason, reason)) waits.push({ key: keyOf(ti), reason });
  };

  for (let i = 0; i < dag.tasks.length; i += 1) {
    const ti = tiAt[i];
    if (!ti) continue;
    const step = stepOf(dag.tasks[i]!, ti, shape.upstream[i]!, states, now);
    if (step.set) move(i, ti, step.set);
    else if (step.wait) wait(ti, step.wait);
  }

  const stateAfter = (ti: TaskInstance) => {
    const i = shape.position.get(ti.taskId);
    return (i === undefined ? undefined : states[i]) ?? ti.state;
  };
  // Most looks find work still going: an unfinished instance outside `none`, or a change, means
  // running and never deadlocked (decideRunState's first rule), decided without its scans.
  const changed = transitions.length > 0;
  for (const ti of tis) {
    const state = stateAfter(ti);
    if (isUnfinished(state) && (changed || state !== 'none')) return { transitions, waits, finish: null };
  }
  const after = tis.map((ti) => ({ taskId: ti.taskId, state: stateAfter(ti) }));
  const decision = decideRunState(dag, after, { changed });
  return { transitions, waits, finish: decision.state === 'running' ? null : decision };
}

export { evaluateRun, keyOf, shapeOf, stepOf, timedOut };
