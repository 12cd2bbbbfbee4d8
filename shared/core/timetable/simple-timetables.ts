/**
 * Timetables without a cron (SEMANTICS.md §9.1):
 * - `interval` (`{ every: '15m' }`), Airflow's DeltaDataIntervalTimetable: intervals of a fixed length
 *   from the start date, no alignment; without catchup the latest complete interval of the epoch-aligned
 *   grid (`round_down(now, every) − every`).
 * - `once`: a single run at the start date (whatever catchup says), then nothing.
 * - `none`: never scheduled; manual runs only.
 */
import { formatDuration } from '../duration.ts';
import {
  DEFAULT_SLOT_LIMIT,
  exactInfo,
  intervalInfo,
  type NextRunQuery,
  type RunInfo,
  type Timetable,
} from './types.ts';

function deltaTimetable(everyMs: number): Timetable {
  function nextRunInfo(q: NextRunQuery): RunInfo | null {
    let earliest = q.earliest;
    if (!q.catchup) {
      const latestStart = q.now - (((q.now % everyMs) + everyMs) % everyMs) - everyMs;
      earliest = earliest === null ? latestStart : Math.max(latestStart, earliest);
    }
    let start: number | null = earliest;
    if (q.lastAutomatedInterval !== null) {
      const fromLast = q.lastAutomatedInterval.end;
      start = earliest === null ? fromLast : Math.max(fromLast, earliest);
    }
    if (start === null) return null;
    if (q.latest !== null && start > q.latest) return null;
    return intervalInfo(start, start + everyMs);
  }

  return {
    nextRunInfo,
    manualRunInfo: (runAfter) => ({
      logicalDate: runAfter,
      dataIntervalStart: runAfter - everyMs,
      dataIntervalEnd: runAfter,
      runAfter,
    }),
    slotsBetween(from, to, limit = DEFAULT_SLOT_LIMIT) {
      const slots: RunInfo[] = [];
      for (let start = from; start <= to && slots.length < limit; start += everyMs) {
        slots.push(intervalInfo(start, start + everyMs));
      }
      return slots;
    },
    describe: () => `every ${formatDuration(everyMs)}`,
  };
}

function onceTimetable(): Timetable {
  return {
    nextRunInfo(q) {
      if (q.lastAutomatedInterval !== null || q.earliest === null) return null;
      if (q.latest !== null && q.earliest > q.latest) return null;
      return exactInfo(q.earliest);
    },
    manualRunInfo: (runAfter) => exactInfo(runAfter),
    // As Airflow's `iter_dagrun_infos_between`: the one run, at the start of the range.
    slotsBetween: (from, to, limit = DEFAULT_SLOT_LIMIT) =>
      from <= to && limit > 0 ? [exactInfo(from)] : [],
    describe: () => 'once, at the start date',
  };
}

function noneTimetable(): Timetable {
  return {
    nextRunInfo: () => null,
    manualRunInfo: (runAfter) => exactInfo(runAfter),
    slotsBetween: () => [],
    describe: () => 'not scheduled (manual runs only)',
  };
}

export { deltaTimetable, noneTimetable, onceTimetable };
