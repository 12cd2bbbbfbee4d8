import { describe, expect, it } from 'vitest';
import { planBackfill } from '#core/backfill.ts';
import type { DagRun } from '#core/model.ts';
import type { RunInfo } from '#core/timetable.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function slot(i: number): RunInfo {
  const start = T0 + i * DAY;
  return {
    logicalDate: start,
    dataIntervalStart: start,
    dataIntervalEnd: start + DAY,
    runAfter: start + DAY,
  };
}

function run(i: number, state: DagRun['state']): DagRun {
  const s = slot(i);
  return {
    dagId: 'd',
    runId: `scheduled__${i}`,
    runType: 'scheduled',
    state,
    logicalDate: s.logicalDate,
    dataIntervalStart: s.dataIntervalStart,
    dataIntervalEnd: s.dataIntervalEnd,
    runAfter: s.runAfter,
    dagVersion: 'v',
    conf: {},
    backfillId: null,
    backfillOrdinal: null,
    createdAt: s.runAfter,
    startedAt: null,
    endedAt: null,
    clearNumber: 0,
    note: null,
  };
}

const slots = [0, 1, 2, 3].map(slot);
const existing = new Map([
  [slot(0).logicalDate, run(0, 'success')],
  [slot(1).logicalDate, run(1, 'failed')],
  [slot(2).logicalDate, run(2, 'running')],
]);

describe('planBackfill', () => {
  it.each([
    { behavior: 'none' as const, actions: ['skip', 'skip', 'skip', 'create'] },
    { behavior: 'failed' as const, actions: ['skip', 'clear', 'skip', 'create'] },
    { behavior: 'completed' as const, actions: ['clear', 'clear', 'skip', 'create'] },
  ])(
    'reprocess $behavior treats success, failed, running and missing runs as $actions',
    ({ behavior, actions }) => {
      // Act
      const plan = planBackfill({
        slots,
        existing,
        reprocessBehavior: behavior,
        runBackwards: false,
        now: T0 + 10 * DAY,
      });

      // Assess
      expect(plan.map((p) => p.action)).toEqual(actions);
      expect(plan[2]?.reason).toBe('in flight');
    },
  );

  it('says why a completed run is not re-run by default', () => {
    const plan = planBackfill({
      slots,
      existing,
      reprocessBehavior: 'none',
      runBackwards: false,
      now: T0 + 10 * DAY,
    });
    expect(plan[0]?.reason).toBe('already exists');
  });

  it('leaves out intervals that have not ended yet', () => {
    // now = end of slot 1: slots 0 and 1 have ended, 2 and 3 have not
    const plan = planBackfill({
      slots,
      existing: new Map(),
      reprocessBehavior: 'none',
      runBackwards: false,
      now: T0 + 2 * DAY,
    });
    expect(plan.map((p) => p.info.logicalDate)).toEqual([slot(0).logicalDate, slot(1).logicalDate]);
  });

  it('numbers runs newest first when running backwards', () => {
    const plan = planBackfill({
      slots,
      existing: new Map(),
      reprocessBehavior: 'none',
      runBackwards: true,
      now: T0 + 10 * DAY,
    });
    expect(plan.map((p) => [p.ordinal, p.info.logicalDate])).toEqual([
      [1, slot(3).logicalDate],
      [2, slot(2).logicalDate],
      [3, slot(1).logicalDate],
      [4, slot(0).logicalDate],
    ]);
  });
});
