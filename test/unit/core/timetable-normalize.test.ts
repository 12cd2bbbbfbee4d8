/** What a DAG author may write as `schedule`, and the message for what they may not. */
import { describe, expect, it } from 'vitest';
import { isValidTimezone, normalizeSchedule, timetableFor } from '#core/timetable.ts';

describe('normalizeSchedule', () => {
  it.each([
    { input: null, schedule: { kind: 'none' } },
    { input: undefined, schedule: { kind: 'none' } },
    { input: 'none', schedule: { kind: 'none' } },
    { input: '@once', schedule: { kind: 'once' } },
    { input: { every: '15m' }, schedule: { kind: 'interval', everyMs: 900_000 } },
    { input: { every: 3_600_000 }, schedule: { kind: 'interval', everyMs: 3_600_000 } },
  ])('accepts $input', ({ input, schedule }) => {
    expect(normalizeSchedule(input, 'Europe/Paris', 'interval')).toEqual({ ok: true, schedule });
  });

  it.each([
    { input: '@hourly', expression: '0 * * * *' },
    { input: '@daily', expression: '0 0 * * *' },
    { input: '@midnight', expression: '0 0 * * *' },
    { input: '@weekly', expression: '0 0 * * 0' },
    { input: '@monthly', expression: '0 0 1 * *' },
    { input: '@yearly', expression: '0 0 1 1 *' },
    { input: '@annually', expression: '0 0 1 1 *' },
    { input: '  30   3 * *  MON-FRI ', expression: '30 3 * * MON-FRI' },
  ])('turns $input into the cron "$expression" in the DAG timezone', ({ input, expression }) => {
    expect(normalizeSchedule(input, 'Europe/Paris', 'trigger')).toEqual({
      ok: true,
      schedule: { kind: 'cron', expression, timezone: 'Europe/Paris', style: 'trigger' },
    });
  });

  it.each([
    {
      input: '0 25 * * *',
      message: '"0 25 * * *" is not a valid cron expression: hour 25 out of range 0-23',
    },
    {
      input: '61 * * * *',
      message: '"61 * * * *" is not a valid cron expression: minute 61 out of range 0-59',
    },
    {
      input: '0 0 * 13 *',
      message: '"0 0 * 13 *" is not a valid cron expression: month 13 out of range 1-12',
    },
    {
      input: '0 0 * * 8',
      message: '"0 0 * * 8" is not a valid cron expression: day of week 8 out of range 0-7',
    },
    {
      input: '0 0 31 2 *',
      message:
        '"0 0 31 2 *" is not a valid cron expression: that day of month never occurs in the given month',
    },
    { input: '0 0 0 * * *', message: 'got 6; seconds are not supported' },
    { input: '* * * *', message: 'expected 5 fields (minute hour day-of-month month day-of-week), got 4' },
    { input: '', message: 'got 0' },
    { input: 'H 3 * * *', message: 'minute "H": H (hashed values) is not supported' },
    { input: '0 0 * * foo', message: 'day of week "foo"' },
    {
      input: '@every5m',
      message:
        '"@every5m" is not a known preset (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, @once)',
    },
    { input: '@continuous', message: '"@continuous" is not supported' },
    { input: { every: 0 }, message: 'every: must be longer than 0 ms' },
    { input: { every: 'soon' }, message: 'every: "soon" is not a duration' },
    {
      input: { every: '1h', at: '03:00' },
      message: 'expected { every: <duration> }, got keys ["every","at"]',
    },
    { input: 42, message: 'got number' },
    { input: ['0 0 * * *'], message: 'got an array' },
  ])('rejects $input naming what is wrong', ({ input, message }) => {
    const result = normalizeSchedule(input, 'UTC', 'interval');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it('rejects a timezone that is not an IANA name', () => {
    expect(normalizeSchedule('@daily', 'Mars/Olympus_Mons', 'interval')).toEqual({
      ok: false,
      message: 'timezone "Mars/Olympus_Mons" is not a valid IANA timezone (e.g. Europe/Paris, UTC)',
    });
  });

  it('rejects a style other than interval or trigger', () => {
    const result = normalizeSchedule('@daily', 'UTC', 'data' as 'interval');
    expect(result).toEqual({ ok: false, message: `style must be 'interval' or 'trigger', got "data"` });
  });
});

describe('isValidTimezone', () => {
  it.each([
    { zone: 'Europe/Paris', valid: true },
    { zone: 'UTC', valid: true },
    { zone: 'America/Argentina/Buenos_Aires', valid: true },
    { zone: 'Mars/Olympus_Mons', valid: false },
    { zone: '', valid: false },
    { zone: ' Europe/Paris', valid: false },
  ])('$zone → $valid', ({ zone, valid }) => {
    expect(isValidTimezone(zone)).toBe(valid);
  });
});

describe('timetableFor', () => {
  it('throws a user error naming the schedule for an invalid expression', () => {
    expect(() =>
      timetableFor({ kind: 'cron', expression: '0 25 * * *', timezone: 'UTC', style: 'interval' }),
    ).toThrow(/schedule: "0 25 \* \* \*" is not a valid cron expression: hour 25/);
  });

  it('throws a user error naming the timezone for an unknown zone', () => {
    expect(() =>
      timetableFor({ kind: 'cron', expression: '@daily', timezone: 'Nowhere/Atlantis', style: 'interval' }),
    ).toThrow(/timezone: "Nowhere\/Atlantis"/);
  });
});
