/**
 * The memory store's twin of the DynamoDB claim index: scheduled task instances per pool in claim
 * order. Each pool is one array kept sorted: an arrival is placed by binary search and a member that
 * leaves is taken out where it sits (claim order is a total order over the instance key, so its
 * place is exact). A page is a binary search to its cursor and a walk of what it hands out — never
 * a pass over the backlog (merging arrivals into the whole list on every page cost O(backlog) per
 * pool per scheduler pass).
 */
import { compareClaimOrder } from '#core/claim.ts';
import type { TaskInstance } from '#core/model.ts';
import type { Slot } from './memory-tis.ts';

interface Entry {
  /** The instance's place in claim order (its ordering fields never change while it is scheduled). */
  ti: TaskInstance;
  /** Where its current record lives: wait reasons are written beside the index and must read fresh. */
  slot: Slot;
}

/** The claim-order key of the last item of a page, so the next page starts after it even if it left. */
type Cursor = Pick<
  TaskInstance,
  'priorityWeight' | 'logicalDate' | 'dagId' | 'runId' | 'taskId' | 'mapIndex'
>;

/**
 * The cursor is the key's JSON: opaque to callers, and cheap to build (a page is read for every pool
 * in every scheduler pass; base64 of it cost a Buffer and a copy per page).
 */
function encodeCursor(ti: TaskInstance): string {
  return JSON.stringify([ti.priorityWeight, ti.logicalDate, ti.dagId, ti.runId, ti.taskId, ti.mapIndex]);
}

function decodeCursor(cursor: string): Cursor {
  const [priorityWeight, logicalDate, dagId, runId, taskId, mapIndex] = JSON.parse(cursor) as [
    number,
    number,
    string,
    string,
    string,
    number,
  ];
  return { priorityWeight, logicalDate, dagId, runId, taskId, mapIndex };
}

/** Index of the first entry of `sorted` that does not come before `ti` in claim order. */
function lowerBound(sorted: readonly Entry[], ti: Cursor): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareClaimOrder(sorted[mid]!.ti, ti as TaskInstance) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first entry of `sorted` that comes after `ti` in claim order. */
function upperBound(sorted: readonly Entry[], ti: Cursor): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareClaimOrder(sorted[mid]!.ti, ti as TaskInstance) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class CandidateIndex {
  /** Per pool, the members in claim order. */
  readonly #pools = new Map<string, Entry[]>();

  add(ti: TaskInstance, slot: Slot): void {
    let sorted = this.#pools.get(ti.pool);
    if (!sorted) {
      sorted = [];
      this.#pools.set(ti.pool, sorted);
    }
    const at = lowerBound(sorted, ti);
    // The same instance again (its key is its place): the newer record replaces the older.
    if (sorted[at]?.slot === slot) sorted[at] = { ti, slot };
    else sorted.splice(at, 0, { ti, slot });
  }

  remove(ti: TaskInstance, slot: Slot): void {
    const sorted = this.#pools.get(ti.pool);
    if (!sorted) return;
    const at = lowerBound(sorted, ti);
    if (sorted[at]?.slot === slot) sorted.splice(at, 1);
  }

  /** Slots of the next `limit` members after `cursor` that pass `keep` (null: all do), in claim order. */
  page(
    pool: string,
    limit: number,
    cursor: string | null,
    keep: ((ti: TaskInstance) => boolean) | null,
  ): { slots: Slot[]; next: string | null } {
    const sorted = this.#pools.get(pool);
    if (!sorted || sorted.length === 0) return { slots: [], next: null };
    let i = cursor === null ? 0 : upperBound(sorted, decodeCursor(cursor));
    const slots: Slot[] = [];
    let last: TaskInstance | null = null;
    for (; i < sorted.length && slots.length < limit; i += 1) {
      const entry = sorted[i]!;
      if (keep && !keep(entry.ti)) continue;
      slots.push(entry.slot);
      last = entry.ti;
    }
    let more = false;
    for (; i < sorted.length && !more; i += 1) more = !keep || keep(sorted[i]!.ti);
    return { slots, next: more && last ? encodeCursor(last) : null };
  }
}

export { CandidateIndex };
