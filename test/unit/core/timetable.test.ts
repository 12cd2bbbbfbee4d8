/**
 * Timetables (SEMANTICS.md §9.1, §9.2, §9.4): catchup, start/end dates, @once, fixed intervals,
 * trigger style, manual runs, backfill slots. Cases marked "Airflow" are the expectations of
 * `tests/timetables/test_interval_timetable.py`.
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '#core/manifest.ts';
import type { NextRunQuery, RunInfo, Timetable } from '#core/timetable.ts';
import { timetableFor } from '#core/timetable.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const utc = (iso: string) => Date.parse(`${iso}Z`);

function cron(expression: string, style: 'interval' | 'trigger' = 'interval', timezone = 'UTC'): Timetable {
  return timetableFor({ kind: 'cron', expression, timezone, style });
}

function query(overrides: Partial<NextRunQuery>): NextRunQuery {
  return {
    lastAutomatedInterval: null,
    earliest: null,
    latest: null,
    catchup: true,
    now: utc('2030-01-01T00:00'),
    ...overrides,
  };
}

function interval(start: string, end: string): RunInfo {
  return {
    logicalDate: utc(start),
    dataIntervalStart: utc(start),
    dataIntervalEnd: utc(end),
    runAfter: utc(end),
  };
}

function exact(at: string): RunInfo {
  return { logicalDate: utc(at), dataIntervalStart: utc(at), dataIntervalEnd: utc(at), runAfter: utc(at) };
}

describe('cron timetable, interval style', () => {
  it('catchup off runs only the latest complete interval', () => {
    // Prepare: daily since Jan 1st, it is now midday on Jan 10th.
    const timetable = cron('@daily');
    // Act
    const info = timetable.nextRunInfo(
      query({ earliest: utc('2024-01-01T00:00'), catchup: false, now: utc('2024-01-10T12:00') }),
    );
    // Assess
    expect(info).toEqual(interval('2024-01-09T00:00', '2024-01-10T00:00'));
  });

  it('catchup off, exactly on a boundary, runs the interval that has just ended', () => {
    const info = cron('@daily').nextRunInfo(
      query({ earliest: utc('2024-01-01T00:00'), catchup: false, now: utc('2024-01-10T00:00') }),
    );
    expect(info).toEqual(interval('2024-01-09T00:00', '2024-01-10T00:00'));
  });

  it('catchup off skips the missed intervals after the last run too', () => {
    const info = cron('@daily').nextRunInfo(
      query({
        lastAutomatedInterval: { start: utc('2024-01-01T00:00'), end: utc('2024-01-02T00:00') },
        earliest: utc('2024-01-01T00:00'),
        catchup: false,
        now: utc('2024-01-10T12:00'),
      }),
    );
    expect(info).toEqual(interval('2024-01-09T00:00', '2024-01-10T00:00'));
  });

  it('catchup off never goes before the start date (Airflow test_no_catchup_first_starts_at_current_time)', () => {
    const info = cron('30 16 * * *').nextRunInfo(
      query({ earliest: utc('2021-09-06T00:00'), catchup: false, now: utc('2021-09-07T00:00') }),
    );
    expect(info).toEqual(interval('2021-09-06T16:30', '2021-09-07T16:30'));
  });

  it('catchup off without a start date still schedules the latest complete interval', () => {
    const info = cron('@hourly').nextRunInfo(query({ catchup: false, now: utc('2021-09-07T00:00') }));
    expect(info).toEqual(interval('2021-09-06T23:00', '2021-09-07T00:00'));
  });

  it('catchup on starts at the first fire time at or after the start date', () => {
    const timetable = cron('0 6 * * *');
    expect(timetable.nextRunInfo(query({ earliest: utc('2024-01-01T06:00') }))).toEqual(
      interval('2024-01-01T06:00', '2024-01-02T06:00'),
    );
    expect(timetable.nextRunInfo(query({ earliest: utc('2024-01-01T06:01') }))).toEqual(
      interval('2024-01-02T06:00', '2024-01-03T06:00'),
    );
  });

  it('catchup on continues from the previous interval end', () => {
    const info = cron('@hourly').nextRunInfo(
      query({
        lastAutomatedInterval: { start: utc('2021-09-04T00:00'), end: utc('2021-09-05T00:00') },
        earliest: utc('2021-09-04T00:00'),
      }),
    );
    expect(info).toEqual(interval('2021-09-05T00:00', '2021-09-05T01:00'));
  });

  it('catchup on without a start date or a previous run schedules nothing', () => {
    expect(cron('@daily').nextRunInfo(query({}))).toBeNull();
  });

  it('re-aligns to a changed schedule (Airflow test_cron_next_dagrun_info_alignment "changed")', () => {
    const info = cron('@daily').nextRunInfo(
      query({ lastAutomatedInterval: { start: utc('2022-08-07T01:00'), end: utc('2022-08-08T01:00') } }),
    );
    expect(info).toEqual(interval('2022-08-08T00:00', '2022-08-09T00:00'));
  });

  it('a new cron picks up where the old interval ended (Airflow test_new_schedule_interval_next_info_starts_at_new_time)', () => {
    for (const catchup of [true, false]) {
      const info = cron('30 16 * * *').nextRunInfo(
        query({
          lastAutomatedInterval: { start: utc('2021-09-06T00:00'), end: utc('2021-09-07T00:00') },
          catchup,
          now: utc('2021-09-07T00:00'),
        }),
      );
      expect(info).toEqual(interval('2021-09-06T16:30', '2021-09-07T16:30'));
    }
  });

  it('end date is inclusive: a run starting exactly at the end date is the last one', () => {
    const timetable = cron('@daily');
    const latest = utc('2024-01-03T00:00');
    const last = timetable.nextRunInfo(
      query({
        lastAutomatedInterval: { start: utc('2024-01-02T00:00'), end: utc('2024-01-03T00:00') },
        earliest: utc('2024-01-01T00:00'),
        latest,
      }),
    );
    expect(last).toEqual(interval('2024-01-03T00:00', '2024-01-04T00:00'));
    const after = timetable.nextRunInfo(
      query({
        lastAutomatedInterval: { start: utc('2024-01-03T00:00'), end: utc('2024-01-04T00:00') },
        earliest: utc('2024-01-01T00:00'),
        latest,
      }),
    );
    expect(after).toBeNull();
  });

  it('a manual run covers the last complete interval and keeps the trigger time as logical date', () => {
    // Airflow test_cron_infer_manual_data_interval_alignment: "adhoc" and "exact".
    expect(cron('@daily').manualRunInfo(utc('2022-08-08T01:00'))).toEqual({
      logicalDate: utc('2022-08-08T01:00'),
      dataIntervalStart: utc('2022-08-07T00:00'),
      dataIntervalEnd: utc('2022-08-08T00:00'),
      runAfter: utc('2022-08-08T01:00'),
    });
    expect(cron('@daily').manualRunInfo(utc('2022-08-08T00:00'))).toMatchObject({
      dataIntervalStart: utc('2022-08-07T00:00'),
      dataIntervalEnd: utc('2022-08-08T00:00'),
    });
  });
});

describe('cron timetable, trigger style', () => {
  it('the logical date is the fire time and the run is due at it', () => {
    const info = cron('0 */6 * * *', 'trigger').nextRunInfo(query({ earliest: utc('2024-01-01T01:00') }));
    expect(info).toEqual(exact('2024-01-01T06:00'));
  });

  it('catchup on steps from one fire time to the next', () => {
    const info = cron('0 */6 * * *', 'trigger').nextRunInfo(
      query({
        lastAutomatedInterval: { start: utc('2024-01-01T06:00'), end: utc('2024-01-01T06:00') },
        earliest: utc('2024-01-01T00:00'),
      }),
    );
    expect(info).toEqual(exact('2024-01-01T12:00'));
  });

  it('catchup off runs the most recent fire time at or before now', () => {
    const info = cron('0 */6 * * *', 'trigger').nextRunInfo(
      query({
        lastAutomatedInterval: { start: utc('2024-01-01T06:00'), end: utc('2024-01-01T06:00') },
        earliest: utc('2024-01-01T00:00'),
        catchup: false,
        now: utc('2024-01-02T10:00'),
      }),
    );
    expect(info).toEqual(exact('2024-01-02T06:00'));
  });

  it('a fire time exactly at the end date still runs; the next does not', () => {
    const timetable = cron('0 */6 * * *', 'trigger');
    const latest = utc('2024-01-01T12:00');
    const at = (t: string) => ({ start: utc(t), end: utc(t) });
    expect(timetable.nextRunInfo(query({ lastAutomatedInterval: at('2024-01-01T06:00'), latest }))).toEqual(
      exact('2024-01-01T12:00'),
    );
    expect(
      timetable.nextRunInfo(query({ lastAutomatedInterval: at('2024-01-01T12:00'), latest })),
    ).toBeNull();
  });

  it('a manual run is a zero-length interval at the trigger time', () => {
    expect(cron('@daily', 'trigger').manualRunInfo(utc('2024-05-05T10:17'))).toEqual(
      exact('2024-05-05T10:17'),
    );
  });
});

