/**
 * Task-instance and run states, with Airflow's names (SEMANTICS.md §8).
 * Status predicates are tiny pure functions so every layer asks the same question the same way.
 */

export const TI_STATES = [
  'none',
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'up_for_reschedule',
  'upstream_failed',
  'skipped',
  'removed',
] as const;

export type TiState = (typeof TI_STATES)[number];

export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export type RunType = 'scheduled' | 'manual' | 'backfill';

/**
 * Finished = success, failed, skipped, upstream_failed, removed (Airflow's `State.finished`). A
 * switch rather than a set's `has`: run looks ask it of every instance (no hash lookup per call).
 */
function isFinished(state: TiState): boolean {
  switch (state) {
    case 'success':
    case 'failed':
    case 'skipped':
    case 'upstream_failed':
    case 'removed':
      return true;
    default:
      return false;
  }
}

function isUnfinished(state: TiState): boolean {
  return !isFinished(state);
}

/** Slots (pool, parallelism, DAG and task limits) are held by queued and running task instances only. */
function holdsSlot(state: TiState): boolean {
  return state === 'queued' || state === 'running';
}

function isRunFinished(state: RunState): boolean {
  return state === 'success' || state === 'failed';
}

function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

export { assertNever, holdsSlot, isFinished, isRunFinished, isUnfinished };
