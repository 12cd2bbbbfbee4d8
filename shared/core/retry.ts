/** Retry timing and eligibility (SEMANTICS.md §7). */
import type { TaskManifest } from './manifest.ts';

/** `retries = r` ⇒ at most r + 1 tries: eligible while `tryNumber <= maxTries` and retries > 0. */
function isEligibleToRetry(_input: { tryNumber: number; maxTries: number; retries: number }): boolean {
  throw new Error('not implemented');
}

/**
 * When the next try may be scheduled: `endedAt + delay`, with Airflow's exponential backoff and
 * deterministic sha1 jitter when `retryExponentialBackoff`, capped by `maxRetryDelayMs` and 24 h.
 */
function nextRetryAt(_input: {
  task: Pick<TaskManifest, 'retryDelayMs' | 'retryExponentialBackoff' | 'maxRetryDelayMs' | 'taskId'>;
  dagId: string;
  logicalDate: number;
  tryNumber: number;
  endedAt: number;
}): number {
  throw new Error('not implemented');
}

export { isEligibleToRetry, nextRetryAt };
