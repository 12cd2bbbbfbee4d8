/**
 * A worker's scheduler events, sent together: the tries of one batch end at nearly the same moment
 * (their ends share a transaction in the DynamoDB store), and each sends a `task_finished` event.
 * Events published in the same tick, or while an earlier send is in flight, go out in one
 * `publish` (SQS: one SendMessageBatch per 10), not one request each. Each caller waits for the
 * send that carries its event and gets its error, as with the port itself.
 */
import type { SchedulerEvent, SchedulerEvents } from '#ports';

interface Waiting {
  events: SchedulerEvent[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

class GroupedEvents implements SchedulerEvents {
  readonly #queue: Waiting[] = [];
  #draining = false;
  /** Sends made and the publish calls they carried. */
  readonly stats = { sends: 0, publishes: 0 };

  constructor(private readonly inner: SchedulerEvents) {}

  publish(events: SchedulerEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (this.#draining) return;
      this.#draining = true;
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0);
        this.stats.sends += 1;
        this.stats.publishes += group.length;
        try {
          await this.inner.publish(group.flatMap((w) => w.events));
          for (const w of group) w.resolve();
        } catch (error) {
          // Which of them went out is not known per caller: each gets the error (a resend is harmless).
          for (const w of group) w.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

export { GroupedEvents };
