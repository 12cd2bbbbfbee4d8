import { describe, expect, it } from 'vitest';
import { dag } from '#sdk/index.ts';
import { runSimulation } from '#simulator/engine.ts';
import type { Scenario } from '#simulator/scenario.ts';

const noop = async () => null;

const etl = dag('etl', { schedule: '@hourly', startDate: '2026-01-01', maxActiveRuns: 2 }, (d) => {
  const parts = Array.from({ length: 6 }, (_, i) =>
    d.task(`part${i}`, { pool: 'small', priorityWeight: i }, noop),
  );
  d.chain(d.task('extract', noop), parts, d.task('load', { retries: 1, retryDelay: '1m' }, noop));
});

const scenario: Scenario = {
  seed: 11,
  start: '2026-01-05T00:00:00Z',
  end: '2026-01-05T06:00:00Z',
  pools: [{ name: 'small', slots: 2 }],
  tasks: { '*': { duration: '3m', jitter: 0.4 }, 'etl.load': { duration: '1m', failRate: 0.3 } },
  backfills: [
    {
      at: '2026-01-05T01:00:00Z',
      dagId: 'etl',
      from: '2026-01-04T20:00:00Z',
      to: '2026-01-04T23:00:00Z',
      maxActiveRuns: 1,
    },
  ],
  poolChanges: [{ at: '2026-01-05T03:00:00Z', name: 'small', slots: 4 }],
};

describe('runSimulation', () => {
  it('compiles DAGs over the scenario’s DAG defaults, their own options winning', async () => {
    const wide = dag('wide', { schedule: '@daily', startDate: '2026-01-01' }, (d) => {
      for (let i = 0; i < 6; i += 1) d.task(`t${i}`, noop);
      d.task('flaky', { retryDelay: '1m' }, noop);
    });
    const report = await runSimulation({
      dags: [wide],
      scenario: {
        start: '2026-01-05T00:00:00Z',
        end: '2026-01-05T02:00:00Z',
        settings: { dagDefaults: { maxActiveTasks: 2, retries: 1, retryDelay: '30m' } },
        tasks: { '*': { duration: '5m' }, 'wide.flaky': { failTries: [1] } },
      },
    });
    expect(report.violations).toEqual([]);
    expect(report.peaks.dags.wide).toMatchObject({ peak: 2, limit: 2 });
    // One retry from the defaults, after the task's own delay (1m), not the default's (30m).
    const flaky = report.tries.filter((t) => t.taskId === 'flaky');
    expect(flaky.map((t) => [t.tryNumber, t.state])).toEqual([
      [1, 'up_for_retry'],
      [2, 'success'],
    ]);
    const waited = Date.parse(flaky[1]!.startedAt!) - Date.parse(flaky[0]!.endedAt!);
    expect(waited).toBeGreaterThanOrEqual(60_000);
    expect(waited).toBeLessThan(30 * 60_000);
  });

  it('gives the same report for the same scenario and seed', async () => {
    const a = await runSimulation({ dags: [etl], scenario });
    const b = await runSimulation({ dags: [etl], scenario });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = await runSimulation({ dags: [etl], scenario: { ...scenario, seed: 12 } });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('lists tries by their first state change, then by DAG, run, task and try number', async () => {
    const report = await runSimulation({ dags: [etl], scenario });
    const keyOf = (t: (typeof report.tries)[number]) =>
      [Date.parse(t.transitions[0]!.at), t.dagId, t.runId, t.taskId, t.tryNumber] as const;
    const before = (a: ReturnType<typeof keyOf>, b: ReturnType<typeof keyOf>) =>
      a[0] - b[0] ||
      a[1].localeCompare(b[1]) ||
      a[2].localeCompare(b[2]) ||
      a[3].localeCompare(b[3]) ||
      a[4] - b[4];
    const keys = report.tries.map(keyOf);
    expect(keys.length).toBeGreaterThan(50);
    for (let i = 1; i < keys.length; i += 1) expect(before(keys[i - 1]!, keys[i]!)).toBeLessThan(0);
  });

  it('creates scheduled and backfill runs, keeps the pool within its size over time, and never exceeds a limit', async () => {
    const report = await runSimulation({ dags: [etl], scenario });
    expect(report.violations).toEqual([]);
    // 20:00–23:00 is four slots, but 23:00 already has its scheduled run (the latest interval at the
    // start, catchup being off), so the backfill skips it.
    expect(
      report.runs.filter((r) => r.runType === 'backfill').map((r) => r.logicalDate.slice(11, 16)),
    ).toEqual(['20:00', '21:00', '22:00']);
    expect(report.runs.filter((r) => r.runType === 'scheduled').length).toBeGreaterThanOrEqual(6);
    // Before the resize at 03:00 the pool never holds more than 2 slots.
    const before = Date.parse('2026-01-05T03:00:00Z');
    const held = report.tries
      .filter((t) => t.pool === 'small' && t.queuedAt !== null && Date.parse(t.queuedAt) < before)
      .map((t) => [Date.parse(t.queuedAt!), Date.parse(t.endedAt ?? scenario.end)] as const);
    for (const [at] of held)
      expect(held.filter(([from, to]) => from <= at && at < to).length).toBeLessThanOrEqual(2);
    expect(report.peaks.pools.small?.peak).toBeGreaterThan(2);
  });

  it('claims higher priority weights first within a run and says why the rest wait', async () => {
    const report = await runSimulation({ dags: [etl], scenario });
    const firstRun = report.runs.find((r) => r.runType === 'scheduled')!;
    const parts = report.tries
      .filter((t) => t.runId === firstRun.runId && t.taskId.startsWith('part') && t.tryNumber === 1)
      .sort((a, b) => (a.claimOrder ?? 0) - (b.claimOrder ?? 0));
    expect(parts.map((t) => t.taskId)).toEqual(['part5', 'part4', 'part3', 'part2', 'part1', 'part0']);
    expect(parts.at(-1)?.waits.some((w) => w.reason.kind === 'pool_full')).toBe(true);
  });
});
