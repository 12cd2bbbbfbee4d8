/**
 * A narrow look at a running run after some of its tries ended (a `task_finished` event): only the
 * instances the ended tasks' news can change are evaluated — the ended tasks themselves (a retry
 * or reschedule wait), their direct downstream, and, through a skip, an upstream_failed or an empty
 * task's success, the downstream of those in turn — each against its direct upstream's states.
 * The same steps as `evaluateRun` (`stepOf`), so for the instances it looks at it decides what
 * the whole-run evaluation would; every other instance's inputs did not change.
 *
 * Whether the run is finished is a question about every instance. This look answers "still
 * running" only with proof from what it read: an instance that is unfinished and outside `none`,
 * or unfinished after a change this look made — `evaluateRun`'s own shortcut, which also rules out
 * a deadlock (`decideRunState`). Otherwise it says `undecided`, and the caller evaluates the whole
 * run (or finds other proof, such as a claim of one of the run's instances). Anything it cannot
 * treat narrowly (a timed-out run, an ended task found back in `none`, too much to read) is `full`.
 */
import { keyOf, type RunEvaluation, shapeOf, stepOf, type TiTransition, timedOut } from './evaluate-run.ts';
import type { DagManifest } from './manifest.ts';
import type { DagRun, TaskInstance } from './model.ts';
import { isFinished, isUnfinished, type TiState } from './states.ts';

/** Instances read by task id; null: read, and the task has no instance in this run. */
export type KnownInstances = ReadonlyMap<string, TaskInstance | null>;

export type DownstreamEvaluation =
  /** Read these task ids' instances (mapIndex -1) and look again. */
  | { kind: 'need'; taskIds: string[] }
  /** Evaluate the whole run instead. */
  | { kind: 'full' }
  | {
      kind: 'evaluated';
      transitions: TiTransition[];
      waits: RunEvaluation['waits'];
      /** true: the run is certainly still running; false: only the whole run can tell. */
      running: boolean;
    };

/**
 * More instances than this and one listing of the run is cheaper than reading them by key: fewer
 * requests (a 50-task fan-in read by key made each pass 52 reads) for about the same read units.
 */
const MAX_NARROW_READS = 16;

function positionsOf(dag: DagManifest, taskIds: Iterable<string>): number[] | null {
  const { position } = shapeOf(dag);
  const out: number[] = [];
  for (const id of taskIds) {
    const i = position.get(id);
    if (i === undefined) return null;
    out.push(i);
  }
  return out;
}

/**
 * The task ids a narrow look at `ended` reads first: the ended tasks, their direct downstream and
 * those downstream tasks' direct upstream. Null when that is more than MAX_NARROW_READS (a wide
 * fan-in: one listing of the run costs less), or a task id is not in the manifest.
 */
function firstReads(dag: DagManifest, ended: readonly string[]): string[] | null {
  const out = new Set<string>(ended);
  const at = positionsOf(dag, ended);
  if (!at) return null;
  for (const i of at) {
    for (const down of dag.tasks[i]!.downstream) {
      out.add(down);
      const d = shapeOf(dag).position.get(down);
      if (d === undefined) return null;
      for (const up of dag.tasks[d]!.upstream) out.add(up);
    }
  }
  return out.size > MAX_NARROW_READS ? null : [...out];
}

/**
 * When an ended task is a leaf, nothing downstream of it can show the run unfinished: a narrow look
 * also reads up to two other instances likely to be unfinished — the task after the last ended one
 * in manifest order and the manifest's last task (claim order follows manifest order within a
 * priority, so in a wide run these are still to run). Read by key beside the first reads, they
 * spare a listing of the whole run whenever one of them is still scheduled, queued or running.
 */
function probeReads(dag: DagManifest, ended: readonly string[]): string[] {
  const at = positionsOf(dag, ended);
  if (!at || at.length === 0 || !at.some((i) => dag.tasks[i]!.downstream.length === 0)) return [];
  const taken = new Set(ended);
  const out: string[] = [];
  const next = dag.tasks[(Math.max(...at) + 1) % dag.tasks.length]!.taskId;
  const last = dag.tasks[dag.tasks.length - 1]!.taskId;
  for (const id of [next, last]) {
    if (taken.has(id)) continue;
    taken.add(id);
    out.push(id);
  }
  return out;
}

function evaluateDownstream(input: {
  dag: DagManifest;
  run: DagRun;
  /** Tasks whose try ended (the events' task ids). */
  ended: readonly string[];
  known: KnownInstances;
  now: number;
}): DownstreamEvaluation {
  const { dag, run, ended, known, now } = input;
  if (timedOut({ dag, run, tis: [], now })) return { kind: 'full' };
  const shape = shapeOf(dag);
  const endedAt = positionsOf(dag, ended);
  if (!endedAt) return { kind: 'full' };
  const n = dag.tasks.length;
  const states: (TiState | undefined)[] = new Array(n);
  for (const [taskId, ti] of known) {
    const i = shape.position.get(taskId);
    if (i !== undefined && ti) states[i] = ti.state;
  }
  const missing = new Set<string>();
  const need = (taskId: string) => {
    if (!known.has(taskId)) missing.add(taskId);
  };
  const visit = new Array<boolean>(n).fill(false);
  const visitDownstream = (i: number) => {
    for (const down of dag.tasks[i]!.downstream) {
      const d = shape.position.get(down);
      if (d === undefined) return false;
      visit[d] = true;
    }
    return true;
  };
  for (const i of endedAt) {
    const taskId = dag.tasks[i]!.taskId;
    need(taskId);
    const ti = known.get(taskId);
    // Cleared back to none since its try ended: its own upstream decides now; the whole run is looked at.
    if (ti?.state === 'none') return { kind: 'full' };
    visit[i] = true;
    if (!visitDownstream(i)) return { kind: 'full' };
  }
  if (missing.size > 0) return { kind: 'need', taskIds: [...missing] };

  const transitions: TiTransition[] = [];
  const waits: RunEvaluation['waits'] = [];
  // Manifest order is topological: a cascade only ever marks later positions.
  for (let i = 0; i < n; i += 1) {
    if (!visit[i]) continue;
    const task = dag.tasks[i]!;
    need(task.taskId);
    const ti = known.get(task.taskId);
    if (!ti) continue;
    // Only a trigger rule looks at the upstream (a retry or reschedule wait does not).
    if (ti.state === 'none') for (const up of task.upstream) need(up);
    if (missing.size > 0) continue;
    const step = stepOf(task, ti, shape.upstream[i]!, states, now);
    if (step.set) {
      transitions.push({
        key: keyOf(ti),
        expect: { state: ti.state, tryNumber: ti.tryNumber },
        set: step.set,
      });
      states[i] = step.set.state;
      // A skip, an upstream_failed or an empty task's success is news for its own downstream.
      if (isFinished(step.set.state) && !visitDownstream(i)) return { kind: 'full' };
    } else if (step.wait) {
      waits.push({ key: keyOf(ti), reason: step.wait });
    }
  }
  if (missing.size > 0) {
    if (known.size + missing.size > MAX_NARROW_READS) return { kind: 'full' };
    return { kind: 'need', taskIds: [...missing] };
  }
  const changed = transitions.length > 0;
  let running = false;
  for (let i = 0; i < n && !running; i += 1) {
    const state = states[i];
    running = state !== undefined && isUnfinished(state) && (changed || state !== 'none');
  }
  return { kind: 'evaluated', transitions, waits, running };
}

export { evaluateDownstream, firstReads, MAX_NARROW_READS, probeReads };
