/**
 * The memory store's twin of the DynamoDB claim index: scheduled task instances per pool in claim
 * order. New arrivals are sorted among themselves and merged into the sorted list (dropping the
 * members that left on the way), so a pass neither re-sorts the backlog nor pays for removals.
 */
import { compareClaimOrder } from '#core/claim.ts';
import { type TaskInstance, tiKeyString } from '#core/model.ts';

interface Entry {
  id: string;
  ti: TaskInstance;
}

interface PoolIndex {
  members: Map<string, TaskInstance>;
  /** In claim order; may hold entries that left (dropped at the next merge). */
  sorted: Entry[];
  arrivals: Entry[];
  /** Members removed since the last merge: their entries are skipped until it drops them. */
  removed: number;
}

/** The claim-order key of the last item of a page, so the next page starts after it even if it left. */
type Cursor = Pick<
  TaskInstance,
  'priorityWeight' | 'logicalDate' | 'dagId' | 'runId' | 'taskId' | 'mapIndex'
>;

function encodeCursor(ti: TaskInstance): string {
  const key = [ti.priorityWeight, ti.logicalDate, ti.dagId, ti.runId, ti.taskId, ti.mapIndex];
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  const [priorityWeight, logicalDate, dagId, runId, taskId, mapIndex] = JSON.parse(
    Buffer.from(cursor, 'base64url').toString(),
  ) as [number, number, string, string, string, number];
  return { priorityWeight, logicalDate, dagId, runId, taskId, mapIndex };
}

class CandidateIndex {
  readonly #pools = new Map<string, PoolIndex>();

  #pool(name: string): PoolIndex {
    const index = this.#pools.get(name) ?? { members: new Map(), sorted: [], arrivals: [], removed: 0 };
    this.#pools.set(name, index);
    return index;
  }

  add(ti: TaskInstance): void {
    const index = this.#pool(ti.pool);
    const id = tiKeyString(ti);
    index.members.set(id, ti);
    index.arrivals.push({ id, ti });
  }

  remove(ti: TaskInstance): void {
    const index = this.#pools.get(ti.pool);
    if (index?.members.delete(tiKeyString(ti))) index.removed += 1;
  }

  #live(index: PoolIndex, entry: Entry): boolean {
    return index.members.get(entry.id) === entry.ti;
  }

  /**
   * Merges arrivals into the sorted list, dropping entries that are no longer members. Also runs
   * once half the list has left, so a drained backlog is not walked over on every page.
   */
  #settle(index: PoolIndex): void {
    if (index.arrivals.length === 0 && index.removed * 2 <= index.sorted.length) return;
    const arrivals = index.arrivals
      .filter((e) => this.#live(index, e))
      .sort((a, b) => compareClaimOrder(a.ti, b.ti));
    const merged: Entry[] = [];
    let i = 0;
    let j = 0;
    while (i < index.sorted.length || j < arrivals.length) {
      const a = index.sorted[i];
      const b = arrivals[j];
      if (a && !this.#live(index, a)) {
        i += 1;
      } else if (b && (!a || compareClaimOrder(b.ti, a.ti) < 0)) {
        merged.push(b);
        j += 1;
      } else if (a) {
        merged.push(a);
        i += 1;
      }
    }
    index.sorted = merged;
    index.arrivals = [];
    index.removed = 0;
  }

  /** Index of the first entry after `cursor` in claim order (binary search; the cursor's item may be gone). */
  #after(index: PoolIndex, cursor: Cursor): number {
    let lo = 0;
    let hi = index.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareClaimOrder(index.sorted[mid]!.ti, cursor as TaskInstance) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Ids of the next `limit` members after `cursor` that pass `keep`, in claim order. */
  page(
    pool: string,
    limit: number,
    cursor: string | null,
    keep: (ti: TaskInstance) => boolean,
  ): { ids: string[]; next: string | null } {
    const index = this.#pools.get(pool);
    if (!index || index.members.size === 0) return { ids: [], next: null };
    this.#settle(index);
    let i = cursor === null ? 0 : this.#after(index, decodeCursor(cursor));
    // Ids, not the indexed records: wait reasons are written beside the index and must read fresh.
    const taken: Entry[] = [];
    for (; i < index.sorted.length && taken.length < limit; i += 1) {
      const entry = index.sorted[i]!;
      if (this.#live(index, entry) && keep(entry.ti)) taken.push(entry);
    }
    let more = false;
    for (; i < index.sorted.length && !more; i += 1) {
      const entry = index.sorted[i]!;
      more = this.#live(index, entry) && keep(entry.ti);
    }
    const last = taken.at(-1);
    return { ids: taken.map((e) => e.id), next: more && last ? encodeCursor(last.ti) : null };
  }
}

export { CandidateIndex };
