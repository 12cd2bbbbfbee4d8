/**
 * Effective priority weights (SEMANTICS.md §5): `downstream` (default) adds the own weights of the
 * SET of all transitive downstream tasks, `upstream` of all transitive upstream tasks, `absolute`
 * is the task's own weight. Relatives count once each, with their own weight, whatever their rule.
 * Like Airflow 3 (`db_safe_priority`), a total is clamped to a 32-bit signed integer.
 */
import { indexGraph, type TaskGraph, topologicalOrder } from './graph.ts';
import type { WeightRule } from './manifest.ts';

export interface WeightInput {
  taskId: string;
  priorityWeight: number;
  weightRule: WeightRule;
  /** Direct upstream task ids; ids that are not in the list of tasks are ignored. */
  upstream: readonly string[];
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** Each task's effective weight by task id. The tasks must not form a cycle. */
function priorityWeightTotals(tasks: readonly WeightInput[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const graph = indexGraph(byId.keys(), (id) => byId.get(id)!.upstream);
  const ordered = graph.ids.map((id) => byId.get(id)!);
  const totals = totalsOnGraph(
    graph,
    topologicalOrder(graph),
    ordered.map((t) => t.priorityWeight),
    ordered.map((t) => t.weightRule),
  );
  return new Map(graph.ids.map((id, i) => [id, totals[i]!]));
}

/** The same on an indexed graph: `weights` and `rules` by task index, `order` upstream first. */
function totalsOnGraph(
  graph: TaskGraph,
  order: readonly number[],
  weights: readonly number[],
  rules: readonly WeightRule[],
): number[] {
  const n = graph.ids.length;
  const words = Math.ceil(n / 32);
  const sums = byteSums(weights);
  const down = rules.includes('downstream') ? closures(graph.down, [...order].reverse(), words) : null;
  const up = rules.includes('upstream') ? closures(graph.up, order, words) : null;
  const totals: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const relatives = rules[i] === 'downstream' ? down : rules[i] === 'upstream' ? up : null;
    const total = weights[i]! + (relatives ? sumOf(relatives, i * words, words, sums) : 0);
    totals.push(Math.min(INT32_MAX, Math.max(INT32_MIN, total)));
  }
  return totals;
}

/**
 * Transitive relatives as bitsets (`words` 32-bit words per task, task i at offset i·words).
 * `order` visits every task after all of its `edges` targets, so one pass suffices.
 */
function closures(
  edges: readonly (readonly number[])[],
  order: readonly number[],
  words: number,
): Uint32Array {
  const sets = new Uint32Array(edges.length * words);
  for (const node of order) {
    const base = node * words;
    for (const rel of edges[node]!) {
      sets[base + (rel >> 5)]! |= 1 << (rel & 31);
      const relBase = rel * words;
      for (let w = 0; w < words; w += 1) sets[base + w]! |= sets[relBase + w]!;
    }
  }
  return sets;
}

/** For every byte of a bitset and every value of that byte, the sum of the weights its bits select. */
function byteSums(weights: readonly number[]): Float64Array {
  const bytes = Math.ceil(weights.length / 32) * 4;
  const table = new Float64Array(bytes * 256);
  for (let b = 0; b < bytes; b += 1) {
    const base = b * 256;
    for (let v = 1; v < 256; v += 1) {
      const low = 31 - Math.clz32(v & -v);
      table[base + v] = table[base + (v & (v - 1))]! + (weights[b * 8 + low] ?? 0);
    }
  }
  return table;
}

function sumOf(sets: Uint32Array, offset: number, words: number, sums: Float64Array): number {
  let total = 0;
  for (let w = 0; w < words; w += 1) {
    const bits = sets[offset + w]!;
    if (bits === 0) continue;
    const base = w * 1024;
    total +=
      sums[base + (bits & 0xff)]! +
      sums[base + 256 + ((bits >>> 8) & 0xff)]! +
      sums[base + 512 + ((bits >>> 16) & 0xff)]! +
      sums[base + 768 + (bits >>> 24)]!;
  }
  return total;
}

export { priorityWeightTotals, totalsOnGraph };
