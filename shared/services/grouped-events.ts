/**
 * A worker's scheduler events, sent together: the tries of one batch end at nearly the same moment
 * (their ends share a transaction in the DynamoDB store), and each sends a `task_finished` event.
 * Events published in the same tick, or while an earlier send is in flight, go out in one
 * `publish` (SQS: one SendMessageBatch per 10), not one request each. Each caller waits for the
 * send that carries its event and gets its error, as with the port itself.
 */
import type { SchedulerEvent, SchedulerEvents } from '#ports';
import { TickBatches } from './tick-batches.ts';

class GroupedEvents implements SchedulerEvents {
  /** Sends made and the publish calls they carried. */
  readonly stats = { sends: 0, publishes: 0 };
  // Which events of a failed send went out is not known per caller: each gets the error (a resend is harmless).
  readonly #sends = new TickBatches<SchedulerEvent[], void>(async (groups) => {
    this.stats.sends += 1;
    this.stats.publishes += groups.length;
    await this.inner.publish(groups.flat());
  });

  constructor(private readonly inner: SchedulerEvents) {}

  publish(events: SchedulerEvent[]): Promise<void> {
    return events.length === 0 ? Promise.resolve() : this.#sends.add(events);
  }
}

export { GroupedEvents };
