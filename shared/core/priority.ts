/**
 * Effective priority weights (SEMANTICS.md §5): `downstream` (default) adds the own weights of the
 * SET of all transitive downstream tasks, `upstream` of all transitive upstream tasks, `absolute`
 * is the task's own weight. Relatives count once each, with their own weight, whatever their rule.
 */
import type { WeightRule } from './manifest.ts';

export interface WeightInput {
  taskId: string;
  priorityWeight: number;
  weightRule: WeightRule;
  upstream: string[];
  downstream: string[];
}

/** Transitive relatives as bitsets, computed once per direction in dependency order. */
function closures(
  tasks: WeightInput[],
  order: string[],
  edges: (t: WeightInput) => string[],
): Map<string, Uint32Array> {
  const index = new Map(tasks.map((t, i) => [t.taskId, i]));
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const words = Math.ceil(tasks.length / 32);
  const sets = new Map<string, Uint32Array>();
  for (const id of order) {
    const set = new Uint32Array(words);
    for (const rel of edges(byId.get(id)!)) {
      const i = index.get(rel);
      if (i === undefined) continue;
      set[i >> 5]! |= 1 << (i & 31);
      const relSet = sets.get(rel);
      if (relSet) for (let w = 0; w < words; w += 1) set[w]! |= relSet[w]!;
    }
    sets.set(id, set);
  }
  return sets;
}

function sumOf(set: Uint32Array, weights: number[]): number {
  let total = 0;
  for (let w = 0; w < set.length; w += 1) {
    let bits = set[w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      total += weights[w * 32 + (31 - Math.clz32(low))]!;
      bits ^= low;
    }
  }
  return total;
}

/** `topological` lists every task id upstream-first. Returns each task's effective weight. */
function priorityWeightTotals(tasks: WeightInput[], topological: string[]): Map<string, number> {
  const weights = tasks.map((t) => t.priorityWeight);
  const needsDown = tasks.some((t) => t.weightRule === 'downstream');
  const needsUp = tasks.some((t) => t.weightRule === 'upstream');
  const down = needsDown ? closures(tasks, [...topological].reverse(), (t) => t.downstream) : null;
  const up = needsUp ? closures(tasks, topological, (t) => t.upstream) : null;
  const totals = new Map<string, number>();
  for (const task of tasks) {
    const relatives = task.weightRule === 'downstream' ? down : task.weightRule === 'upstream' ? up : null;
    const set = relatives?.get(task.taskId);
    totals.set(task.taskId, task.priorityWeight + (set ? sumOf(set, weights) : 0));
  }
  return totals;
}

export { priorityWeightTotals };
