/**
 * Timetables (SEMANTICS.md §9): when runs are due and which data interval each covers.
 * Pure: `now` is always an argument. Cron is evaluated on wall-clock time in the DAG's timezone.
 * The parts live in `./timetable/`: zone clock (DST rules), cron pattern (cron-parser), cron clock
 * (fire times as instants), the cron and the simple timetables, normalization.
 */
import { InputError } from './errors.ts';
import type { ScheduleSpec } from './manifest.ts';
import { assertNever } from './states.ts';
import { CronClock } from './timetable/cron-clock.ts';
import { parseCron } from './timetable/cron-pattern.ts';
import { cronIntervalTimetable, cronTriggerTimetable } from './timetable/cron-timetables.ts';
import { describeCron } from './timetable/describe.ts';
import { normalizeSchedule, PRESETS } from './timetable/normalize.ts';
import { deltaTimetable, noneTimetable, onceTimetable } from './timetable/simple-timetables.ts';
import type { Interval, NextRunQuery, RunInfo, Timetable } from './timetable/types.ts';
import { isValidTimezone, zoneClock } from './timetable/zone-clock.ts';

/** Builds the timetable of a normalized schedule. Throws on an invalid expression or zone (compile validates first). */
/** Timetables are immutable, so each distinct schedule is built once (parsing cron is not free). */
const built = new Map<string, Timetable>();

/**
 * The same, by a frozen schedule's identity (a stored manifest's is frozen: run creation asks for it
 * once per DAG and pass), so its key is not built again; a schedule that may still change is not kept.
 */
const byFrozen = new WeakMap<ScheduleSpec, Timetable>();

function timetableFor(schedule: ScheduleSpec): Timetable {
  const frozen = Object.isFrozen(schedule);
  const known = frozen ? byFrozen.get(schedule) : undefined;
  if (known) return known;
  const timetable = timetableByKey(schedule);
  if (frozen) byFrozen.set(schedule, timetable);
  return timetable;
}

function timetableByKey(schedule: ScheduleSpec): Timetable {
  const key = JSON.stringify(schedule);
  let timetable = built.get(key);
  if (!timetable) {
    timetable = buildTimetable(schedule);
    if (built.size > 10_000) built.clear();
    built.set(key, timetable);
  }
  return timetable;
}

function buildTimetable(schedule: ScheduleSpec): Timetable {
  switch (schedule.kind) {
    case 'none':
      return noneTimetable();
    case 'once':
      return onceTimetable();
    case 'interval':
      if (!(schedule.everyMs > 0)) throw new InputError('schedule', 'every must be longer than 0 ms');
      return deltaTimetable(schedule.everyMs);
    case 'cron': {
      const parsed = parseCron(PRESETS[schedule.expression.trim().toLowerCase()] ?? schedule.expression);
      if (!parsed.ok) throw new InputError('schedule', parsed.message);
      if (!isValidTimezone(schedule.timezone)) {
        throw new InputError('timezone', `"${schedule.timezone}" is not a valid IANA timezone`);
      }
      const clock = new CronClock(parsed.pattern, zoneClock(schedule.timezone));
      const text = describeCron(
        parsed.pattern.fields,
        parsed.pattern.expression,
        schedule.timezone,
        schedule.style,
      );
      return schedule.style === 'trigger'
        ? cronTriggerTimetable(clock, text)
        : cronIntervalTimetable(clock, text);
    }
    default:
      return assertNever(schedule, 'schedule kind');
  }
}

export type { Interval, NextRunQuery, RunInfo, Timetable };
export { isValidTimezone, normalizeSchedule, timetableFor };
