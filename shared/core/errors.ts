/**
 * The error taxonomy. Every error a user can cause is an `UpdraftError` whose message says what is
 * wrong and, where it can, what to do; callers print `message` and never a stack trace.
 */

class UpdraftError extends Error {
  override name = 'UpdraftError';
}

export interface DagIssue {
  dagId: string;
  /** Dotted path of the offending field, e.g. `tasks.load.retryDelay`. */
  field: string;
  message: string;
}

/** A DAG failed validation: every problem at once, each naming DAG, task and field. */
class DagValidationError extends UpdraftError {
  override name = 'DagValidationError';
  readonly issues: DagIssue[];
  constructor(issues: DagIssue[], options?: ErrorOptions) {
    super(issues.map((i) => `${i.dagId}: ${i.field}: ${i.message}`).join('\n'), options);
    this.issues = issues;
  }
}

/** An illegal task-instance or run state transition: a bug, never a user mistake. */
class IllegalTransitionError extends UpdraftError {
  override name = 'IllegalTransitionError';
  constructor(
    readonly from: string,
    readonly to: string,
    readonly subject: string,
  ) {
    super(`illegal transition ${from} → ${to} for ${subject}`);
  }
}

class NotFoundError extends UpdraftError {
  override name = 'NotFoundError';
}

class ConflictError extends UpdraftError {
  override name = 'ConflictError';
}

/** Invalid user input outside a DAG file (CLI arguments, scenario files, API bodies). */
class InputError extends UpdraftError {
  override name = 'InputError';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** A stored item written by a newer (or broken) version of Updraft; never overwritten. */
class UnknownItemError extends UpdraftError {
  override name = 'UnknownItemError';
}

/** Thrown by a task to fail now, without using its remaining retries. */
class NonRetryableError extends UpdraftError {
  override name = 'NonRetryableError';
}

/** Thrown by a task to be retried after a specific delay instead of its retryDelay. */
class RetryAfterError extends UpdraftError {
  override name = 'RetryAfterError';
  constructor(
    readonly delayMs: number,
    message = `retry after ${delayMs} ms`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export {
  ConflictError,
  DagValidationError,
  IllegalTransitionError,
  InputError,
  NonRetryableError,
  NotFoundError,
  RetryAfterError,
  UnknownItemError,
  UpdraftError,
};
