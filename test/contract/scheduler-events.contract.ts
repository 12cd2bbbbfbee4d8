/**
 * The scheduler-events contract: every event published reaches the scheduler with all its fields,
 * at least once and in no promised order. Each implementation's test file passes a `test` whose
 * `harness` fixture is a fresh, empty queue.
 */
import { describe, expect, type TestAPI } from 'vitest';
import type { SchedulerEvent, SchedulerEvents } from '#ports';

interface SchedulerEventsHarness {
  events: SchedulerEvents;
  /** Takes every event waiting now. */
  receiveAll(): Promise<SchedulerEvent[]>;
}

const ONE_OF_EACH: SchedulerEvent[] = [
  { type: 'task_finished', dagId: 'etl', runId: 'scheduled__2024-01-01T00:00:00+00:00' },
  { type: 'run_triggered', dagId: 'etl', runId: 'manual__1' },
  { type: 'dag_registered', dagId: 'etl' },
  { type: 'pool_changed', pool: 'default_pool' },
  { type: 'tick', dagId: 'etl' },
  { type: 'tick' },
];

function sorted(events: SchedulerEvent[]): string[] {
  return events.map((e) => JSON.stringify(e)).sort();
}

function describeSchedulerEvents<C extends { harness: SchedulerEventsHarness }>(
  name: string,
  it: TestAPI<C>,
): void {
  describe(`SchedulerEvents contract: ${name}`, () => {
    it('delivers every kind of event with all its fields', async ({ harness }) => {
      await harness.events.publish(ONE_OF_EACH);
      expect(sorted(await harness.receiveAll())).toEqual(sorted(ONE_OF_EACH));
    });

    it('delivers every event of a publish larger than one SQS batch, in any order', async ({ harness }) => {
      const events: SchedulerEvent[] = Array.from({ length: 37 }, (_, i) => ({
        type: 'task_finished',
        dagId: `dag${i % 3}`,
        runId: `run${i}`,
      }));
      await harness.events.publish(events);
      expect(sorted(await harness.receiveAll())).toEqual(sorted(events));
    });

    it('publishes nothing for an empty list', async ({ harness }) => {
      await harness.events.publish([]);
      expect(await harness.receiveAll()).toEqual([]);
    });
  });
}

export { describeSchedulerEvents, type SchedulerEventsHarness };
