/**
 * Cron timetables (SEMANTICS.md §9.1–9.2):
 * - `interval` style, Airflow's CronDataIntervalTimetable: a run covers [start, end) between two fire
 *   times, logical date = start, created at end.
 * - `trigger` style, Airflow's CronTriggerTimetable with a zero interval: a run at each fire time t,
 *   logical date = run after = t, data interval [t, t].
 *
 * `catchup: false` follows Airflow 2.x (without `catchup_false_no_dagrun_airflow_2_fix`): the interval
 * style schedules the most recent *complete* interval, the trigger style the most recent fire time ≤ now.
 * Without a start date: no catchup ⇒ those same latest slots; catchup ⇒ nothing is scheduled ("don't
 * know where to catch up from"), exactly as Airflow's `next_dagrun_info` (run_immediately is not modelled).
 */
import type { CronClock } from './cron-clock.ts';
import {
  DEFAULT_SLOT_LIMIT,
  exactInfo,
  intervalInfo,
  type NextRunQuery,
  type RunInfo,
  type Timetable,
} from './types.ts';

function maxOf(values: (number | null)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && (best === null || v > best)) best = v;
  return best;
}

/** Airflow's cron `_skip_to_latest`: the start of the most recent complete interval, bounded by earliest. */
function skipToLatest(clock: CronClock, earliest: number | null, now: number): number | null {
  const lastStart = clock.prev(now);
  if (lastStart === null) return earliest === null ? null : clock.alignToNext(earliest);
  // On a boundary, [lastStart, now) has just completed; between boundaries the one before it has.
  const newStart = clock.next(lastStart) === now ? lastStart : (clock.prev(lastStart) ?? lastStart);
  if (earliest === null) return newStart;
  return maxOf([newStart, clock.alignToNext(earliest)]);
}

function cronIntervalTimetable(clock: CronClock, description: string): Timetable {
  function nextRunInfo(q: NextRunQuery): RunInfo | null {
    let earliest: number | null;
    if (!q.catchup) {
      earliest = skipToLatest(clock, q.earliest, q.now);
      if (earliest === null) return null;
    } else if (q.earliest !== null) {
      earliest = clock.alignToNext(q.earliest);
      if (earliest === null) return null;
    } else {
      earliest = null;
    }
    let start: number | null;
    if (q.lastAutomatedInterval === null) {
      start = earliest;
    } else {
      // Re-aligning the last end handles a schedule that changed since the last run.
      start = maxOf([clock.alignToPrev(q.lastAutomatedInterval.end), earliest]);
    }
    if (start === null) return null;
    if (q.latest !== null && start > q.latest) return null;
    const end = clock.next(start);
    return end === null ? null : intervalInfo(start, end);
  }

  return {
    nextRunInfo,
    // Airflow's `infer_manual_data_interval`: the last complete interval before the trigger time;
    // the logical date is the trigger time itself (2.x).
    manualRunInfo(runAfter) {
      const end = clock.alignToPrev(runAfter);
      const start = end === null ? null : clock.prev(end);
      if (end === null || start === null) return exactInfo(runAfter);
      return { logicalDate: runAfter, dataIntervalStart: start, dataIntervalEnd: end, runAfter };
    },
    slotsBetween(from, to, limit = DEFAULT_SLOT_LIMIT) {
      const slots: RunInfo[] = [];
      let start = clock.alignToNext(from);
      while (start !== null && start <= to && slots.length < limit) {
        const end = clock.next(start);
        if (end === null) break;
        slots.push(intervalInfo(start, end));
        start = end;
      }
      return slots;
    },
    describe: () => description,
  };
}

function cronTriggerTimetable(clock: CronClock, description: string): Timetable {
  function nextFire(q: NextRunQuery): number | null {
    const last = q.lastAutomatedInterval;
    if (q.catchup) {
      if (last !== null) return clock.next(last.end);
      return q.earliest === null ? null : clock.alignToNext(q.earliest);
    }
    return maxOf([
      clock.alignToPrev(q.now),
      last === null ? null : clock.next(last.end),
      q.earliest === null ? null : clock.alignToNext(q.earliest),
    ]);
  }

  return {
    nextRunInfo(q) {
      const fire = nextFire(q);
      if (fire === null) return null;
      if (q.latest !== null && fire > q.latest) return null;
      return exactInfo(fire);
    },
    manualRunInfo: (runAfter) => exactInfo(runAfter),
    slotsBetween(from, to, limit = DEFAULT_SLOT_LIMIT) {
      const slots: RunInfo[] = [];
      let fire = clock.alignToNext(from);
      while (fire !== null && fire <= to && slots.length < limit) {
        slots.push(exactInfo(fire));
        fire = clock.next(fire);
      }
      return slots;
    },
    describe: () => description,
  };
}

export { cronIntervalTimetable, cronTriggerTimetable };
