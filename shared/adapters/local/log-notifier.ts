/** Failure notifications for local runs: written to the log and kept for the console to show. */
import type { Logger, Notification, Notifier } from '#ports';

class LogNotifier implements Notifier {
  readonly #recent: Notification[] = [];

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly keep = 100,
  ) {}

  async publish(notification: Notification): Promise<void> {
    this.#recent.push(notification);
    if (this.#recent.length > this.keep) this.#recent.shift();
    const what =
      notification.type === 'task_failed'
        ? `task ${notification.dagId}.${notification.taskId} failed (${notification.runId}, try ${notification.tryNumber}): ${notification.error}`
        : `run ${notification.dagId} ${notification.runId} failed${notification.note ? ` (${notification.note})` : ''}`;
    this.logger.warn(`notification: ${what}`, { notification });
  }

  /** The latest notifications, oldest first. */
  recent(): Notification[] {
    return [...this.#recent];
  }
}

export { LogNotifier };
