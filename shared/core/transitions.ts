/**
 * The task-instance state machine (SEMANTICS.md §8), without Airflow's deferred and restarting
 * states, which Updraft does not have. Any state may go back to `none` (clear).
 */
import { IllegalTransitionError } from './errors.ts';
import type { TiState } from './states.ts';

const LEGAL: Record<TiState, readonly TiState[]> = {
  none: ['scheduled', 'skipped', 'upstream_failed', 'removed', 'success'],
  scheduled: ['queued', 'skipped', 'removed'],
  // queued → scheduled: a dispatch that never arrived is retried; → none: the run ended before the try started;
  // → failed / up_for_retry: dispatch retries exhausted.
  queued: ['running', 'scheduled', 'failed', 'up_for_retry'],
  running: ['success', 'failed', 'up_for_retry', 'up_for_reschedule', 'skipped'],
  up_for_retry: ['scheduled', 'skipped', 'failed'],
  up_for_reschedule: ['scheduled', 'skipped', 'failed'],
  success: [],
  failed: [],
  upstream_failed: [],
  skipped: [],
  removed: [],
};

function canTransition(from: TiState, to: TiState): boolean {
  return to === 'none' || LEGAL[from].includes(to);
}

function assertTransition(from: TiState, to: TiState, subject: string): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, subject);
}

export { assertTransition, canTransition };
