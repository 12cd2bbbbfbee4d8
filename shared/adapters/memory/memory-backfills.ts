/** Backfills in memory, created once by id; reads return copies. */
import type { Backfill } from '#core/model.ts';

const copy = <T>(value: T): T => structuredClone(value);

class MemoryBackfills {
  readonly #backfills = new Map<string, Backfill>();

  create(backfill: Backfill): { created: boolean } {
    if (this.#backfills.has(backfill.backfillId)) return { created: false };
    this.#backfills.set(backfill.backfillId, copy(backfill));
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
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(copy);
  }

  update(backfillId: string, patch: Partial<Pick<Backfill, 'completedAt' | 'cancelledAt'>>): boolean {
    const backfill = this.#backfills.get(backfillId);
    if (!backfill) return false;
    this.#backfills.set(backfillId, { ...backfill, ...patch });
    return true;
  }
}

export { MemoryBackfills };
