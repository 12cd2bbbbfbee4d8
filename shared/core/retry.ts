/** Retry timing and eligibility (SEMANTICS.md §7), with Airflow's deterministic backoff jitter. */
import { createHash } from 'node:crypto';
import type { TaskManifest } from './manifest.ts';

/** Airflow's MAX_RETRY_DELAY: no retry waits longer than a day. */
const MAX_RETRY_DELAY_MS = 86_400_000;

/** `retries = r` ⇒ at most r + 1 tries: eligible while retries > 0 and `tryNumber <= maxTries`. */
function isEligibleToRetry(input: { tryNumber: number; maxTries: number; retries: number }): boolean {
  return input.retries > 0 && input.tryNumber <= input.maxTries;
}

/** Python's `str()` of a UTC datetime: `2016-01-01 00:00:00+00:00` (microseconds only when not zero). */
function pythonUtcString(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2016-01-01T00:00:00.000Z
  const millis = epochMs - Math.floor(epochMs / 1000) * 1000;
  const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0')}000`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction}+00:00`;
}

/** Airflow's backoff: ceil(delay · 2^(try−1)) seconds plus a sha1-derived jitter below that, capped at 24 h. */
function backoffSeconds(input: {
  retryDelayMs: number;
  dagId: string;
  taskId: string;
  logicalDate: number;
  tryNumber: number;
}) {
  const minBackoff = Math.max(1, Math.ceil((input.retryDelayMs / 1000) * 2 ** (input.tryNumber - 1)));
  // min_backoff + jitter ≥ min_backoff: at or past the cap the hash cannot matter (and 2^try may be Infinity).
  if (minBackoff >= MAX_RETRY_DELAY_MS / 1000) return MAX_RETRY_DELAY_MS / 1000;
  const key = `${input.dagId}#${input.taskId}#${pythonUtcString(input.logicalDate)}#${input.tryNumber}`;
  const hash = BigInt(`0x${createHash('sha1').update(key).digest('hex')}`);
  const jitter = Number(hash % BigInt(minBackoff));
  return Math.min(minBackoff + jitter, MAX_RETRY_DELAY_MS / 1000);
}

/**
 * When the next try may be scheduled (Airflow's `next_retry_datetime`): `endedAt + retryDelay`; with
 * `retryExponentialBackoff`, exponential backoff with deterministic jitter, capped at 24 h and then by
 * `maxRetryDelayMs`. As in Airflow, both caps belong to the backoff: a plain retryDelay is used as is
 * (compileDag already rejects a retryDelay above maxRetryDelay).
 */
function nextRetryAt(input: {
  task: Pick<TaskManifest, 'retryDelayMs' | 'retryExponentialBackoff' | 'maxRetryDelayMs' | 'taskId'>;
  dagId: string;
  logicalDate: number;
  tryNumber: number;
  endedAt: number;
}): number {
  const { task } = input;
  if (!task.retryExponentialBackoff) return input.endedAt + task.retryDelayMs;
  const backoffMs =
    backoffSeconds({
      retryDelayMs: task.retryDelayMs,
      dagId: input.dagId,
      taskId: task.taskId,
      logicalDate: input.logicalDate,
      tryNumber: input.tryNumber,
    }) * 1000;
  // Python's `if task.max_retry_delay:`: a zero maxRetryDelay is no cap at all.
  return input.endedAt + (task.maxRetryDelayMs ? Math.min(backoffMs, task.maxRetryDelayMs) : backoffMs);
}

export { isEligibleToRetry, nextRetryAt, pythonUtcString };
