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
  sorted: Entry[];
  arrivals: Entry[];
  position: Map<string, number> | null;
}

class CandidateIndex {
  readonly #pools = new Map<string, PoolIndex>();

  #pool(name: string): PoolIndex {
    const index = this.#pools.get(name) ?? { members: new Map(), sorted: [], arrivals: [], position: null };
    this.#pools.set(name, index);
    return index;
  }

  add(ti: TaskInstance): void {
    const index = this.#pool(ti.pool);
    const id = tiKeyString(ti);
    index.members.set(id, ti);
    index.arrivals.push({ id, ti });
    index.position = null;
  }

  remove(ti: TaskInstance): void {
    this.#pools.get(ti.pool)?.members.delete(tiKeyString(ti));
  }

  #live(index: PoolIndex, entry: Entry): boolean {
    return index.members.get(entry.id) === entry.ti;
  }

  /** Merges arrivals into the sorted list, dropping entries that are no longer members. */
  #settle(index: PoolIndex): void {
    if (index.arrivals.length === 0 && index.position) return;
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
    index.position = new Map(merged.map((entry, k) => [entry.id, k]));
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
    let i = cursor === null ? 0 : (index.position!.get(cursor) ?? -1) + 1;
    const ids: string[] = [];
    for (; i < index.sorted.length && ids.length < limit; i += 1) {
      const entry = index.sorted[i]!;
      if (this.#live(index, entry) && keep(entry.ti)) ids.push(entry.id);
    }
    let more = false;
    for (; i < index.sorted.length && !more; i += 1) {
      const entry = index.sorted[i]!;
      more = this.#live(index, entry) && keep(entry.ti);
    }
    return { ids, next: more && ids.length > 0 ? ids.at(-1)! : null };
  }
}

export { CandidateIndex };
