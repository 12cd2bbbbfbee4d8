/**
 * Claim order (priority weight desc, logical date asc, then dagId, runId, taskId, mapIndex asc),
 * produced lazily so a pass that stops after its first thousand claims does not pay for ordering
 * the whole backlog.
 *
 * How: two stable counting sorts by dense rank (logical date, then priority weight) group the
 * candidates by (weight, date) in O(n + distinct values); each group is then sorted by its ids only
 * when the walk reaches it. A full walk costs O(n log n); sorting 100k objects with a string
 * comparator up front costs several times more than the whole bounded pass.
 */
import type { TaskInstance } from './model.ts';

/**
 * Tie-break inside one (weight, date) group: dagId, runId, taskId, mapIndex ascending. Ids compare by
 * code unit (the order `Array.prototype.sort()` gives strings), never by locale.
 */
function compareIds(a: TaskInstance, b: TaskInstance): number {
  if (a.dagId !== b.dagId) return a.dagId < b.dagId ? -1 : 1;
  if (a.runId !== b.runId) return a.runId < b.runId ? -1 : 1;
  if (a.taskId !== b.taskId) return a.taskId < b.taskId ? -1 : 1;
  return a.mapIndex - b.mapIndex;
}

/** Claim order: priority weight desc, logical date asc, then dagId, runId, taskId, mapIndex asc. */
function compareClaimOrder(a: TaskInstance, b: TaskInstance): number {
  if (a.priorityWeight !== b.priorityWeight) return a.priorityWeight > b.priorityWeight ? -1 : 1;
  if (a.logicalDate !== b.logicalDate) return a.logicalDate < b.logicalDate ? -1 : 1;
  return compareIds(a, b);
}

/** Value grids up to this many steps are ranked through a lookup table instead of a Map. */
const MAX_TABLE_SIZE = 1 << 16;

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const rest = x % y;
    x = y;
    y = rest;
  }
  return x;
}

/**
 * Dense rank of each value among the distinct values, ascending (`descending` flips it). Integer
 * values on a small grid (priority weights; logical dates a whole number of hours or days apart)
 * go through a lookup table; anything else through one Map lookup per value.
 */
function denseRanks(values: Float64Array, descending: boolean): { ranks: Int32Array; count: number } {
  const n = values.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integers = true;
  for (let i = 0; i < n; i += 1) {
    const value = values[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
    if (!Number.isSafeInteger(value)) integers = false;
  }
  let step = 0;
  for (let i = 0; integers && i < n && step !== 1; i += 1) {
    const offset = values[i]! - min;
    if (step === 0 || offset % step !== 0) step = gcd(offset, step);
  }
  // Provisional ids in first-seen order, then a small permutation to sorted ranks.
  const ids = new Int32Array(n);
  const distinct: number[] = [];
  if (integers && (step === 0 || (max - min) / step < MAX_TABLE_SIZE)) {
    const table = new Int32Array(step === 0 ? 1 : (max - min) / step + 1).fill(-1);
    for (let i = 0; i < n; i += 1) {
      const slot = step === 0 ? 0 : (values[i]! - min) / step;
      let id = table[slot]!;
      if (id === -1) {
        id = distinct.length;
        table[slot] = id;
        distinct.push(values[i]!);
      }
      ids[i] = id;
    }
  } else {
    const idOf = new Map<number, number>();
    for (let i = 0; i < n; i += 1) {
      let id = idOf.get(values[i]!);
      if (id === undefined) {
        id = distinct.length;
        idOf.set(values[i]!, id);
        distinct.push(values[i]!);
      }
      ids[i] = id;
    }
  }
  const byValue = Array.from(distinct.keys()).sort((a, b) =>
    descending ? distinct[b]! - distinct[a]! : distinct[a]! - distinct[b]!,
  );
  const rankOfId = new Int32Array(distinct.length);
  for (let rank = 0; rank < byValue.length; rank += 1) rankOfId[byValue[rank]!] = rank;
  for (let i = 0; i < n; i += 1) ids[i] = rankOfId[ids[i]!]!;
  return { ranks: ids, count: distinct.length };
}

/** Stable counting sort of `items` by `keys[item]` (keys in `[0, count)`). */
function countingSort(items: Int32Array, keys: Int32Array, count: number): Int32Array {
  const starts = new Int32Array(count + 1);
  for (let i = 0; i < items.length; i += 1) starts[keys[items[i]!]! + 1]! += 1;
  for (let k = 0; k < count; k += 1) starts[k + 1]! += starts[k]!;
  const out = new Int32Array(items.length);
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i]!;
    const key = keys[item]!;
    out[starts[key]!] = item;
    starts[key]! += 1;
  }
  return out;
}

/**
 * Up to this many candidates are sorted whole by `compareClaimOrder` (a pass's usual few dozen):
 * the same order (a total order; both sorts are stable), without the ranks' typed arrays.
 */
const SMALL = 64;

/** Candidates in the claim order of their task instances; call `next()` until it returns undefined. */
class ClaimOrder<T extends { ti: TaskInstance }> {
  private readonly candidates: readonly T[];
  /** Candidate indexes by (weight desc, date asc); ids not yet ordered. */
  private readonly order: Int32Array;
  private readonly weightRank: Int32Array;
  private readonly dateRank: Int32Array;
  /** Start of the next (weight, date) group in `order`. */
  private position = 0;
  /** The current group, sorted by ids. */
  private group: T[] = [];
  private inGroup = 0;

  constructor(candidates: readonly T[]) {
    this.candidates = candidates;
    const n = candidates.length;
    if (n <= SMALL) {
      this.order = this.weightRank = this.dateRank = new Int32Array(0);
      this.group = candidates.slice().sort((a, b) => compareClaimOrder(a.ti, b.ti));
      return;
    }
    const weights = new Float64Array(n);
    const dates = new Float64Array(n);
    const identity = new Int32Array(n);
    for (let i = 0; i < n; i += 1) {
      const { ti } = candidates[i]!;
      weights[i] = ti.priorityWeight;
      dates[i] = ti.logicalDate;
      identity[i] = i;
    }
    const weight = denseRanks(weights, true);
    const date = denseRanks(dates, false);
    this.weightRank = weight.ranks;
    this.dateRank = date.ranks;
    // LSD: by date, then stably by weight, gives (weight desc, date asc).
    this.order = countingSort(countingSort(identity, date.ranks, date.count), weight.ranks, weight.count);
  }

  next(): T | undefined {
    if (this.inGroup === this.group.length) {
      if (this.position === this.order.length) return undefined;
      this.loadGroup();
    }
    return this.group[this.inGroup++];
  }

  /** Takes the next run of equal (weight, date) and sorts it by ids (plain arrays sort fastest). */
  private loadGroup(): void {
    const { order, weightRank, dateRank, candidates } = this;
    const first = order[this.position]!;
    const group: T[] = [];
    let end = this.position;
    while (
      end < order.length &&
      weightRank[order[end]!] === weightRank[first] &&
      dateRank[order[end]!] === dateRank[first]
    ) {
      group.push(candidates[order[end]!]!);
      end += 1;
    }
    if (group.length > 1) group.sort((a, b) => compareIds(a.ti, b.ti));
    this.position = end;
    this.group = group;
    this.inGroup = 0;
  }
}

export { ClaimOrder, compareClaimOrder };