describe('fixed-interval timetable ({ every })', () => {
  const every6h: ScheduleSpec = { kind: 'interval', everyMs: 6 * HOUR };

  it('starts exactly at the start date, without alignment', () => {
    const timetable = timetableFor(every6h);
    expect(timetable.nextRunInfo(query({ earliest: utc('2024-01-01T01:00') }))).toEqual(
      interval('2024-01-01T01:00', '2024-01-01T07:00'),
    );
    expect(
      timetable.nextRunInfo(
        query({ lastAutomatedInterval: { start: utc('2024-01-01T01:00'), end: utc('2024-01-01T07:00') } }),
      ),
    ).toEqual(interval('2024-01-01T07:00', '2024-01-01T13:00'));
  });

  it('catchup off runs the latest complete interval of the epoch-aligned grid', () => {
    const info = timetableFor(every6h).nextRunInfo(
      query({ earliest: utc('2024-01-01T01:00'), catchup: false, now: utc('2024-01-02T10:00') }),
    );
    expect(info).toEqual(interval('2024-01-02T00:00', '2024-01-02T06:00'));
  });

  it('hourly delta with catchup off ends at now on a boundary (Airflow test_no_catchup_next_info_starts_at_current_time)', () => {
    const info = timetableFor({ kind: 'interval', everyMs: HOUR }).nextRunInfo(
      query({ earliest: utc('2021-09-04T00:00'), catchup: false, now: utc('2021-09-07T00:00') }),
    );
    expect(info).toEqual(interval('2021-09-06T23:00', '2021-09-07T00:00'));
  });

  it('a manual run covers the interval ending at the trigger time', () => {
    expect(timetableFor(every6h).manualRunInfo(utc('2024-01-02T10:00'))).toEqual({
      logicalDate: utc('2024-01-02T10:00'),
      dataIntervalStart: utc('2024-01-02T04:00'),
      dataIntervalEnd: utc('2024-01-02T10:00'),
      runAfter: utc('2024-01-02T10:00'),
    });
  });

  it('backfill slots step from the range start', () => {
    const slots = timetableFor({ kind: 'interval', everyMs: 15 * MINUTE }).slotsBetween(
      utc('2024-01-01T00:05'),
      utc('2024-01-01T00:35'),
    );
    expect(slots.map((s) => s.logicalDate)).toEqual([
      utc('2024-01-01T00:05'),
      utc('2024-01-01T00:20'),
      utc('2024-01-01T00:35'),
    ]);
  });
});

