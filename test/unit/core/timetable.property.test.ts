/**
 * Properties of cron timetables over random expressions, instants and zones:
 * - in UTC, the fire times equal cron-parser's own iterator (the fast stepping agrees with the library);
 * - in any zone, intervals are contiguous and strictly increasing, and each fire time read on the
 *   local wall clock matches the cron, unless it is the first instant after a spring-forward gap.
 */
import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { timetableFor } from '#core/timetable.ts';

const MINUTE = 60_000;
const FROM = Date.parse('2020-01-01T00:00:00Z');
const TO = Date.parse('2032-01-01T00:00:00Z');

const expression = fc
  .tuple(
    fc.constantFrom('*', '0', '*/15', '5,35', '10-20', '59'),
    fc.constantFrom('*', '0', '*/6', '9-17', '2', '1,13', '23'),
    fc.constantFrom('*', '1', '15', 'L', '1,15', '*/10', '29', '31'),
    fc.constantFrom('*', '1', '2', '*/3', '6-8', 'DEC'),
    fc.constantFrom('*', '0', '1-5', '5L', '1#2', 'MON', '6,0'),
  )
  .map((fields) => fields.join(' '))
  .filter((expr) => {
    try {
      CronExpressionParser.parse(expr); // e.g. "* * 31 2 *" never fires and is rejected
      return true;
    } catch {
      return false;
    }
  });

const instant = fc.integer({ min: FROM / MINUTE, max: TO / MINUTE }).map((m) => m * MINUTE);

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Europe/Zurich',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Sao_Paulo',
];

describe('cron timetable properties', () => {
  it('in UTC, fire times are exactly cron-parser’s', () => {
    fc.assert(
      fc.property(expression, instant, (expr, start) => {
        const slots = timetableFor({
          kind: 'cron',
          expression: expr,
          timezone: 'UTC',
          style: 'trigger',
        }).slotsBetween(start, start + 40 * 366 * 86_400_000, 12);
        const reference = CronExpressionParser.parse(expr, {
          tz: 'UTC',
          currentDate: new Date(start - 1000),
        });
        const expected = Array.from({ length: slots.length }, () => reference.next().getTime());
        expect(slots.map((s) => s.logicalDate)).toEqual(expected);
        expect(slots.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it('in any zone, intervals are contiguous and fire on the wall clock or right after a gap', () => {
    fc.assert(
      fc.property(expression, instant, fc.constantFrom(...ZONES), (expr, start, zone) => {
        const slots = timetableFor({
          kind: 'cron',
          expression: expr,
          timezone: zone,
          style: 'interval',
        }).slotsBetween(start, start + 3 * 366 * 86_400_000, 40);
        const reference = CronExpressionParser.parse(expr, { tz: 'UTC' });
        const iana = IANAZone.create(zone);
        const offset = (t: number) => iana.offset(t) * MINUTE;
        const everyHour = reference.fields.hour.values.length === 24;
        for (const [i, slot] of slots.entries()) {
          expect(slot.dataIntervalEnd).toBeGreaterThan(slot.dataIntervalStart);
          if (i > 0) expect(slot.dataIntervalStart).toBe(slots[i - 1]?.dataIntervalEnd);
          const wall = new Date(slot.logicalDate + offset(slot.logicalDate));
          const afterGap = offset(slot.logicalDate - 1) < offset(slot.logicalDate);
          if (!everyHour && !afterGap) expect(reference.includesDate(wall)).toBe(true);
        }
      }),
      { numRuns: 120 },
    );
  });
});
