/**
 * The bounded history of a task instance's tries, kept inside the instance by every store so the
 * API and the console can show all of them (the newest MAX_TRY_HISTORY): each ended try's number,
 * how it ended, when it started and ended, where it ran and a summary of its error. Pure: a store
 * calls `recordTry` with the instance before and after the write that ends a try.
 */
import type { TaskInstance } from './model.ts';
import type { TiState } from './states.ts';

/** Tries kept per instance; older ones fall off (their logs stay readable by number). */
const MAX_TRY_HISTORY = 10;
/** Characters of a try's error kept in its history entry (the instance keeps the last error whole). */
const TRY_ERROR_CHARS = 120;

/** One ended try. */
export interface TryRecord {
  tryNumber: number;
  /** How the try ended: success, failed, up_for_retry, up_for_reschedule (a sensor's poke), or where a clear sent it. */
  state: TiState;
  startedAt: number | null;
  endedAt: number | null;
  /** The worker that ran it (`lambda:<log stream>`, `local:<pid>`, `container:<task>`). */
  workerId: string | null;
  /** The try's error, cut to TRY_ERROR_CHARS (with an ellipsis). */
  error: string | null;
}

/** States a try end leads to in which the try counts as tried (a requeue of an unstarted dispatch does not). */
const TRIED = new Set<TiState>(['success', 'failed', 'up_for_retry', 'up_for_reschedule']);

function summary(error: string | null | undefined): string | null {
  if (!error) return null;
  return error.length <= TRY_ERROR_CHARS ? error : `${error.slice(0, TRY_ERROR_CHARS - 1)}…`;
}

/**
 * The history after `before`'s try ended as `after`: unchanged unless the try started or ended in a
 * state that counts it; a sensor's repeated pokes (same try number) update one entry, keeping the
 * first start; at most MAX_TRY_HISTORY entries, oldest first.
 */
function recordTry(
  history: readonly TryRecord[],
  before: Pick<TaskInstance, 'state' | 'tryNumber' | 'startedAt' | 'endedAt' | 'workerId'>,
  after: Pick<TaskInstance, 'state' | 'endedAt' | 'error'>,
): TryRecord[] {
  if (before.state !== 'running' && !TRIED.has(after.state)) return [...history];
  const last = history.at(-1);
  const same = last?.tryNumber === before.tryNumber ? last : undefined;
  const entry: TryRecord = {
    tryNumber: before.tryNumber,
    state: after.state,
    startedAt: same?.startedAt ?? before.startedAt,
    endedAt: after.endedAt ?? before.endedAt,
    workerId: before.workerId,
    error: summary(after.error),
  };
  return [...(same ? history.slice(0, -1) : history), entry].slice(-MAX_TRY_HISTORY);
}

export { MAX_TRY_HISTORY, recordTry, TRY_ERROR_CHARS };