describe('@once and no schedule', () => {
  const once = timetableFor({ kind: 'once' });

  it('@once runs once at the start date, whatever catchup says, then never again', () => {
    const first = once.nextRunInfo(
      query({ earliest: utc('2024-01-05T10:00'), catchup: false, now: utc('2025-01-01T00:00') }),
    );
    expect(first).toEqual(exact('2024-01-05T10:00'));
    expect(
      once.nextRunInfo(
        query({
          lastAutomatedInterval: { start: utc('2024-01-05T10:00'), end: utc('2024-01-05T10:00') },
          earliest: utc('2024-01-05T10:00'),
        }),
      ),
    ).toBeNull();
  });

  it('@once without a start date, or with an end date before it, never runs', () => {
    expect(once.nextRunInfo(query({}))).toBeNull();
    expect(
      once.nextRunInfo(query({ earliest: utc('2024-01-05T00:00'), latest: utc('2024-01-04T00:00') })),
    ).toBeNull();
  });

  it('no schedule never runs, and its manual runs and backfills are zero-length or empty', () => {
    const none = timetableFor({ kind: 'none' });
    expect(none.nextRunInfo(query({ earliest: utc('2024-01-01T00:00'), catchup: false }))).toBeNull();
    expect(none.manualRunInfo(utc('2024-01-01T08:00'))).toEqual(exact('2024-01-01T08:00'));
    expect(none.slotsBetween(utc('2024-01-01T00:00'), utc('2024-12-31T00:00'))).toEqual([]);
  });
});

