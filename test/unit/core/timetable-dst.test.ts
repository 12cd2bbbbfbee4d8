/**
 * Timetables across DST switches (SEMANTICS.md §9.3). Expected instants are calendar facts; the
 * Zurich and Los Angeles cases are the ones Airflow's `tests/timetables/test_interval_timetable.py`
 * asserts (TestCronIntervalDst, TestCronIntervalDstNonTrivial, test_fold_scheduling).
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Interval, RunInfo, Timetable } from '#core/timetable.ts';
import { timetableFor } from '#core/timetable.ts';

const HOUR = 3_600_000;
const utc = (iso: string) => Date.parse(`${iso}Z`);
const local = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ');

function cron(expression: string, timezone: string, style: 'interval' | 'trigger' = 'interval'): Timetable {
  return timetableFor({ kind: 'cron', expression, timezone, style });
}

/** The intervals a catchup DAG gets from `earliest`, one nextRunInfo call after another. */
function intervalsFrom(timetable: Timetable, earliest: number, count: number): Interval[] {
  const out: Interval[] = [];
  let last: Interval | null = null;
  for (let i = 0; i < count; i++) {
    const info: RunInfo | null = timetable.nextRunInfo({
      lastAutomatedInterval: last,
      earliest,
      latest: null,
      catchup: true,
      now: utc('2030-01-01T00:00'),
    });
    if (!info) break;
    last = { start: info.dataIntervalStart, end: info.dataIntervalEnd };
    out.push(last);
  }
  return out;
}

const span = (i: Interval) => (i.end - i.start) / HOUR;

describe('cron timetable across DST (wall-clock hours)', () => {
  it('a daily schedule in America/New_York spans 23 h across spring DST', () => {
    // Prepare: clocks went from 02:00 EST to 03:00 EDT on 2024-03-10.
    const timetable = cron('@daily', 'America/New_York');
    // Act
    const [interval] = timetable.slotsBetween(utc('2024-03-10T05:00'), utc('2024-03-10T05:00'));
    // Assess
    expect(interval).toMatchObject({
      dataIntervalStart: utc('2024-03-10T05:00'),
      dataIntervalEnd: utc('2024-03-11T04:00'),
    });
  });

  it('a daily schedule in America/New_York spans 25 h across autumn DST', () => {
    const [interval] = cron('0 0 * * *', 'America/New_York').slotsBetween(
      utc('2024-11-03T04:00'),
      utc('2024-11-03T04:00'),
    );
    expect(interval).toMatchObject({
      dataIntervalStart: utc('2024-11-03T04:00'),
      dataIntervalEnd: utc('2024-11-04T05:00'),
    });
  });

  it('0 3 * * * stays at 03:00 local in Europe/Paris through both 2024 switches', () => {
    const timetable = cron('0 3 * * *', 'Europe/Paris');
    const march = timetable.slotsBetween(utc('2024-03-29T00:00'), utc('2024-04-02T00:00'));
    const october = timetable.slotsBetween(utc('2024-10-25T00:00'), utc('2024-10-29T00:00'));
    for (const slot of [...march, ...october]) {
      expect(local(slot.logicalDate, 'Europe/Paris')).toMatch(/ 03:00 /);
    }
    expect(march.map((s) => (s.dataIntervalEnd - s.dataIntervalStart) / HOUR)).toEqual([24, 23, 24, 24]);
    expect(october.map((s) => (s.dataIntervalEnd - s.dataIntervalStart) / HOUR)).toEqual([24, 25, 24, 24]);
  });

  it('0 2 * * * on the spring-forward day fires at 03:00 local', () => {
    const [skipped] = cron('0 2 * * *', 'America/New_York').slotsBetween(
      utc('2024-03-10T00:00'),
      utc('2024-03-10T12:00'),
    );
    expect(skipped?.logicalDate).toBe(utc('2024-03-10T07:00'));
    expect(local(utc('2024-03-10T07:00'), 'America/New_York')).toBe('2024-03-10 03:00 -04:00');
  });

  it('30 2 * * * on the spring-forward day fires at 03:00 local, the first instant after the gap', () => {
    const slots = cron('30 2 * * *', 'America/New_York').slotsBetween(
      utc('2024-03-09T00:00'),
      utc('2024-03-11T12:00'),
    );
    expect(slots.map((s) => local(s.logicalDate, 'America/New_York'))).toEqual([
      '2024-03-09 02:30 -05:00',
      '2024-03-10 03:00 -04:00',
      '2024-03-11 02:30 -04:00',
    ]);
  });

  it('0 1 * * * in Europe/London on the autumn day fires at the second 01:00 (fold=1)', () => {
    // 01:00 happened at 00:00 UTC (BST) and again at 01:00 UTC (GMT) on 2024-10-27.
    const slots = cron('0 1 * * *', 'Europe/London').slotsBetween(
      utc('2024-10-26T00:00'),
      utc('2024-10-28T12:00'),
    );
    expect(slots.map((s) => s.logicalDate)).toEqual([
      utc('2024-10-26T00:00'),
      utc('2024-10-27T01:00'),
      utc('2024-10-28T01:00'),
    ]);
    expect(span({ start: slots[0]?.dataIntervalStart ?? 0, end: slots[0]?.dataIntervalEnd ?? 0 })).toBe(25);
  });

  it('finds the second pass of a fold when asked from inside the first pass', () => {
    // 00:30 UTC on 2024-10-27 is 01:30 BST; the 01:45 fire time is still ahead, at 01:45 GMT.
    const [slot] = cron('45 1 * * *', 'Europe/London').slotsBetween(
      utc('2024-10-27T00:30'),
      utc('2024-10-27T23:00'),
    );
    expect(slot?.logicalDate).toBe(utc('2024-10-27T01:45'));
  });
});

