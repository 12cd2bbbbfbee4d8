/**
 * Airflow's mini scheduler (`schedule_downstream_tasks`, `[scheduler] schedule_after_task_execution`):
 * the worker that ends a try runs, itself, the pass the try's `task_finished` event would have
 * caused — the same narrow pass (`runScheduler` on that event: the ended task's downstream looked at,
 * claims in claim order across the pools with free slots, dispatch, a finished run's callbacks) —
 * so the downstream starts without the event's hop through SQS and a scheduler invocation.
 *
 * It is the scheduler's own pass, so racing the scheduler is a normal outcome: every transition and
 * claim is conditional, and whoever loses sees it lost. When the pass fails, the caller sends the
 * event as it would have without a mini scheduler; when the worker dies between the try's end and
 * the pass, nothing is sent: the sweep schedules the downstream once the run has nothing else in
 * flight (`sweepLook`), or the news of what else is in flight does.
 *
 * Ends that arrive together (a worker's batch) share one pass, and ends that arrive while a pass is
 * running share the next one, as the scheduler's batches of events do.
 */
import type { SharedWorkObserver } from '#core/shared-work.ts';
import type { SchedulerEvent } from '#ports';
import type { ServiceDeps } from './deps.ts';
import { runScheduler } from './scheduler-input.ts';
import { TickBatches } from './tick-batches.ts';

class DownstreamPasses {
  /** Passes run and events they took the place of (the rest were sent: their pass failed). */
  readonly stats = { passes: 0, events: 0, failed: 0 };
  readonly #passes: TickBatches<SchedulerEvent, boolean>;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly clock: { now(): number },
    /** Sees each pass as done for every end whose event it took. */
    shared?: SharedWorkObserver,
  ) {
    this.#passes = new TickBatches(async (events) => {
      try {
        await runScheduler(this.deps, events, this.clock.now());
        this.stats.passes += 1;
        this.stats.events += events.length;
        return true;
      } catch (error) {
        this.stats.failed += events.length;
        this.deps.logger.warn('downstream pass failed: its events go to the scheduler', {
          events: events.length,
          error: String(error),
        });
        return false;
      }
    }, shared);
  }

  /** The pass for an ended try's event: true once it ran, false when it failed (send the event then). */
  run(event: SchedulerEvent): Promise<boolean> {
    return this.#passes.add(event);
  }
}

export { DownstreamPasses };
