/**
 * The task-instance state machine (SEMANTICS.md §8), without Airflow's deferred and restarting
 * states, which Updraft does not have. Any state may go back to `none` (clear).
 *
 * Marking a run (Airflow's "mark success" / "mark failed", the API and console) is the only other
 * way out of a finished state: marking a run success sets every instance that is not success to
 * success; marking it failed fails the running ones and skips the rest of the unfinished ones.
 * Those transitions are listed below with "mark"; nothing in the scheduler or the worker makes them.
 */
import { IllegalTransitionError } from './errors.ts';
import type { TiState } from './states.ts';

const LEGAL: Record<TiState, readonly TiState[]> = {
  none: ['scheduled', 'skipped', 'upstream_failed', 'removed', 'success'],
  // → success: mark.
  scheduled: ['queued', 'skipped', 'removed', 'success'],
  // queued → scheduled: a dispatch that never arrived is retried; → none: the run ended before the try started;
  // → failed / up_for_retry: dispatch retries exhausted; → success / skipped: mark (the try ends, slots released).
  queued: ['running', 'scheduled', 'failed', 'up_for_retry', 'success', 'skipped'],
  running: ['success', 'failed', 'up_for_retry', 'up_for_reschedule', 'skipped'],
  // → success: mark.
  up_for_retry: ['scheduled', 'skipped', 'failed', 'success'],
  up_for_reschedule: ['scheduled', 'skipped', 'failed', 'success'],
  success: [],
  // → success: mark (a failed or skipped run marked success).
  failed: ['success'],
  upstream_failed: ['success'],
  skipped: ['success'],
  removed: [],
};

function canTransition(from: TiState, to: TiState): boolean {
  return to === 'none' || LEGAL[from].includes(to);
}

function assertTransition(from: TiState, to: TiState, subject: string): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, subject);
}

/**
 * A claim that schedules its instance in the same write (`ClaimRequest.schedule`) must be a legal
 * move to scheduled, of the try it claims; both stores check it before they write.
 */
function assertScheduleClaim(
  read: { state: TiState; tryNumber: number },
  set: { state?: TiState; tryNumber?: number },
  claimedTry: number,
  subject: string,
): void {
  if (set.state !== 'scheduled' || (set.tryNumber ?? read.tryNumber) !== claimedTry)
    throw new Error(`a schedule claim of ${subject} must schedule the try it claims`);
  assertTransition(read.state, 'scheduled', subject);
}

/**
 * Whether `assertScheduleClaim` would pass, told without its subject: a caller that names the
 * instance by a key string builds it only for the error (a claim of a day's tries nearly never fails).
 */
function isScheduleClaim(
  read: { state: TiState; tryNumber: number },
  set: { state?: TiState; tryNumber?: number },
  claimedTry: number,
): boolean {
  return (
    set.state === 'scheduled' &&
    (set.tryNumber ?? read.tryNumber) === claimedTry &&
    canTransition(read.state, 'scheduled')
  );
}

export { assertScheduleClaim, assertTransition, canTransition, isScheduleClaim };
