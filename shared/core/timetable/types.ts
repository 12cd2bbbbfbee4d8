/** The shapes every timetable shares (SEMANTICS.md §9). Instants are epoch milliseconds. */

export interface Interval {
  start: number;
  end: number;
}

/** One run slot: logical date, data interval and the earliest instant the run may be created. */
export interface RunInfo {
  logicalDate: number;
  dataIntervalStart: number;
  dataIntervalEnd: number;
  runAfter: number;
}

export interface NextRunQuery {
  /** Data interval of the last automated (scheduled) run; null if there was none. */
  lastAutomatedInterval: Interval | null;
  /** DAG startDate (or the earliest task startDate); null if none. */
  earliest: number | null;
  /** DAG endDate; no run whose logical date is after it. */
  latest: number | null;
  catchup: boolean;
  now: number;
}

export interface Timetable {
  /** The next scheduled run after the last one (§9.2), or null when the schedule has no more runs. */
  nextRunInfo(query: NextRunQuery): RunInfo | null;
  /** Data interval of a manual run triggered at `runAfter` (§9.2 "Manual runs"). */
  manualRunInfo(runAfter: number): RunInfo;
  /** Every slot with `from <= logicalDate <= to` (backfill, §9.4), in ascending order. */
  slotsBetween(from: number, to: number, limit?: number): RunInfo[];
  /** Human description, e.g. "at 03:00 every day (Europe/Paris)". */
  describe(): string;
}

/** Slots returned by `slotsBetween` when no limit is given. */
export const DEFAULT_SLOT_LIMIT = 100_000;

/** Airflow's `DagRunInfo.interval(start, end)`: logical date = start, created at end. */
function intervalInfo(start: number, end: number): RunInfo {
  return { logicalDate: start, dataIntervalStart: start, dataIntervalEnd: end, runAfter: end };
}

/** Airflow's `DagRunInfo.exact(t)`: a zero-length interval at t. */
function exactInfo(t: number): RunInfo {
  return { logicalDate: t, dataIntervalStart: t, dataIntervalEnd: t, runAfter: t };
}

export { exactInfo, intervalInfo };
