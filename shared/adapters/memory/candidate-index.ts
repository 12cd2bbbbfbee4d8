/**
 * The memory store's twin of the DynamoDB claim index: scheduled task instances per pool in claim
 * order. Sorting is lazy (only after additions); removals just drop the id, and reads skip ids that
 * are gone, so a pass that claims many instances does not re-sort the backlog.
 */
import { compareClaimOrder } from '#core/claim.ts';
import { type TaskInstance, tiKeyString } from '#core/model.ts';

interface PoolIndex {
  members: Map<string, TaskInstance>;
  sorted: { id: string; ti: TaskInstance }[] | null;
  position: Map<string, number>;
}

class CandidateIndex {
  readonly #pools = new Map<string, PoolIndex>();

  #pool(name: string): PoolIndex {
    const index = this.#pools.get(name) ?? { members: new Map(), sorted: null, position: new Map() };
    this.#pools.set(name, index);
    return index;
  }

  add(ti: TaskInstance): void {
    const index = this.#pool(ti.pool);
    index.members.set(tiKeyString(ti), ti);
    index.sorted = null;
  }

  remove(ti: TaskInstance): void {
    this.#pools.get(ti.pool)?.members.delete(tiKeyString(ti));
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
    if (!index.sorted) {
      index.sorted = [...index.members]
        .map(([id, ti]) => ({ id, ti }))
        .sort((a, b) => compareClaimOrder(a.ti, b.ti));
      index.position = new Map(index.sorted.map((entry, i) => [entry.id, i]));
    }
    let i = cursor === null ? 0 : (index.position.get(cursor) ?? -1) + 1;
    const ids: string[] = [];
    for (; i < index.sorted.length && ids.length < limit; i += 1) {
      const entry = index.sorted[i]!;
      if (index.members.get(entry.id) !== entry.ti || !keep(entry.ti)) continue;
      ids.push(entry.id);
    }
    let more = false;
    for (; i < index.sorted.length && !more; i += 1) {
      const entry = index.sorted[i]!;
      more = index.members.get(entry.id) === entry.ti && keep(entry.ti);
    }
    return { ids, next: more && ids.length > 0 ? ids.at(-1)! : null };
  }
}

export { CandidateIndex };
