/**
 * Timetables (SEMANTICS.md §9): when runs are due and which data interval each covers.
 * Pure: `now` is always an argument. Cron is evaluated on wall-clock time in the DAG's timezone.
 */
import type { ScheduleSpec } from './manifest.ts';

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

/** Builds the timetable of a normalized schedule. Throws on an invalid expression or zone (compile validates first). */
function timetableFor(_schedule: ScheduleSpec): Timetable {
  throw new Error('not implemented');
}

/**
 * Normalizes what a DAG author wrote (`'@daily'`, `'0 3 * * *'`, `{ every: '15m' }`, `null`, `'@once'`)
 * with the DAG's timezone; returns an error message naming what is wrong instead of throwing.
 */
function normalizeSchedule(
  _input: unknown,
  _timezone: string,
  _style: 'interval' | 'trigger',
): { ok: true; schedule: ScheduleSpec } | { ok: false; message: string } {
  throw new Error('not implemented');
}

/** Whether `zone` is a valid IANA timezone name. */
function isValidTimezone(_zone: string): boolean {
  throw new Error('not implemented');
}

export { isValidTimezone, normalizeSchedule, timetableFor };