describe('cron timetable across DST (every-hour crons)', () => {
  it('an hourly cron in Europe/London runs the repeated autumn hour twice', () => {
    const slots = cron('@hourly', 'Europe/London').slotsBetween(
      utc('2024-10-26T22:00'),
      utc('2024-10-27T03:00'),
    );
    expect(slots.map((s) => s.logicalDate)).toEqual(
      [22, 23, 24, 25, 26, 27].map((h) => utc('2024-10-26T00:00') + h * HOUR),
    );
    expect(slots.map((s) => local(s.logicalDate, 'Europe/London').slice(11, 16))).toEqual([
      '23:00',
      '00:00',
      '01:00',
      '01:00',
      '02:00',
      '03:00',
    ]);
    for (const slot of slots) expect(slot.dataIntervalEnd - slot.dataIntervalStart).toBe(HOUR);
  });

  it('an hourly cron in Europe/London skips no UTC hour at spring-forward', () => {
    const slots = cron('0 * * * *', 'Europe/London').slotsBetween(
      utc('2024-03-30T23:00'),
      utc('2024-03-31T03:00'),
    );
    expect(slots.map((s) => s.logicalDate)).toEqual(
      [23, 24, 25, 26, 27].map((h) => utc('2024-03-30T00:00') + h * HOUR),
    );
  });

  it('*/30 in Europe/Zurich steps through the 2023 fold half an hour at a time (Airflow test_fold_scheduling)', () => {
    const intervals = intervalsFrom(cron('*/30 * * * *', 'Europe/Zurich'), utc('2023-10-28T23:30'), 6);
    expect(intervals.map((i) => new Date(i.end).toISOString().slice(11, 16))).toEqual([
      '00:00',
      '00:30',
      '01:00',
      '01:30',
      '02:00',
      '02:30',
    ]);
    expect(intervals[0]?.start).toBe(utc('2023-10-28T23:30'));
  });
});

describe('cron timetable across DST (Airflow TestCronIntervalDst, Europe/Zurich 2023)', () => {
  it.each([
    {
      case: 'entering, exact (0 3)',
      expression: '0 3 * * *',
      earliest: '2023-03-24T00:00',
      ends: ['2023-03-25T02:00', '2023-03-26T01:00', '2023-03-27T01:00'],
    },
    {
      case: 'entering, skipped 02:00 (0 2)',
      expression: '0 2 * * *',
      earliest: '2023-03-24T00:00',
      ends: ['2023-03-25T01:00', '2023-03-26T01:00', '2023-03-27T00:00'],
    },
    {
      case: 'exiting, exact (0 3)',
      expression: '0 3 * * *',
      earliest: '2023-10-27T00:00',
      ends: ['2023-10-28T01:00', '2023-10-29T02:00', '2023-10-30T02:00'],
    },
    {
      case: 'exiting, folded 02:00 (0 2)',
      expression: '0 2 * * *',
      earliest: '2023-10-27T00:00',
      ends: ['2023-10-28T00:00', '2023-10-29T01:00', '2023-10-30T01:00'],
    },
  ])('$case', ({ expression, earliest, ends }) => {
    const intervals = intervalsFrom(cron(expression, 'Europe/Zurich'), utc(earliest), 3);
    expect(intervals.map((i) => i.end)).toEqual(ends.map(utc));
    expect(intervals[1]?.start).toBe(intervals[0]?.end);
  });

  it('0 7-8 in America/Los_Angeles: the interval holding the 2020 switch ends an hour early', () => {
    const intervals = intervalsFrom(cron('0 7-8 * * *', 'America/Los_Angeles'), utc('2020-03-07T00:00'), 3);
    expect(intervals).toEqual([
      { start: utc('2020-03-07T15:00'), end: utc('2020-03-07T16:00') },
      { start: utc('2020-03-07T16:00'), end: utc('2020-03-08T14:00') },
      { start: utc('2020-03-08T14:00'), end: utc('2020-03-08T15:00') },
    ]);
  });
});
