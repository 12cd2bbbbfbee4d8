/**
 * One-shot wake-ups per DAG, kept in memory for virtual time: the simulator asks which are `due`
 * (and thereby fires them, as an EventBridge one-shot schedule deletes itself after firing) and
 * when the next one is, to jump its clock there.
 */
import type { ScheduleRegistry } from '#ports';

class MemoryScheduleRegistry implements ScheduleRegistry {
  readonly #wakeUps = new Map<string, number>();

  /** Replaces the DAG's wake-up; null removes it. */
  async setNextWakeUp(dagId: string, at: number | null): Promise<void> {
    if (at === null) this.#wakeUps.delete(dagId);
    else this.#wakeUps.set(dagId, at);
  }

  /** The DAG's pending wake-up, if any. */
  get(dagId: string): number | null {
    return this.#wakeUps.get(dagId) ?? null;
  }

  /** Fires (removes and returns) the wake-ups at or before `now`, earliest first, then by DAG id. */
  due(now: number): { dagId: string; at: number }[] {
    const fired = [...this.#wakeUps]
      .filter(([, at]) => at <= now)
      .map(([dagId, at]) => ({ dagId, at }))
      .sort((a, b) => a.at - b.at || (a.dagId < b.dagId ? -1 : a.dagId > b.dagId ? 1 : 0));
    for (const { dagId } of fired) this.#wakeUps.delete(dagId);
    return fired;
  }

  /** The earliest pending wake-up, or null when none is set. */
  nextAt(): number | null {
    let next: number | null = null;
    for (const at of this.#wakeUps.values()) if (next === null || at < next) next = at;
    return next;
  }

  /** Every pending wake-up, by DAG. */
  pending(): Map<string, number> {
    return new Map(this.#wakeUps);
  }
}

export { MemoryScheduleRegistry };
