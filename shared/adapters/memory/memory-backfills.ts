/** Backfills in memory, created once by id, updated under their revision; reads return copies. */
import { backfillWithDefaults } from '#core/backfill.ts';
import type { Backfill, BackfillPatch } from '#core/model.ts';

const copy = <T>(value: T): T => structuredClone(value);

class MemoryBackfills {
  readonly #backfills = new Map<string, Backfill>();

  create(backfill: Backfill): { created: boolean } {
    if (this.#backfills.has(backfill.backfillId)) return { created: false };
    this.#backfills.set(backfill.backfillId, copy(backfillWithDefaults(backfill)));
    return { created: true };
  }

  get(backfillId: string): Backfill | null {
    const backfill = this.#backfills.get(backfillId);
    return backfill ? copy(backfill) : null;
  }

  /** The DAG's backfills, newest first. */
  list(dagId: string): Backfill[] {
    return [...this.#backfills.values()]
      .filter((b) => b.dagId === dagId)
      .sort((a, b) => b.createdAt - a.createdAt || (a.backfillId < b.backfillId ? 1 : -1))
      .map(copy);
  }

  listUnfinished(): Backfill[] {
    return [...this.#backfills.values()]
      .filter((b) => b.completedAt === null && b.cancelledAt === null)
      .sort((a, b) => (a.backfillId < b.backfillId ? -1 : 1))
      .map(copy);
  }

  update(backfillId: string, expect: { revision: number }, patch: BackfillPatch): boolean {
    const backfill = this.#backfills.get(backfillId);
    if (!backfill || backfill.revision !== expect.revision) return false;
    this.#backfills.set(backfillId, { ...backfill, ...copy(patch), revision: backfill.revision + 1 });
    return true;
  }
}

export { MemoryBackfills };
