/**
 * EventBridge Scheduler's stand-in for local runs: one timer per DAG that calls `onWakeUp(dagId)` at
 * the wake-up time. Setting a DAG again replaces its timer; `null` clears it; a time already past
 * fires on the next turn of the event loop. Node timers cannot wait longer than 2^31-1 ms (about
 * 24.8 days), so a longer wait is a chain of maximal timers, re-armed until the time is near.
 *
 * Timers are unref'd: a pending wake-up alone does not keep the process alive.
 */
import type { Clock, Logger, ScheduleRegistry } from '#ports';

/** The longest delay setTimeout honours; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface TimerScheduleRegistryOptions {
  onWakeUp: (dagId: string) => void | Promise<void>;
  /** @default Date.now */
  clock?: Clock;
  /** Where a failing `onWakeUp` is reported. @default console */
  logger?: Pick<Logger, 'error'>;
}

interface Pending {
  at: number;
  timer: ReturnType<typeof setTimeout>;
}

class TimerScheduleRegistry implements ScheduleRegistry {
  readonly #options: TimerScheduleRegistryOptions;
  readonly #clock: Clock;
  readonly #pending = new Map<string, Pending>();
  #stopped = false;

  constructor(options: TimerScheduleRegistryOptions) {
    this.#options = options;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /** After `stop()`, wake-ups set by work still finishing are ignored. */
  async setNextWakeUp(dagId: string, at: number | null): Promise<void> {
    this.#clear(dagId);
    if (at === null || this.#stopped) return;
    this.#arm(dagId, at);
  }

  /** The wake-ups still to come, by DAG. */
  pending(): Map<string, number> {
    return new Map([...this.#pending].map(([dagId, p]) => [dagId, p.at]));
  }

  /** Clears every timer; later `setNextWakeUp` calls do nothing. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const dagId of [...this.#pending.keys()]) this.#clear(dagId);
  }

  #arm(dagId: string, at: number): void {
    const delay = Math.max(0, at - this.#clock.now());
    const timer = setTimeout(
      () => (delay > MAX_TIMER_MS ? this.#arm(dagId, at) : this.#fire(dagId)),
      Math.min(delay, MAX_TIMER_MS),
    );
    timer.unref?.();
    this.#pending.set(dagId, { at, timer });
  }

  #fire(dagId: string): void {
    this.#pending.delete(dagId);
    const report = (error: unknown) =>
      (this.#options.logger ?? console).error('wake-up handler failed', { dagId, error: String(error) });
    try {
      Promise.resolve(this.#options.onWakeUp(dagId)).catch(report);
    } catch (error) {
      report(error);
    }
  }

  #clear(dagId: string): void {
    const pending = this.#pending.get(dagId);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(dagId);
  }
}

export { MAX_TIMER_MS, TimerScheduleRegistry, type TimerScheduleRegistryOptions };
