/**
 * The scheduler's event queue in memory: published events wait until someone drains them, in
 * publish order. The simulator and tests decide when the scheduler looks at them.
 */
import type { SchedulerEvent, SchedulerEvents } from '#ports';

class MemorySchedulerEvents implements SchedulerEvents {
  #pending: SchedulerEvent[] = [];
  readonly #onPublish: ((events: SchedulerEvent[]) => void) | undefined;

  /** `onPublish` is told of each non-empty batch (e.g. to schedule a scheduler pass). */
  constructor(options: { onPublish?: (events: SchedulerEvent[]) => void } = {}) {
    this.#onPublish = options.onPublish;
  }

  async publish(events: SchedulerEvent[]): Promise<void> {
    if (events.length === 0) return;
    const copies = events.map((event) => structuredClone(event));
    this.#pending.push(...copies);
    this.#onPublish?.(copies.map((event) => structuredClone(event)));
  }

  /** Takes every pending event, oldest first. */
  drain(): SchedulerEvent[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** Events published and not yet drained. */
  get size(): number {
    return this.#pending.length;
  }
}

export { MemorySchedulerEvents };