describe('slotsBetween (backfill, §9.4)', () => {
  it('includes slots exactly at both ends of the range', () => {
    const slots = cron('@daily').slotsBetween(utc('2024-01-01T00:00'), utc('2024-01-05T00:00'));
    expect(slots.map((s) => s.logicalDate)).toEqual([1, 2, 3, 4, 5].map((d) => utc(`2024-01-0${d}T00:00`)));
    expect(slots[4]).toEqual(interval('2024-01-05T00:00', '2024-01-06T00:00'));
  });

  it('aligns a range start between fire times to the next fire time', () => {
    const slots = cron('@daily').slotsBetween(utc('2024-01-01T00:01'), utc('2024-01-03T23:59'));
    expect(slots.map((s) => s.logicalDate)).toEqual([utc('2024-01-02T00:00'), utc('2024-01-03T00:00')]);
  });

  it('stops at the limit', () => {
    expect(cron('@hourly').slotsBetween(utc('2024-01-01T00:00'), utc('2025-01-01T00:00'), 3)).toHaveLength(3);
  });

  it('@monthly intervals follow the calendar (31, 29, 31, 30 days in early 2024)', () => {
    const slots = cron('@monthly').slotsBetween(utc('2024-01-01T00:00'), utc('2024-04-01T00:00'));
    expect(slots.map((s) => (s.dataIntervalEnd - s.dataIntervalStart) / DAY)).toEqual([31, 29, 31, 30]);
  });

  it('@weekly fires on Sundays at midnight', () => {
    const slots = cron('@weekly').slotsBetween(utc('2024-01-01T00:00'), utc('2024-01-31T00:00'));
    expect(slots.map((s) => new Date(s.logicalDate).toISOString().slice(0, 10))).toEqual([
      '2024-01-07',
      '2024-01-14',
      '2024-01-21',
      '2024-01-28',
    ]);
  });

  it('@yearly and the last day of the month (L) land on the right dates', () => {
    expect(
      cron('@yearly')
        .slotsBetween(utc('2023-06-01T00:00'), utc('2025-06-01T00:00'))
        .map((s) => s.logicalDate),
    ).toEqual([utc('2024-01-01T00:00'), utc('2025-01-01T00:00')]);
    expect(
      cron('0 12 L * *')
        .slotsBetween(utc('2024-01-15T00:00'), utc('2024-03-15T00:00'))
        .map((s) => s.logicalDate),
    ).toEqual([utc('2024-01-31T12:00'), utc('2024-02-29T12:00')]);
  });

  it('trigger style slots are fire times', () => {
    const slots = cron('0 9 * * 1-5', 'trigger').slotsBetween(
      utc('2024-01-05T00:00'),
      utc('2024-01-09T09:00'),
    );
    expect(slots).toEqual([exact('2024-01-05T09:00'), exact('2024-01-08T09:00'), exact('2024-01-09T09:00')]);
  });
});

describe('describe', () => {
  it.each([
    {
      schedule: { kind: 'cron', expression: '0 3 * * *', timezone: 'Europe/Paris', style: 'interval' },
      text: 'at 03:00 every day (Europe/Paris)',
    },
    {
      schedule: { kind: 'cron', expression: '0 0 * * 0', timezone: 'UTC', style: 'interval' },
      text: 'at 00:00 every Sunday (UTC)',
    },
    {
      schedule: { kind: 'cron', expression: '0 0 1 * *', timezone: 'UTC', style: 'interval' },
      text: 'at 00:00 on day 1 of every month (UTC)',
    },
    {
      schedule: { kind: 'cron', expression: '*/15 * * * *', timezone: 'UTC', style: 'trigger' },
      text: 'every 15 minutes (UTC, trigger style)',
    },
    {
      schedule: { kind: 'cron', expression: '0 9-17 * * 1-5', timezone: 'UTC', style: 'interval' },
      text: 'cron "0 9-17 * * 1-5" (UTC)',
    },
    { schedule: { kind: 'interval', everyMs: 90 * MINUTE }, text: 'every 1h30m' },
    { schedule: { kind: 'once' }, text: 'once, at the start date' },
    { schedule: { kind: 'none' }, text: 'not scheduled (manual runs only)' },
  ] as { schedule: ScheduleSpec; text: string }[])('$text', ({ schedule, text }) => {
    expect(timetableFor(schedule).describe()).toBe(text);
  });
});

// How fast these are is measured in bench/core-paths.ts (`npm run bench -- core`), not asserted here.
describe('timetables at volume', () => {
  it('enumerates 10,000 hourly slots across Sydney DST switches, strictly increasing and an hour apart', () => {
    const timetable = cron('@hourly', 'interval', 'Australia/Sydney');
    const slots = timetable.slotsBetween(utc('2031-01-01T00:00'), utc('2033-01-01T00:00'), 10_000);
    expect(slots).toHaveLength(10_000);
    const starts = slots.map((s) => s.logicalDate);
    expect(starts.every((t, i) => i === 0 || t - (starts[i - 1] ?? 0) === 60 * MINUTE)).toBe(true);
  });

  it('answers 10,000 nextRunInfo calls of a daily cron with catchup off, each a non-empty interval starting at its logical date', () => {
    const timetable = cron('30 2 * * *', 'interval', 'America/Chicago');
    for (let i = 0; i < 10_000; i++) {
      const now = utc('2024-01-01T00:00') + i * 7 * MINUTE;
      const info = timetable.nextRunInfo(query({ earliest: utc('2024-01-01T00:00'), catchup: false, now }));
      expect(info).not.toBeNull();
      expect(info?.logicalDate).toBe(info?.dataIntervalStart);
      expect(info?.dataIntervalEnd ?? 0).toBeGreaterThan(info?.dataIntervalStart ?? 0);
    }
  });
});
