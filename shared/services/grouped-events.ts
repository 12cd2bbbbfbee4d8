/**
 * A worker's scheduler events, sent together: the tries of one batch end at nearly the same moment
 * (their ends share a transaction in the DynamoDB store), and each sends a `task_finished` event.
 * Events published in the same tick, or while an earlier send is in flight, go out in one
 * `publish` (SQS: one SendMessageBatch per 10), not one request each. Each caller waits for the
 * send that carries its event and gets its error, as with the port itself.
 */
import type { SharedWorkObserver } from '#core/shared-work.ts';
import type { SchedulerEvent, SchedulerEvents } from '#ports';
import { TickBatches } from './tick-batches.ts';

class GroupedEvents implements SchedulerEvents {
  /** Sends made and the publish calls they carried. */
  readonly stats = { sends: 0, publishes: 0 };
  // Which events of a failed send went out is not known per caller: each gets the error (a resend is harmless).
  readonly #sends: TickBatches<SchedulerEvent[], void>;

  constructor(
    private readonly inner: SchedulerEvents,
    /** Sees each send as done for every caller whose events it carries. */
    shared?: SharedWorkObserver,
  ) {
    this.#sends = new TickBatches(async (groups) => {
      this.stats.sends += 1;
      this.stats.publishes += groups.length;
      await this.inner.publish(groups.flat());
    }, shared);
  }

  publish(events: SchedulerEvent[]): Promise<void> {
    return events.length === 0 ? Promise.resolve() : this.#sends.add(events);
  }
}

export { GroupedEvents };
